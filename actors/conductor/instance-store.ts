/**
 * Every instance write the conductor makes, batched: inserts of new instances (with their `create`
 * action), compare-and-swap state updates, and action start/finish records share one statement per
 * batch. A CAS update names the version it expects; a stale writer matches no row and learns so.
 */
import type { Orm } from '../../runtime/db/orm.js';
import type { InstanceRow } from '../../runtime/db/entities/index.js';
import { Batcher, type BatchObserver } from '../../runtime/batcher.js';
import type { GuestFields } from './guest-data.js';

/** The fields a state transition may change. */
export type StateFields = Pick<
  InstanceRow,
  'flavorId' | 'flavorName' | 'vcpus' | 'memoryMb' | 'rootGb' | 'ephemeralGb' | 'swapMb' | 'imageRef' | 'vmState' | 'taskState' | 'powerState' | 'host' | 'node' | 'alternates' | 'fault' | 'taskContext' | 'lockedBy' | 'lockedReason'
  | 'launchedAt' | 'terminatedAt' | 'deletedAt' | 'updatedAt'
>;

export interface ActionRecord {
  instanceUuid: string;
  action: string;
  requestId: string;
  projectId: string;
  userId: string;
  at: Date;
  /** Set when the action ended with its start (an action without a task). */
  finish?: ActionFinish;
}

type Item =
  | { t: 'insert'; row: InstanceRow; action: ActionRecord }
  | { t: 'update'; uuid: string; expected: number; fields: StateFields; records: ActionRecords; guest?: GuestFields }
  ;

/** Action records written in the same transaction as a state change, only if the change applies. */
export interface ActionRecords {
  start?: ActionRecord;
  finish?: ActionFinish;
}

/** Ends the newest unfinished action of that name on the instance. */
export interface ActionFinish {
  instanceUuid: string;
  action: string;
  result: 'Success' | 'Error';
  message: string | null;
  at: Date;
}

/** insert → false when the idempotency key was already used; update → false when the version was stale. */
type Result = boolean;

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

export class InstanceStore {
  private readonly batcher: Batcher<Item, Result>;

  constructor(private readonly orm: Orm, observe?: BatchObserver) {
    this.batcher = new Batcher((items) => this.write(items), { maxSize: 1000, maxInFlight: 2, observe });
  }

  insert(row: InstanceRow, action: ActionRecord): Promise<boolean> {
    return this.batcher.add({ t: 'insert', row, action });
  }
  /**
   * A CAS state write, with the action records it starts or finishes (same transaction) and, for a
   * rebuild, the guest data it replaces (otherwise those columns are left as they are).
   */
  update(uuid: string, expected: number, fields: StateFields, records: ActionRecords = {}, guest?: GuestFields): Promise<boolean> {
    return this.batcher.add({ t: 'update', uuid, expected, fields, records, ...(guest ? { guest } : {}) });
  }

  get stats(): { batches: number; items: number } {
    return { batches: this.batcher.batches, items: this.batcher.items };
  }

  /**
   * The whole batch in one statement (one round trip, atomic without BEGIN/COMMIT): inserts, CAS
   * updates, then the action records of the items that applied — `applied` is what the insert and
   * update sub-statements returned. Sub-statements share one snapshot, so a finish cannot see a
   * start written by the same statement; none is needed, since an instance has at most one write in
   * flight (its actor waits for each), so a start and the finish of that action are never in one batch.
   */
  private async write(items: Item[]): Promise<Result[]> {
    const inserts = items.filter((i): i is Extract<Item, { t: 'insert' }> => i.t === 'insert');
    const updates = items.filter((i): i is Extract<Item, { t: 'update' }> => i.t === 'update');
    const starts = items.flatMap((i) => (i.t === 'insert' ? [i.action] : i.records.start ? [i.records.start] : []));
    const finishes = updates.flatMap((i) => (i.records.finish ? [i.records.finish] : []));
    const knex = this.orm.em.getConnection().getKnex();
    const res = await knex.raw(BATCH_SQL, [
      JSON.stringify(inserts.map(({ row }) => insertRow(row))),
      JSON.stringify(updates.map(updateRow)),
      JSON.stringify(starts.map(startRow)),
      JSON.stringify(finishes.map(finishRow)),
    ]);
    const applied = new Set((res.rows as { uuid: string }[]).map((r) => r.uuid));
    return items.map((i) => applied.has(i.t === 'insert' ? i.row.uuid : i.uuid));
  }
}

const insertRow = (r: InstanceRow) => ({
  uuid: r.uuid, name: r.name, project_id: r.projectId, user_id: r.userId, flavor_id: r.flavorId,
  flavor_name: r.flavorName, vcpus: r.vcpus, memory_mb: r.memoryMb, root_gb: r.rootGb, ephemeral_gb: r.ephemeralGb, swap_mb: r.swapMb,
  image_ref: r.imageRef, vm_state: r.vmState, task_state: r.taskState, power_state: r.powerState, host: r.host,
  node: r.node, alternates: r.alternates, availability_zone: r.availabilityZone, metadata: r.metadata, key_name: r.keyName, key_data: r.keyData, key_type: r.keyType, user_data: r.userData, config_drive: r.configDrive, tags: r.tags, description: r.description, hostname: r.hostname,
  access_ip_v4: r.accessIpV4, access_ip_v6: r.accessIpV6, scheduler_hints: r.schedulerHints, fault: r.fault,
  task_context: r.taskContext,
  idempotency_key: r.idempotencyKey, created_at: iso(r.createdAt), updated_at: iso(r.updatedAt), version: r.version,
});

const updateRow = ({ uuid, expected, fields: f, guest: g }: Extract<Item, { t: 'update' }>) => ({
  uuid, expected, flavor_id: f.flavorId, flavor_name: f.flavorName, vcpus: f.vcpus, memory_mb: f.memoryMb, root_gb: f.rootGb,
  ephemeral_gb: f.ephemeralGb, swap_mb: f.swapMb, image_ref: f.imageRef, vm_state: f.vmState, task_state: f.taskState, power_state: f.powerState, host: f.host, node: f.node,
  alternates: f.alternates, fault: f.fault, task_context: f.taskContext, locked_by: f.lockedBy, locked_reason: f.lockedReason, launched_at: iso(f.launchedAt), terminated_at: iso(f.terminatedAt),
  deleted_at: iso(f.deletedAt), updated_at: iso(f.updatedAt),
  ...(g ? { set_guest: true, user_data: g.userData, key_name: g.keyName, key_data: g.keyData, key_type: g.keyType } : {}),
});

const startRow = (a: ActionRecord) => ({
  instance_uuid: a.instanceUuid, action: a.action, request_id: a.requestId, project_id: a.projectId, user_id: a.userId, start_time: iso(a.at),
  finish_time: a.finish ? iso(a.finish.at) : null, result: a.finish?.result ?? null, message: a.finish?.message ?? null,
});

const finishRow = (f: ActionFinish) => ({ instance_uuid: f.instanceUuid, action: f.action, result: f.result, message: f.message, finish_time: iso(f.at) });

// Lookups by the batch's keys carry `= any(array(select …))`: an index condition whatever the
// planner's statistics say (see docs/architecture.md, "Batched SQL").
const BATCH_SQL = `
with ins as (
  insert into instances (uuid, name, project_id, user_id, flavor_id, flavor_name, vcpus, memory_mb, root_gb, ephemeral_gb, swap_mb,
    image_ref, vm_state, task_state, power_state, host, node, alternates, availability_zone, metadata, key_name, key_data, key_type,
    user_data, config_drive, scheduler_hints, fault,
    tags, description, hostname, access_ip_v4, access_ip_v6, task_context, idempotency_key, created_at, updated_at, version)
  select d.uuid, d.name, d.project_id, d.user_id, d.flavor_id, d.flavor_name, d.vcpus, d.memory_mb, d.root_gb, d.ephemeral_gb, coalesce(d.swap_mb, 0),
    d.image_ref, d.vm_state, d.task_state, d.power_state, d.host, d.node, d.alternates, d.availability_zone, d.metadata, d.key_name, d.key_data, d.key_type,
    d.user_data, coalesce(d.config_drive, false), d.scheduler_hints, d.fault,
    coalesce(d.tags, '{}'), d.description, d.hostname, d.access_ip_v4, d.access_ip_v6, d.task_context, d.idempotency_key, d.created_at, d.updated_at, d.version
  from jsonb_to_recordset(?::jsonb) as d(uuid uuid, name text, project_id text, user_id text, flavor_id text, flavor_name text,
    vcpus int, memory_mb int, root_gb int, ephemeral_gb int, swap_mb int, image_ref text, vm_state text, task_state text, power_state int,
    host text, node text, alternates jsonb, availability_zone text, metadata jsonb, key_name text, key_data text, key_type text,
    user_data text, config_drive boolean, scheduler_hints jsonb, fault jsonb,
    tags text[], description text, hostname text, access_ip_v4 text, access_ip_v6 text, task_context jsonb, idempotency_key text,
    created_at timestamptz, updated_at timestamptz, version int)
  on conflict (idempotency_key) do nothing
  returning uuid),
du as materialized (
  select * from jsonb_to_recordset(?::jsonb) as d(uuid uuid, expected int, flavor_id text, flavor_name text, vcpus int,
    memory_mb int, root_gb int, ephemeral_gb int, swap_mb int, image_ref text, vm_state text, task_state text, power_state int,
    host text, node text, alternates jsonb, fault jsonb, task_context jsonb, locked_by text, locked_reason text, launched_at timestamptz, terminated_at timestamptz,
    deleted_at timestamptz, updated_at timestamptz, set_guest boolean, user_data text, key_name text, key_data text, key_type text)),
upd as (
  update instances i set flavor_id = du.flavor_id, flavor_name = du.flavor_name, vcpus = du.vcpus, memory_mb = du.memory_mb,
    root_gb = du.root_gb, ephemeral_gb = du.ephemeral_gb, swap_mb = coalesce(du.swap_mb, 0), image_ref = du.image_ref, vm_state = du.vm_state, task_state = du.task_state, power_state = du.power_state, host = du.host,
    node = du.node, alternates = du.alternates, fault = du.fault, task_context = du.task_context, locked_by = du.locked_by,
    locked_reason = du.locked_reason, launched_at = du.launched_at, terminated_at = du.terminated_at,
    deleted_at = du.deleted_at, updated_at = du.updated_at, version = i.version + 1,
    -- Guest data only when the write carries it (a rebuild); every other write leaves it as it is.
    user_data = case when du.set_guest then du.user_data else i.user_data end,
    key_name = case when du.set_guest then du.key_name else i.key_name end,
    key_data = case when du.set_guest then du.key_data else i.key_data end,
    key_type = case when du.set_guest then du.key_type else i.key_type end
  from du
  where i.uuid = any(array(select uuid from du)) and i.uuid = du.uuid and i.version = du.expected
  returning i.uuid),
applied as (select uuid from ins union all select uuid from upd),
starts as (
  insert into instance_actions (instance_uuid, action, request_id, project_id, user_id, start_time, finish_time, result, message)
  select d.instance_uuid, d.action, d.request_id, d.project_id, d.user_id, d.start_time, d.finish_time, d.result, d.message
  from jsonb_to_recordset(?::jsonb) as d(instance_uuid uuid, action text, request_id text, project_id text, user_id text, start_time timestamptz,
    finish_time timestamptz, result text, message text)
  where d.instance_uuid in (select uuid from applied)
  on conflict (instance_uuid, request_id) do nothing),
-- A finish ends the newest unfinished action of that name (one operation of a kind runs at a time per instance).
df as materialized (
  select d.*, (select id from instance_actions x where x.instance_uuid = d.instance_uuid and x.action = d.action
                 and x.finish_time is null order by x.start_time desc, x.id desc limit 1) as id
  from jsonb_to_recordset(?::jsonb) as d(instance_uuid uuid, action text, result text, message text, finish_time timestamptz)
  where d.instance_uuid in (select uuid from upd)),
fin as (
  update instance_actions a set finish_time = df.finish_time, result = df.result, message = df.message
  from df where a.id = any(array(select id from df)) and a.id = df.id)
select uuid from applied`;
