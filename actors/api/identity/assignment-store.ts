/**
 * Role assignments: a user or a group holds a role on a project, a domain or the system (target
 * id `all`, Keystone's). A user's roles on a target are its own plus its groups'.
 */
import { Assignment, GroupMember, type AssignmentRow, type AssignmentType } from '../../../runtime/db/entities/index.js';
import type { Orm } from '../../../runtime/db/orm.js';

export const SYSTEM_TARGET = 'all';

export type Actor = { kind: 'User' | 'Group'; id: string };
export type Target = { kind: 'Project' | 'Domain' | 'System'; id: string };

export const assignmentType = (a: Actor, t: Target): AssignmentType => `${a.kind}${t.kind}` as AssignmentType;

export interface AssignmentFilter {
  userId?: string;
  groupId?: string;
  projectId?: string;
  domainId?: string;
  system?: boolean;
  roleId?: string;
}

export class AssignmentStore {
  constructor(private readonly orm: Orm) {}

  private get em() {
    return this.orm.em.fork();
  }

  async grant(a: Actor, t: Target, roleId: string): Promise<void> {
    const knex = this.orm.em.getConnection().getKnex();
    await knex.raw('insert into keystone_assignments (type, actor_id, target_id, role_id) values (?, ?, ?, ?) on conflict do nothing', [assignmentType(a, t), a.id, t.id, roleId]);
  }

  async revoke(a: Actor, t: Target, roleId: string): Promise<boolean> {
    return (await this.em.nativeDelete(Assignment, { type: assignmentType(a, t), actorId: a.id, targetId: t.id, roleId })) > 0;
  }

  async held(a: Actor, t: Target, roleId: string): Promise<boolean> {
    return (await this.em.count(Assignment, { type: assignmentType(a, t), actorId: a.id, targetId: t.id, roleId })) > 0;
  }

  /** The groups the user belongs to. */
  async groupsOf(userId: string): Promise<string[]> {
    return (await this.em.find(GroupMember, { userId })).map((m) => m.groupId);
  }

  /** Role ids the user holds on the target, directly or through a group (not expanded). */
  async roleIdsOn(userId: string, t: Target): Promise<string[]> {
    const actors = [userId, ...(await this.groupsOf(userId))];
    const rows = await this.em.find(Assignment, { actorId: { $in: actors }, targetId: t.id, type: { $in: [`User${t.kind}`, `Group${t.kind}`] } });
    return [...new Set(rows.map((r) => r.roleId))];
  }

  /** Assignments as stored, narrowed by the filter. */
  async list(f: AssignmentFilter): Promise<AssignmentRow[]> {
    const where: Record<string, unknown> = {};
    const actors = [f.userId, f.groupId].filter((x): x is string => x !== undefined);
    if (actors.length === 2) return [];
    if (actors.length === 1) where.actorId = actors[0];
    if (f.userId !== undefined) where.type = { $like: 'User%' };
    if (f.groupId !== undefined) where.type = { $like: 'Group%' };
    const targets: [string, string][] = [];
    if (f.projectId !== undefined) targets.push(['Project', f.projectId]);
    if (f.domainId !== undefined) targets.push(['Domain', f.domainId]);
    if (f.system) targets.push(['System', SYSTEM_TARGET]);
    if (targets.length > 1) return [];
    const [tk, tid] = targets[0] ?? [];
    if (tid !== undefined) where.targetId = tid;
    if (f.roleId !== undefined) where.roleId = f.roleId;
    const rows = await this.em.find(Assignment, where, { orderBy: { type: 'asc', actorId: 'asc', targetId: 'asc', roleId: 'asc' } });
    return tk === undefined ? rows : rows.filter((r) => r.type.endsWith(tk));
  }

  /** Projects (or domains) on which the user holds a role, directly or through a group. */
  async targetIdsOf(userId: string, kind: 'Project' | 'Domain'): Promise<string[]> {
    const actors = [userId, ...(await this.groupsOf(userId))];
    const rows = await this.em.find(Assignment, { actorId: { $in: actors }, type: { $in: [`User${kind}`, `Group${kind}`] } });
    return [...new Set(rows.map((r) => r.targetId))];
  }
}
