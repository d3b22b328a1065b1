/**
 * Domains and groups. Users, projects and groups live in a domain (`default` always exists, made
 * by the migration); names are unique within one. A domain must be disabled before it is deleted,
 * and deleting it deletes what lives in it, as Keystone does.
 */
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { ConflictError } from '../../../protocols/errors.js';
import { AppCredential, Assignment, Domain, Group, GroupMember, ImpliedRole, Project, Role, Token, User, type DomainRow, type GroupRow } from '../../../runtime/db/entities/index.js';
import type { Clock } from '../../../runtime/clock.js';
import type { Orm } from '../../../runtime/db/orm.js';
import { newId } from './ids.js';

export const DEFAULT_DOMAIN = { id: 'default', name: 'Default' } as const;

/** Runs `insert`, turning a unique-constraint violation into Keystone's 409. */
export async function unique<T>(conflict: string, insert: () => Promise<T>): Promise<T> {
  try {
    return await insert();
  } catch (err) {
    if (err instanceof UniqueConstraintViolationException) throw new ConflictError(conflict);
    throw err;
  }
}

export class DirectoryStore {
  constructor(
    private readonly orm: Orm,
    private readonly clock: Clock,
  ) {}

  private get em() {
    return this.orm.em.fork();
  }

  async domain(id: string): Promise<DomainRow | null> {
    return this.em.findOne(Domain, { id });
  }

  async domainByName(name: string): Promise<DomainRow | null> {
    return this.em.findOne(Domain, { name });
  }

  async domains(filter: { name?: string; enabled?: boolean; ids?: string[] } = {}): Promise<DomainRow[]> {
    const where: Record<string, unknown> = {};
    if (filter.name !== undefined) where.name = filter.name;
    if (filter.enabled !== undefined) where.enabled = filter.enabled;
    if (filter.ids !== undefined) where.id = { $in: filter.ids };
    return this.em.find(Domain, where, { orderBy: { name: 'asc' } });
  }

  async createDomain(d: { name: string; description: string; enabled: boolean; id?: string }): Promise<DomainRow> {
    const row: DomainRow = { id: d.id ?? newId(), name: d.name, description: d.description, enabled: d.enabled, createdAt: new Date(this.clock.now()) };
    await unique(`Conflict occurred attempting to store domain - Duplicate entry found with name ${d.name}.`, () => this.em.insert(Domain, row));
    return row;
  }

  async updateDomain(id: string, patch: { name?: string; description?: string; enabled?: boolean }): Promise<DomainRow | null> {
    if (Object.keys(patch).length > 0) {
      await unique(`Conflict occurred attempting to store domain - Duplicate entry found with name ${patch.name}.`, () => this.em.nativeUpdate(Domain, { id }, patch));
    }
    return this.domain(id);
  }

  /** Deletes the domain and everything in it (users, projects, groups, its roles, their assignments and tokens). */
  async deleteDomain(id: string): Promise<boolean> {
    return this.orm.em.fork().transactional(async (em) => {
      const [users, projects, groups, roles] = await Promise.all([
        em.find(User, { domainId: id }, { fields: ['id'] }), em.find(Project, { domainId: id }, { fields: ['id'] }), em.find(Group, { domainId: id }, { fields: ['id'] }),
        em.find(Role, { domainId: id }, { fields: ['id'] }),
      ]);
      const ids = [id, ...users.map((u) => u.id), ...projects.map((p) => p.id), ...groups.map((g) => g.id)];
      const roleIds = roles.map((r) => r.id);
      await em.nativeDelete(Assignment, { $or: [{ actorId: { $in: ids } }, { targetId: { $in: ids } }, { roleId: { $in: roleIds } }] });
      await em.nativeDelete(ImpliedRole, { $or: [{ priorRoleId: { $in: roleIds } }, { impliedRoleId: { $in: roleIds } }] });
      await em.nativeDelete(Role, { domainId: id });
      await em.nativeDelete(GroupMember, { $or: [{ groupId: { $in: ids } }, { userId: { $in: ids } }] });
      await em.nativeDelete(AppCredential, { $or: [{ userId: { $in: ids } }, { projectId: { $in: ids } }] });
      await em.nativeDelete(Token, { $or: [{ userId: { $in: ids } }, { projectId: { $in: ids } }] });
      await em.nativeDelete(Group, { domainId: id });
      await em.nativeDelete(User, { domainId: id });
      await em.nativeDelete(Project, { domainId: id });
      return (await em.nativeDelete(Domain, { id })) > 0;
    });
  }

  async group(id: string): Promise<GroupRow | null> {
    return this.em.findOne(Group, { id });
  }

  async groups(filter: { name?: string; domainId?: string; ids?: string[] } = {}): Promise<GroupRow[]> {
    const where: Record<string, unknown> = {};
    if (filter.name !== undefined) where.name = filter.name;
    if (filter.domainId !== undefined) where.domainId = filter.domainId;
    if (filter.ids !== undefined) where.id = { $in: filter.ids };
    return this.em.find(Group, where, { orderBy: { name: 'asc' } });
  }

  async createGroup(g: { name: string; domainId: string; description: string }): Promise<GroupRow> {
    const row: GroupRow = { id: newId(), ...g, createdAt: new Date(this.clock.now()) };
    await unique(`Conflict occurred attempting to store group - Duplicate entry found with name ${g.name} at domain ID ${g.domainId}.`, () => this.em.insert(Group, row));
    return row;
  }

  async updateGroup(id: string, patch: { name?: string; description?: string }): Promise<GroupRow | null> {
    if (Object.keys(patch).length > 0) {
      await unique(`Conflict occurred attempting to store group - Duplicate entry found with name ${patch.name}.`, () => this.em.nativeUpdate(Group, { id }, patch));
    }
    return this.group(id);
  }

  async deleteGroup(id: string): Promise<boolean> {
    return this.orm.em.fork().transactional(async (em) => {
      await em.nativeDelete(Assignment, { actorId: id });
      await em.nativeDelete(GroupMember, { groupId: id });
      return (await em.nativeDelete(Group, { id })) > 0;
    });
  }

  async addMember(groupId: string, userId: string): Promise<void> {
    const knex = this.orm.em.getConnection().getKnex();
    await knex.raw('insert into keystone_group_members (group_id, user_id) values (?, ?) on conflict do nothing', [groupId, userId]);
  }

  async removeMember(groupId: string, userId: string): Promise<boolean> {
    return (await this.em.nativeDelete(GroupMember, { groupId, userId })) > 0;
  }

  async isMember(groupId: string, userId: string): Promise<boolean> {
    return (await this.em.count(GroupMember, { groupId, userId })) > 0;
  }

  async memberIds(groupId: string): Promise<string[]> {
    return (await this.em.find(GroupMember, { groupId })).map((m) => m.userId);
  }

  async groupIdsOf(userId: string): Promise<string[]> {
    return (await this.em.find(GroupMember, { userId })).map((m) => m.groupId);
  }
}
