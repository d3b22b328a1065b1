/**
 * Keystone's identity records in PostgreSQL (api-owned tables): projects, users and role
 * assignments, all in the one `default` domain. Ids are 32 hex characters, as Keystone's.
 */
import { randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { ConflictError, NotFoundError } from '../../../protocols/errors.js';
import { Project, RoleAssignment, User, type ProjectRow, type UserRow } from '../../../runtime/db/entities/index.js';
import type { Orm } from '../../../runtime/db/orm.js';
import type { Clock } from '../../../runtime/clock.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { effectiveRoles, type RoleName } from './roles.js';

export const DEFAULT_DOMAIN = { id: 'default', name: 'Default' } as const;

export const newId = (): string => randomUUID().replace(/-/g, '');

export class IdentityStore {
  constructor(
    private readonly orm: Orm,
    private readonly clock: Clock,
  ) {}

  private get em() {
    return this.orm.em.fork();
  }

  async project(id: string): Promise<ProjectRow | null> {
    return this.em.findOne(Project, { id });
  }

  async projectByName(name: string, domainId: string = DEFAULT_DOMAIN.id): Promise<ProjectRow | null> {
    return this.em.findOne(Project, { name, domainId });
  }

  async projects(filter: { name?: string } = {}): Promise<ProjectRow[]> {
    return this.em.find(Project, filter.name !== undefined ? { name: filter.name } : {}, { orderBy: { name: 'asc' } });
  }

  async createProject(p: { name: string; description?: string; enabled?: boolean }): Promise<ProjectRow> {
    const row: ProjectRow = {
      id: newId(), name: p.name, domainId: DEFAULT_DOMAIN.id, description: p.description ?? '', enabled: p.enabled ?? true,
      createdAt: new Date(this.clock.now()),
    };
    await this.insertUnique(Project, row, `Conflict occurred attempting to store project - Duplicate entry found with name ${p.name} at domain ID default.`);
    return row;
  }

  async user(id: string): Promise<UserRow | null> {
    return this.em.findOne(User, { id });
  }

  async userByName(name: string, domainId: string = DEFAULT_DOMAIN.id): Promise<UserRow | null> {
    return this.em.findOne(User, { name, domainId });
  }

  async users(filter: { name?: string } = {}): Promise<UserRow[]> {
    return this.em.find(User, filter.name !== undefined ? { name: filter.name } : {}, { orderBy: { name: 'asc' } });
  }

  async createUser(u: { name: string; password: string; defaultProjectId?: string | null; enabled?: boolean }): Promise<UserRow> {
    const row: UserRow = {
      id: newId(), name: u.name, domainId: DEFAULT_DOMAIN.id, passwordHash: await hashPassword(u.password),
      defaultProjectId: u.defaultProjectId ?? null, enabled: u.enabled ?? true, createdAt: new Date(this.clock.now()),
    };
    await this.insertUnique(User, row, `Conflict occurred attempting to store user - Duplicate entry found with name ${u.name} at domain ID default.`);
    return row;
  }

  async setPassword(userId: string, password: string): Promise<void> {
    const n = await this.em.nativeUpdate(User, { id: userId }, { passwordHash: await hashPassword(password) });
    if (n === 0) throw new NotFoundError(`Could not find user: ${userId}.`);
  }

  /** True when the password matches and the user is enabled. */
  async checkPassword(user: UserRow, password: string): Promise<boolean> {
    return user.enabled && (await verifyPassword(password, user.passwordHash));
  }

  async grant(userId: string, projectId: string, role: RoleName): Promise<void> {
    const knex = this.orm.em.getConnection().getKnex();
    await knex.raw('insert into keystone_role_assignments (user_id, project_id, role) values (?, ?, ?) on conflict do nothing', [userId, projectId, role]);
  }

  async revoke(userId: string, projectId: string, role: RoleName): Promise<boolean> {
    return (await this.em.nativeDelete(RoleAssignment, { userId, projectId, role })) > 0;
  }

  /** The roles the user holds on the project, with their implied roles. */
  async rolesOn(userId: string, projectId: string): Promise<RoleName[]> {
    const rows = await this.em.find(RoleAssignment, { userId, projectId });
    return effectiveRoles(rows.map((r) => r.role));
  }

  /** Assigned (not implied) roles, for `GET /v3/role_assignments`. */
  async assignments(filter: { userId?: string; projectId?: string }): Promise<{ userId: string; projectId: string; role: string }[]> {
    const where: Record<string, string> = {};
    if (filter.userId !== undefined) where.userId = filter.userId;
    if (filter.projectId !== undefined) where.projectId = filter.projectId;
    return this.em.find(RoleAssignment, where, { orderBy: { userId: 'asc', projectId: 'asc', role: 'asc' } });
  }

  /** Projects on which the user holds any role. */
  async projectsOf(userId: string): Promise<ProjectRow[]> {
    const ids = [...new Set((await this.em.find(RoleAssignment, { userId })).map((r) => r.projectId))];
    return ids.length === 0 ? [] : this.em.find(Project, { id: { $in: ids } }, { orderBy: { name: 'asc' } });
  }

  private async insertUnique<T extends object>(entity: typeof Project | typeof User, row: T, conflict: string): Promise<void> {
    try {
      await this.em.insert(entity as never, row as never);
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw new ConflictError(conflict);
      throw err;
    }
  }
}
