/**
 * Roles and their implications, kept in memory: every token validation expands the roles it finds
 * assigned, and reading two small tables each time would cost more than the token lookup itself.
 * A change made here drops the copy at once; other replicas re-read within `ttlMs` (the token
 * cache's window, so both age alike).
 */
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { ConflictError } from '../../../protocols/errors.js';
import { Assignment, ImpliedRole, Role, type ImpliedRoleRow, type RoleRow } from '../../../runtime/db/entities/index.js';
import type { Clock } from '../../../runtime/clock.js';
import type { Orm } from '../../../runtime/db/orm.js';
import { newId } from './ids.js';

interface Graph {
  byId: Map<string, RoleRow>;
  implies: Map<string, string[]>;
  at: number;
}

export class RoleStore {
  private graph: Promise<Graph> | undefined;

  constructor(
    private readonly orm: Orm,
    private readonly clock: Clock,
    private readonly ttlMs = 5_000,
  ) {}

  private get em() {
    return this.orm.em.fork();
  }

  private async load(): Promise<Graph> {
    const now = this.clock.now();
    const g = this.graph ? await this.graph.catch(() => undefined) : undefined;
    if (g && now - g.at < this.ttlMs) return g;
    this.graph = (async () => {
      const [roles, links] = await Promise.all([this.em.find(Role, {}), this.em.find(ImpliedRole, {})]);
      const implies = new Map<string, string[]>();
      for (const l of links) implies.set(l.priorRoleId, [...(implies.get(l.priorRoleId) ?? []), l.impliedRoleId]);
      return { byId: new Map(roles.map((r) => [r.id, r])), implies, at: now };
    })();
    return this.graph;
  }

  invalidate(): void {
    this.graph = undefined;
  }

  async list(filter: { name?: string; domainId?: string } = {}): Promise<RoleRow[]> {
    const all = [...(await this.load()).byId.values()];
    return all
      .filter((r) => (filter.name === undefined || r.name === filter.name) && (filter.domainId === undefined || r.domainId === filter.domainId))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async get(id: string): Promise<RoleRow | undefined> {
    return (await this.load()).byId.get(id);
  }

  /** By id, or by name among the global roles (the CLI resolves names itself; some clients do not). */
  async find(idOrName: string): Promise<RoleRow | undefined> {
    const g = await this.load();
    return g.byId.get(idOrName) ?? [...g.byId.values()].find((r) => r.name === idOrName && r.domainId === '');
  }

  /** The roles with everything they imply, sorted by name. */
  async expand(ids: Iterable<string>): Promise<RoleRow[]> {
    const g = await this.load();
    const out = new Map<string, RoleRow>();
    const add = (id: string) => {
      const r = g.byId.get(id);
      if (!r || out.has(id)) return;
      out.set(id, r);
      (g.implies.get(id) ?? []).forEach(add);
    };
    for (const id of ids) add(id);
    return [...out.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  async create(r: { name: string; domainId: string; description: string | null }): Promise<RoleRow> {
    const row: RoleRow = { id: newId(), ...r };
    try {
      await this.em.insert(Role, row);
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw new ConflictError(`Conflict occurred attempting to store role - Duplicate entry found with name ${r.name}.`);
      throw err;
    }
    this.invalidate();
    return row;
  }

  async update(id: string, patch: { name?: string; description?: string | null }): Promise<RoleRow | undefined> {
    if (Object.keys(patch).length > 0) {
      try {
        await this.em.nativeUpdate(Role, { id }, patch);
      } catch (err) {
        if (err instanceof UniqueConstraintViolationException) throw new ConflictError(`Conflict occurred attempting to store role - Duplicate entry found with name ${patch.name}.`);
        throw err;
      }
      this.invalidate();
    }
    return this.get(id);
  }

  /** Deletes the role with its assignments and implications; false when there was none. */
  async delete(id: string): Promise<boolean> {
    const gone = await this.orm.em.fork().transactional(async (em) => {
      await em.nativeDelete(Assignment, { roleId: id });
      await em.nativeDelete(ImpliedRole, { $or: [{ priorRoleId: id }, { impliedRoleId: id }] });
      return (await em.nativeDelete(Role, { id })) > 0;
    });
    this.invalidate();
    return gone;
  }

  async implications(priorId?: string): Promise<ImpliedRoleRow[]> {
    const g = await this.load();
    const out: ImpliedRoleRow[] = [];
    for (const [prior, implied] of g.implies) if (priorId === undefined || prior === priorId) for (const i of implied) out.push({ priorRoleId: prior, impliedRoleId: i });
    return out;
  }

  /** Adds `prior ⇒ implied`; a link that would close a cycle is Keystone's 400-less refusal, a 409 here. */
  async imply(priorId: string, impliedId: string): Promise<void> {
    if ((await this.expand([impliedId])).some((r) => r.id === priorId)) throw new ConflictError(`Implied role ${impliedId} would imply ${priorId}: a cycle.`);
    const knex = this.orm.em.getConnection().getKnex();
    await knex.raw('insert into keystone_implied_roles (prior_role_id, implied_role_id) values (?, ?) on conflict do nothing', [priorId, impliedId]);
    this.invalidate();
  }

  async unimply(priorId: string, impliedId: string): Promise<boolean> {
    const n = await this.em.nativeDelete(ImpliedRole, { priorRoleId: priorId, impliedRoleId: impliedId });
    this.invalidate();
    return n > 0;
  }
}

/** One role store per database, shared by the identity store and the token service (one cache to drop). */
const stores = new WeakMap<Orm, RoleStore>();
export function roleStoreFor(orm: Orm, clock: Clock): RoleStore {
  let s = stores.get(orm);
  if (!s) stores.set(orm, (s = new RoleStore(orm, clock)));
  return s;
}
