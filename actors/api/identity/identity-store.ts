/**
 * Keystone's identity records in PostgreSQL (api-owned tables): projects, users and role
 * assignments, all in the one `default` domain. Ids are 32 hex characters, as Keystone's.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { ConflictError, NotFoundError } from '../../../protocols/errors.js';
import { Project, RoleAssignment, Token, User, type ProjectRow, type UserRow } from '../../../runtime/db/entities/index.js';
import type { Orm } from '../../../runtime/db/orm.js';
import type { Clock } from '../../../runtime/clock.js';
import { scryptHasher, type PasswordHasher } from './passwords.js';
import { effectiveRoles, type RoleName } from './roles.js';

export const DEFAULT_DOMAIN = { id: 'default', name: 'Default' } as const;

export const newId = (): string => randomUUID().replace(/-/g, '');

export interface UserPatch {
  name?: string;
  enabled?: boolean;
  password?: string;
  description?: string | null;
  email?: string | null;
  defaultProjectId?: string | null;
}

export interface ProjectPatch {
  name?: string;
  enabled?: boolean;
  description?: string;
}

export class IdentityStore {
  /** A hash of a random password, verified against for unknown users (see `authenticate`). */
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly orm: Orm,
    private readonly clock: Clock,
    readonly hasher: PasswordHasher = scryptHasher(),
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

  async createUser(u: { name: string; password: string; defaultProjectId?: string | null; enabled?: boolean; description?: string | null; email?: string | null }): Promise<UserRow> {
    const row: UserRow = {
      id: newId(), name: u.name, domainId: DEFAULT_DOMAIN.id, passwordHash: await this.hasher.hash(u.password),
      defaultProjectId: u.defaultProjectId ?? null, enabled: u.enabled ?? true, description: u.description ?? null, email: u.email ?? null,
      createdAt: new Date(this.clock.now()),
    };
    await this.insertUnique(User, row, `Conflict occurred attempting to store user - Duplicate entry found with name ${u.name} at domain ID default.`);
    return row;
  }

  async setPassword(userId: string, password: string): Promise<void> {
    const n = await this.em.nativeUpdate(User, { id: userId }, { passwordHash: await this.hasher.hash(password) });
    if (n === 0) throw new NotFoundError(`Could not find user: ${userId}.`);
  }

  /**
   * True when the user exists, is enabled and the password matches. An unknown user is checked
   * against a dummy hash and a disabled one against its own, so every refusal costs one hash
   * verification: response time does not tell which users exist.
   */
  async authenticate(user: UserRow | null, password: string): Promise<boolean> {
    if (!user) {
      await this.hasher.verify(password, await this.dummy());
      return false;
    }
    const ok = await this.hasher.verify(password, user.passwordHash);
    if (ok && user.enabled && this.hasher.needsRehash(user.passwordHash)) await this.upgradeHash(user, password);
    return ok && user.enabled;
  }

  /**
   * A hash made at an older (or other) cost is replaced by one at the current cost, now that the
   * password is known. Conditional on the row still holding the hash just verified, so a password
   * changed meanwhile is never overwritten; tokens are untouched (the password did not change).
   * A failure only leaves the old hash, which still verifies: the next login tries again.
   */
  private async upgradeHash(user: UserRow, password: string): Promise<void> {
    try {
      const upgraded = await this.hasher.hash(password);
      await this.em.nativeUpdate(User, { id: user.id, passwordHash: user.passwordHash }, { passwordHash: upgraded });
    } catch {
      // Kept as is: see above.
    }
  }

  /** The updated user, or null when there is none. A new name that is taken is a ConflictError. */
  async updateUser(id: string, patch: UserPatch): Promise<UserRow | null> {
    const set: Partial<UserRow> = {};
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.enabled !== undefined) set.enabled = patch.enabled;
    if (patch.description !== undefined) set.description = patch.description;
    if (patch.email !== undefined) set.email = patch.email;
    if (patch.defaultProjectId !== undefined) set.defaultProjectId = patch.defaultProjectId;
    if (patch.password !== undefined) set.passwordHash = await this.hasher.hash(patch.password);
    if (Object.keys(set).length > 0) {
      try {
        await this.em.nativeUpdate(User, { id }, set);
      } catch (err) {
        if (err instanceof UniqueConstraintViolationException) throw new ConflictError(`Conflict occurred attempting to store user - Duplicate entry found with name ${patch.name} at domain ID default.`);
        throw err;
      }
    }
    return this.user(id);
  }

  /** Deletes the user with its role assignments and tokens; false when there was none. */
  async deleteUser(id: string): Promise<boolean> {
    return this.em.transactional(async (em) => {
      await em.nativeDelete(RoleAssignment, { userId: id });
      await em.nativeDelete(Token, { userId: id });
      return (await em.nativeDelete(User, { id })) > 0;
    });
  }

  async updateProject(id: string, patch: ProjectPatch): Promise<ProjectRow | null> {
    const set: Partial<ProjectRow> = {};
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.enabled !== undefined) set.enabled = patch.enabled;
    if (patch.description !== undefined) set.description = patch.description;
    if (Object.keys(set).length > 0) {
      try {
        await this.em.nativeUpdate(Project, { id }, set);
      } catch (err) {
        if (err instanceof UniqueConstraintViolationException) throw new ConflictError(`Conflict occurred attempting to store project - Duplicate entry found with name ${patch.name} at domain ID default.`);
        throw err;
      }
    }
    return this.project(id);
  }

  /** Deletes the project with its role assignments and the tokens scoped to it; false when there was none. */
  async deleteProject(id: string): Promise<boolean> {
    return this.em.transactional(async (em) => {
      await em.nativeDelete(RoleAssignment, { projectId: id });
      await em.nativeDelete(Token, { projectId: id });
      return (await em.nativeDelete(Project, { id })) > 0;
    });
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= this.hasher.hash(randomBytes(16).toString('base64url'));
    return this.dummyHash;
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
