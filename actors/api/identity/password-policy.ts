/**
 * Keystone's `[security_compliance]` password rules, as far as novact keeps them: a minimum length.
 * A password that breaks them is Keystone's 400 `PasswordRequirementsValidationError`.
 */
import { badRequest } from '../faults.js';

export interface PasswordPolicy {
  minLength: number;
}

export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = { minLength: 8 };

export function checkPasswordPolicy(password: string, policy: PasswordPolicy): void {
  // Counted in code points, as a person counts characters.
  if ([...password].length < policy.minLength) {
    throw badRequest(`The password does not match the requirements: at least ${policy.minLength} characters.`);
  }
}
