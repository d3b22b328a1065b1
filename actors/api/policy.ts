/**
 * Policy, in the shape of OpenStack's secure-RBAC defaults: `reader` may read, `member` may also
 * change its project's resources, `admin` may do anything (other projects, services, hypervisors,
 * flavors, quotas). Each route names its level and rule; a caller below it gets Nova's 403
 * `Policy doesn't allow <rule> to be performed.`. Project scoping (a member sees only its project's
 * servers, and another project's server is a 404, not a 403) is applied by the handlers.
 */
import type { AuthContext, RoutePolicy } from './context.js';
import { forbidden } from './faults.js';

export function canWrite(a: AuthContext): boolean {
  return a.isAdmin || a.roles.includes('member');
}

export function authorize(a: AuthContext, p: RoutePolicy): void {
  const allowed =
    p.level === 'public' ||
    (p.level === 'reader' && (a.isAdmin || a.roles.includes('reader'))) ||
    (p.level === 'member' && canWrite(a)) ||
    (p.level === 'admin' && a.isAdmin);
  if (!allowed) throw p.denied?.() ?? forbidden(`Policy doesn't allow ${p.rule} to be performed.`);
}

/** True when the caller may see resources of `projectId` (own project, or admin). */
export function sees(a: AuthContext, projectId: string | null): boolean {
  return a.isAdmin || projectId === a.projectId;
}

export const reader = (rule: string): RoutePolicy => ({ level: 'reader', rule });
export const member = (rule: string): RoutePolicy => ({ level: 'member', rule });
export const admin = (rule: string): RoutePolicy => ({ level: 'admin', rule });
export const open: RoutePolicy = { level: 'public', rule: 'public' };
