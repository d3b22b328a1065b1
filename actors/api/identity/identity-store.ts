/**
 * Keystone's identity records in PostgreSQL (api-owned tables): projects and users, each in a
 * domain, with the stores for the rest (domains and groups, roles, assignments, the catalog,
 * application credentials) as members. Ids are 32 hex characters, as Keystone's.
 */
import { randomBytes } from 'node:crypto';
import { NotFoundError } from '../../../protocols/errors.js';
import { AppCredential, Assignment, GroupMember, Project, Token, User, type ProjectRow, type UserRow } from '../../../runtime/db/entities/index.js';
import type { Orm } from '../../../runtime/db/orm.js';
import type { Clock } from '../../../runtime/clock.js';
import { AppCredStore } from './app-cred-store.js';
import { AssignmentStore, type Target } from './assignment-store.js';
import { CatalogStore } from './catalog.js';
import { DEFAULT_DOMAIN, DirectoryStore, unique } from './directory-store.js';
import { scryptHasher, type PasswordHasher } from './passwords.js';
import { roleStoreFor, type RoleStore } from './role-store.js';
import { newId } from './ids.js';

export { DEFAULT_DOMAIN, newId };

export interface ListFilter {
  name?: string;
  domainId?: string;
  enabled?: boolean;
}

const where = (f: ListFilter): Record<string, unknown> => Object.fromEntries(Object.entries(f).filter(([, v]) => v !== undefined));

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
  readonly directory: DirectoryStore;
  readonly roles: RoleStore;
  readonly assignments: AssignmentStore;
  readonly catalog: CatalogStore;
  readonly appCreds: AppCredStore;

  constructor(
    private readonly orm: Orm,
    private readonly clock: Clock,
    readonly hasher: PasswordHasher = scryptHasher(),
  ) {
    this.directory = new DirectoryStore(orm, clock);
    this.roles = roleStoreFor(orm, clock);
    this.assignments = new AssignmentStore(orm);
    this.catalog = new CatalogStore(orm, clock);
    this.appCreds = new AppCredStore(orm, clock, hasher);
  }

  private get em() {
    return this.orm.em.fork();
  }

  async project(id: string): Promise<ProjectRow | null> {
    return this.em.findOne(Project, { id });
  }

  async projectByName(name: string, domainId: string = DEFAULT_DOMAIN.id): Promise<ProjectRow | null> {
    return this.em.findOne(Project, { name, domainId });
  }

  async projects(filter: ListFilter & { ids?: string[] } = {}): Promise<ProjectRow[]> {
    const { ids, ...rest } = filter;
    return this.em.find(Project, { ...where(rest), ...(ids ? { id: { $in: ids } } : {}) }, { orderBy: { name: 'asc' } });
  }

  async createProject(p: { name: string; description?: string; enabled?: boolean; domainId?: string }): Promise<ProjectRow> {
    const domainId = p.domainId ?? DEFAULT_DOMAIN.id;
    const row: ProjectRow = { id: newId(), name: p.name, domainId, description: p.description ?? '', enabled: p.enabled ?? true, createdAt: new Date(this.clock.now()) };
    await unique(`Conflict occurred attempting to store project - Duplicate entry found with name ${p.name} at domain ID ${domainId}.`, () => this.em.insert(Project, row));
    return row;
  }

  async user(id: string): Promise<UserRow | null> {
    return this.em.findOne(User, { id });
  }

  async userByName(name: string, domainId: string = DEFAULT_DOMAIN.id): Promise<UserRow | null> {
    return this.em.findOne(User, { name, domainId });
  }

  async users(filter: ListFilter & { ids?: string[] } = {}): Promise<UserRow[]> {
    const { ids, ...rest } = filter;
    return this.em.find(User, { ...where(rest), ...(ids ? { id: { $in: ids } } : {}) }, { orderBy: { name: 'asc' } });
  }

  async createUser(u: { name: string; password: string; defaultProjectId?: string | null; enabled?: boolean; description?: string | null; email?: string | null; domainId?: string }): Promise<UserRow> {
    const domainId = u.domainId ?? DEFAULT_DOMAIN.id;
    const row: UserRow = {
      id: newId(), name: u.name, domainId, passwordHash: await this.hasher.hash(u.password),
      defaultProjectId: u.defaultProjectId ?? null, enabled: u.enabled ?? true, description: u.description ?? null, email: u.email ?? null,
      createdAt: new Date(this.clock.now()),
    };
    await unique(`Conflict occurred attempting to store user - Duplicate entry found with name ${u.name} at domain ID ${domainId}.`, () => this.em.insert(User, row));
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
      await unique(`Conflict occurred attempting to store user - Duplicate entry found with name ${patch.name}.`, () => this.em.nativeUpdate(User, { id }, set));
    }
    return this.user(id);
  }

  /** Deletes the user with its role assignments, memberships, application credentials and tokens; false when there was none. */
  async deleteUser(id: string): Promise<boolean> {
    return this.em.transactional(async (em) => {
      await em.nativeDelete(Assignment, { actorId: id });
      await em.nativeDelete(GroupMember, { userId: id });
      await em.nativeDelete(AppCredential, { userId: id });
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
      await unique(`Conflict occurred attempting to store project - Duplicate entry found with name ${patch.name}.`, () => this.em.nativeUpdate(Project, { id }, set));
    }
    return this.project(id);
  }

  /** Deletes the project with its role assignments, application credentials and the tokens scoped to it; false when there was none. */
  async deleteProject(id: string): Promise<boolean> {
    return this.em.transactional(async (em) => {
      await em.nativeDelete(Assignment, { targetId: id });
      await em.nativeDelete(AppCredential, { projectId: id });
      await em.nativeDelete(Token, { projectId: id });
      return (await em.nativeDelete(Project, { id })) > 0;
    });
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= this.hasher.hash(randomBytes(16).toString('base64url'));
    return this.dummyHash;
  }

  /** The user's effective roles (group ones and implied ones included) on a project or the system. */
  async rolesOn(userId: string, target: Target): Promise<string[]> {
    return (await this.roles.expand(await this.assignments.roleIdsOn(userId, target))).map((r) => r.name);
  }

  /** Enabled projects on which the user holds any role, directly or through a group. */
  async projectsOf(userId: string): Promise<ProjectRow[]> {
    const ids = await this.assignments.targetIdsOf(userId, 'Project');
    return ids.length === 0 ? [] : this.projects({ ids, enabled: true });
  }
}
