/**
 * Flavor administration for the REST API (Nova's admin-only flavor create/delete and extra specs).
 * Each change is written to PostgreSQL and the conductor's in-memory catalog is reloaded at once, so
 * the next build sees it. (Several conductor replicas would each need the reload: the catalog is per
 * process, like the rest of the conductor today.)
 */
import { randomUUID } from 'node:crypto';
import { BadRequestError, ConflictError, NotFoundError } from '../../protocols/errors.js';
import type { FlavorReply } from '../../protocols/messages.js';
import { FLAVOR_DESCRIPTION_PATTERN } from '../../protocols/catalog/conductor.js';
import type { Flavor } from '../../protocols/resources.js';
import { fieldsOf, int, optBool, optStr, str } from '../../protocols/validate.js';
import { Flavor as FlavorEntity } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';
import type { Clock } from '../../runtime/clock.js';
import type { FlavorCatalog } from './flavors.js';

/** Nova's flavor id and extra-spec key characters. */
const FLAVOR_ID = /^(?! )[a-zA-Z0-9. _-]+(?<! )$/;
const SPEC_KEY = /^[a-zA-Z0-9-_:. ]{1,255}$/;
const MAX_INT = 2 ** 31 - 1;
const DESCRIPTION = new RegExp(FLAVOR_DESCRIPTION_PATTERN);

/** The body's description (null when absent), checked as the catalog's schema says. */
function description(o: Record<string, unknown>): string | null {
  if (o.description === undefined || o.description === null) return null;
  return str(o, 'description', { min: 0, max: 65_535, pattern: DESCRIPTION });
}

export interface FlavorCreate {
  id?: string;
  name: string;
  vcpus: number;
  memoryMb: number;
  diskGb: number;
  ephemeralGb?: number;
  swapMb?: number;
  isPublic?: boolean;
  description?: string | null;
}

export class FlavorAdmin {
  constructor(
    private readonly orm: Orm,
    private readonly flavors: FlavorCatalog,
    private readonly clock: Clock,
  ) {}

  async create(body: Record<string, unknown>): Promise<FlavorReply> {
    const o = fieldsOf(body, ['id', 'name', 'vcpus', 'memoryMb', 'diskGb', 'ephemeralGb', 'swapMb', 'isPublic', 'description'], 'flavor');
    const id = optStr(o, 'id', { pattern: FLAVOR_ID }) ?? randomUUID();
    const name = str(o, 'name', { pattern: /^(?! )[^\x00-\x1f\x7f]+(?<! )$/ });
    const row = {
      id, name, vcpus: int(o, 'vcpus', { min: 1, max: MAX_INT }), memoryMb: int(o, 'memoryMb', { min: 1, max: MAX_INT }),
      rootGb: int(o, 'diskGb', { max: MAX_INT }), ephemeralGb: int({ e: o.ephemeralGb ?? 0 }, 'e', { max: MAX_INT }),
      swapMb: int({ s: o.swapMb ?? 0 }, 's', { max: MAX_INT }),
      isPublic: optBool(o, 'isPublic') ?? true, disabled: false, extraSpecs: {}, createdAt: new Date(this.clock.now()),
      description: description(o),
    };
    const knex = this.orm.em.getConnection().getKnex();
    // One statement decides a race between two creates; the loser learns which name was taken.
    const res = await knex.raw(
      `insert into flavors (id, name, vcpus, memory_mb, root_gb, ephemeral_gb, swap_mb, is_public, disabled, extra_specs, created_at, description)
       values (?, ?, ?, ?, ?, ?, ?, ?, false, '{}'::jsonb, ?, ?) on conflict do nothing returning id`,
      [row.id, row.name, row.vcpus, row.memoryMb, row.rootGb, row.ephemeralGb, row.swapMb, row.isPublic, row.createdAt.toISOString(), row.description],
    );
    if ((res.rows as unknown[]).length === 0) {
      const byId = await this.orm.em.fork().findOne(FlavorEntity, { id });
      throw new ConflictError(byId ? `Flavor with ID ${id} already exists.` : `Flavor with name ${name} already exists.`);
    }
    await this.flavors.load([]);
    return { flavor: this.flavors.get(id) };
  }

  async remove(body: Record<string, unknown>): Promise<{ deleted: string }> {
    const id = str(fieldsOf(body, ['id'], 'flavor'), 'id');
    const n = await this.orm.em.fork().nativeDelete(FlavorEntity, { id });
    if (n === 0) throw new NotFoundError(`Flavor ${id} could not be found.`);
    // Instances keep their own copy of the flavor; only new builds stop seeing it.
    await this.flavors.load([]);
    return { deleted: id };
  }

  /** Nova 2.55: the description is the one thing of a flavor that may change. */
  async update(body: Record<string, unknown>): Promise<FlavorReply> {
    const o = fieldsOf(body, ['id', 'description'], 'flavor');
    const id = str(o, 'id');
    const n = await this.orm.em.fork().nativeUpdate(FlavorEntity, { id, disabled: false }, { description: description(o) });
    if (n === 0) throw new NotFoundError(`Flavor ${id} could not be found.`);
    await this.flavors.load([]);
    return { flavor: this.flavors.get(id) };
  }

  /**
   * Grants (`add`) or revokes (`remove`) a project's access to a private flavor, with Nova's
   * answers: a public flavor has no list (409), a grant twice is a 409, a revoke of none a 404.
   */
  async access(body: Record<string, unknown>): Promise<FlavorReply> {
    const o = fieldsOf(body, ['id', 'op', 'projectId'], 'flavor access');
    const id = str(o, 'id');
    const op = str(o, 'op');
    const projectId = str(o, 'projectId', { max: 255 });
    const f = this.flavors.find(id);
    if (!f || f.id !== id) throw new NotFoundError(`Flavor ${id} could not be found.`);
    const conn = this.orm.em.getConnection();
    if (op === 'add') {
      if (f.isPublic) throw new ConflictError('Can not add access to a public flavor.');
      const added = await conn.execute('insert into flavor_projects (flavor_id, project_id) values (?, ?) on conflict do nothing returning project_id', [id, projectId]);
      if ((added as unknown[]).length === 0) throw new ConflictError(`Flavor access already exists for flavor ${id} and project ${projectId} combination.`);
    } else if (op === 'remove') {
      const removed = await conn.execute('delete from flavor_projects where flavor_id = ? and project_id = ? returning project_id', [id, projectId]);
      if ((removed as unknown[]).length === 0) throw new NotFoundError(`Flavor access not found for ${id} / ${projectId} combination.`);
    } else {
      throw new BadRequestError(`unknown flavor access op '${op}'`);
    }
    await this.flavors.load([]);
    return { flavor: this.flavors.get(id) };
  }

  /** Sets (merges) extra specs; answers the flavor with all of them. */
  async setSpecs(body: Record<string, unknown>): Promise<FlavorReply> {
    const o = fieldsOf(body, ['id', 'specs'], 'extra specs');
    const id = str(o, 'id');
    const specs = o.specs;
    if (typeof specs !== 'object' || specs === null || Array.isArray(specs)) throw new BadRequestError("'extra_specs' must be an object");
    for (const [k, v] of Object.entries(specs)) {
      if (!SPEC_KEY.test(k)) throw new BadRequestError(`Invalid extra spec key '${k}': 1-255 characters of letters, digits, '-', '_', ':', '.' and spaces.`);
      if (typeof v !== 'string' || v.length > 255) throw new BadRequestError(`Invalid value for extra spec '${k}': a string of at most 255 characters.`);
    }
    return this.changeSpecs(id, (cur) => {
      const next = { ...cur, ...(specs as Record<string, string>) };
      if (Object.keys(next).length > 1000) throw new BadRequestError('a flavor holds at most 1000 extra specs');
      return next;
    });
  }

  async unsetSpec(body: Record<string, unknown>): Promise<FlavorReply> {
    const o = fieldsOf(body, ['id', 'key'], 'extra spec');
    const id = str(o, 'id');
    const key = str(o, 'key');
    return this.changeSpecs(id, (cur) => {
      if (!Object.hasOwn(cur, key)) throw new NotFoundError(`Flavor ${id} has no extra specs with key ${key}.`);
      const next = { ...cur };
      delete next[key];
      return next;
    });
  }

  private async changeSpecs(id: string, change: (cur: Record<string, string>) => Record<string, string>): Promise<FlavorReply> {
    const knex = this.orm.em.getConnection().getKnex();
    await knex.transaction(async (trx) => {
      // Row lock: two spec changes to one flavor apply one after the other, neither is lost.
      const rows = (await trx.raw('select extra_specs from flavors where id = ? for update', [id])).rows as { extra_specs: Record<string, string> }[];
      const cur = rows[0];
      if (!cur) throw new NotFoundError(`Flavor ${id} could not be found.`);
      await trx.raw('update flavors set extra_specs = ?::jsonb where id = ?', [JSON.stringify(change(cur.extra_specs)), id]);
    });
    await this.flavors.load([]);
    const flavor: Flavor = this.flavors.get(id);
    return { flavor };
  }
}
