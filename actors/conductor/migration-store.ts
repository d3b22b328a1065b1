/**
 * Migration records (Nova's `migrations`), owned by the conductor: created when a move starts,
 * their status moved on with a compare-and-set on the status it had (two steps of one move, or a
 * retry racing the original, cannot both win), read by the API through the conductor's verbs.
 * `uuid` doubles as the placement consumer holding the move's source allocation.
 */
import { randomUUID } from 'node:crypto';
import { BadRequestError, ConflictError, NotFoundError } from '../../protocols/errors.js';
import type { MigrationListRequest, MigrationView } from '../../protocols/catalog/migrations.js';
import { Migration, type MigrationRow, type MigrationStatus, type MigrationType } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';

/** Nova's in-progress statuses (`migration_get_in_progress_by_instance`). */
export const IN_PROGRESS: readonly MigrationStatus[] = ['queued', 'preparing', 'running', 'post-migrating'];

export interface NewMigration {
  /** Given by the caller so a retried start finds the record it already made. */
  uuid?: string;
  instanceUuid: string;
  migrationType: MigrationType;
  sourceCompute: string | null;
  sourceNode?: string | null;
  destCompute?: string | null;
  destNode?: string | null;
  oldInstanceTypeId: string | null;
  newInstanceTypeId: string | null;
  /** Default: `pre-migrating` for cold moves, `queued` for live, `accepted` for evacuations (as Nova). */
  status?: MigrationStatus;
  projectId: string;
  userId: string;
}

/** What a status step may change besides the status. */
export type MigrationChanges = Partial<Pick<MigrationRow,
  'destCompute' | 'destNode' | 'sourceNode' | 'memoryTotal' | 'memoryProcessed' | 'memoryRemaining' | 'diskTotal' | 'diskProcessed' | 'diskRemaining'>>;

const FIRST_STATUS: Record<MigrationType, MigrationStatus> = {
  resize: 'pre-migrating',
  migration: 'pre-migrating',
  'live-migration': 'queued',
  evacuation: 'accepted',
};

const PAGE_MAX = 1000;

export class MigrationStore {
  constructor(private readonly orm: Orm, private readonly readOrm: Orm = orm) {}

  /** Creates the record; the same uuid again returns the existing one (idempotent start). */
  async create(m: NewMigration, now: Date): Promise<MigrationRow> {
    const uuid = (m.uuid ?? randomUUID()).toLowerCase();
    const row = {
      uuid, instanceUuid: m.instanceUuid, migrationType: m.migrationType, status: m.status ?? FIRST_STATUS[m.migrationType],
      sourceCompute: m.sourceCompute, sourceNode: m.sourceNode ?? m.sourceCompute, destCompute: m.destCompute ?? null, destNode: m.destNode ?? m.destCompute ?? null,
      oldInstanceTypeId: m.oldInstanceTypeId, newInstanceTypeId: m.newInstanceTypeId, projectId: m.projectId, userId: m.userId,
      memoryTotal: null, memoryProcessed: null, memoryRemaining: null, diskTotal: null, diskProcessed: null, diskRemaining: null,
      createdAt: now, updatedAt: now,
    };
    const knex = this.orm.em.getConnection().getKnex();
    await knex('migrations').insert(columns(row)).onConflict('uuid').ignore();
    const got = await this.find(uuid, this.orm);
    if (!got) throw new ConflictError(`Migration ${uuid} could not be created.`);
    if (got.instanceUuid !== m.instanceUuid) throw new ConflictError(`Migration ${uuid} belongs to another instance.`);
    return got;
  }

  /**
   * Moves the status on if it is still one of `from` (CAS); the row afterwards. A record already in
   * `to` is returned unchanged (a retried step). Otherwise a ConflictError names the status it has.
   */
  async setStatus(uuid: string, from: MigrationStatus | readonly MigrationStatus[], to: MigrationStatus, now: Date, changes: MigrationChanges = {}): Promise<MigrationRow> {
    const allowed = typeof from === 'string' ? [from] : [...from];
    const em = this.orm.em.fork();
    const n = await em.nativeUpdate(Migration, { uuid, status: { $in: allowed } }, { ...changes, status: to, updatedAt: now });
    const row = await this.find(uuid, this.orm);
    if (!row) throw new NotFoundError(`Migration ${uuid} could not be found.`);
    if (n === 0 && row.status !== to) throw new ConflictError(`Migration ${uuid} is ${row.status}, not ${allowed.join(' or ')}.`);
    return row;
  }

  /** Live-migration progress (no status change; the owner calls it while `running`). */
  async setProgress(uuid: string, progress: MigrationChanges, now: Date): Promise<void> {
    await this.orm.em.fork().nativeUpdate(Migration, { uuid }, { ...progress, updatedAt: now });
  }

  /** By uuid or integer id; with `instanceUuid`, only that instance's. */
  async get(id: string | number, instanceUuid?: string): Promise<MigrationRow> {
    const row = await this.find(id, this.readOrm);
    if (!row || (instanceUuid !== undefined && row.instanceUuid !== instanceUuid)) throw new NotFoundError(`Migration ${id} could not be found.`);
    return row;
  }

  /** Newest first (Nova: created_at desc, id desc), filtered, one page after `marker`. */
  async list(q: MigrationListRequest): Promise<{ rows: MigrationRow[]; more: boolean }> {
    const em = this.readOrm.em.fork();
    const where: Record<string, unknown>[] = [];
    if (q.host != null) where.push({ $or: [{ sourceCompute: q.host }, { destCompute: q.host }] });
    if (q.status != null) where.push({ status: q.status });
    if (q.instanceUuid != null) where.push({ instanceUuid: q.instanceUuid.toLowerCase() });
    if (q.migrationType != null) where.push({ migrationType: q.migrationType });
    if (q.changesSince != null) where.push({ updatedAt: { $gte: new Date(q.changesSince) } });
    if (q.changesBefore != null) where.push({ updatedAt: { $lte: new Date(q.changesBefore) } });
    if (q.projectId != null) where.push({ projectId: q.projectId });
    if (q.userId != null) where.push({ userId: q.userId });
    if (q.inProgress) where.push({ status: { $in: [...IN_PROGRESS] } });
    if (q.marker != null) {
      const m = await em.findOne(Migration, { uuid: q.marker.toLowerCase() });
      if (!m) throw new BadRequestError(`Marker ${q.marker} could not be found.`);
      where.push({ $or: [{ createdAt: { $lt: m.createdAt } }, { createdAt: m.createdAt, id: { $lt: m.id } }] });
    }
    const limit = Math.min(q.limit ?? PAGE_MAX, PAGE_MAX);
    const rows = await em.find(Migration, where.length > 0 ? { $and: where } : {}, { orderBy: { createdAt: 'desc', id: 'desc' }, limit: limit + 1 });
    return { rows: rows.slice(0, limit), more: rows.length > limit };
  }

  private async find(id: string | number, orm: Orm): Promise<MigrationRow | null> {
    const em = orm.em.fork();
    return typeof id === 'number' ? em.findOne(Migration, { id }) : em.findOne(Migration, { uuid: id.toLowerCase() });
  }
}

export function migrationView(r: MigrationRow): MigrationView {
  const n = (v: number | null) => (v === null ? null : Number(v));
  return {
    id: r.id, uuid: r.uuid, instanceUuid: r.instanceUuid,
    sourceCompute: r.sourceCompute, destCompute: r.destCompute, sourceNode: r.sourceNode, destNode: r.destNode,
    oldInstanceTypeId: r.oldInstanceTypeId, newInstanceTypeId: r.newInstanceTypeId,
    migrationType: r.migrationType, status: r.status, projectId: r.projectId, userId: r.userId,
    memoryTotal: n(r.memoryTotal), memoryProcessed: n(r.memoryProcessed), memoryRemaining: n(r.memoryRemaining),
    diskTotal: n(r.diskTotal), diskProcessed: n(r.diskProcessed), diskRemaining: n(r.diskRemaining),
    createdAt: new Date(r.createdAt).toISOString(), updatedAt: new Date(r.updatedAt).toISOString(),
  };
}

/** Snake-case columns for the raw insert (`on conflict do nothing` is not in MikroORM's insert). */
function columns(row: Omit<MigrationRow, 'id'>): Record<string, unknown> {
  return {
    uuid: row.uuid, instance_uuid: row.instanceUuid, migration_type: row.migrationType, status: row.status,
    source_compute: row.sourceCompute, source_node: row.sourceNode, dest_compute: row.destCompute, dest_node: row.destNode,
    old_instance_type_id: row.oldInstanceTypeId, new_instance_type_id: row.newInstanceTypeId, project_id: row.projectId, user_id: row.userId,
    created_at: row.createdAt, updated_at: row.updatedAt,
  };
}
