/**
 * Neutron's policy rules as route policies: reader reads, member writes, admin for quotas (the
 * secure-RBAC defaults), each named as Neutron names it and refused as Neutron refuses it: 403
 * `PolicyNotAuthorized`, "(rule:create_network) is disallowed by policy". Which project's resources
 * a caller may see or change, and which attributes only an admin sets, the network role decides.
 */
import { forbiddenBy } from '../../../protocols/network/errors.js';
import type { PolicyLevel, RoutePolicy } from '../context.js';

const at = (level: PolicyLevel) => (rule: string): RoutePolicy => ({ level, rule, denied: () => forbiddenBy(rule) });

export const netReader = at('reader');
export const netMember = at('member');
export const netAdmin = at('admin');
