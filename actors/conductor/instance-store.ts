/**
 * Every instance write the conductor makes, batched: inserts of new instances (with their `create`
 * action), compare-and-swap state updates, and action start/finish records share one transaction per
 * batch. A CAS update names the version it expects; a stale writer matches no row and learns so.
 */
import type { Knex } from '@mikro-orm/postgresql';
import type { Orm } from '../../runtime/db/orm.js';
import type { InstanceRow } from '../../runtime/db/entities/index.js';
import { Batcher } from '../../runtime/batcher.js';

/** The fields a state transition may change. */
export type StateFields = Pick<
  InstanceRow,
  'vmState' | 'taskState' | 'powerState' | 'host' | 'node' | 'alternates' | 'fault' | 'launchedAt' | 'terminatedAt' | 'deletedAt' | 'updatedAt'
>;

export interface ActionRecord {
  instanceUuid: string;
  action: string;
  requestId: string;
  projectId: string;
  userId: string;
  at: Date;
}

type Item =
  | { t: 'insert'; row: InstanceRow; action: ActionRecord }
  | { t: 'update'; uuid: string; expected: number; fields: StateFields; records: ActionRecords }
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

  constructor(private readonly orm: Orm) {
    this.batcher = new Batcher((items) => this.write(items), { maxSize: 1000, maxInFlight: 2 });
  }

  insert(row: InstanceRow, action: ActionRecord): Promise<boolean> {
    return this.batcher.add({ t: 'insert', row, action });
  }
  /** A CAS state write, with the action records it starts or finishes (same transaction). */
  update(uuid: string, expected: number, fields: StateFields, records: ActionRecords = {}): Promise<boolean> {
    return this.batcher.add({ t: 'update', uuid, expected, fields, records });
  }

  get stats(): { batches: number; items: number } {
    return { batches: this.batcher.batches, items: this.batcher.items };
  }

  private async write(items: Item[]): Promise<Result[]> {
    const knex = this.orm.em.getConnection().getKnex();
    return knex.transaction(async (trx) => {
      const inserted = await this.inserts(trx, items.filter((i): i is Extract<Item, { t: 'insert' }> => i.t === 'insert'));
      const updated = await this.updates(trx, items.filter((i): i is Extract<Item, { t: 'update' }> => i.t === 'update'));
      const applied = (i: Item) => (i.t === 'insert' ? inserted.has(i.row.uuid) : updated.has(i.uuid));
      const starts = items.filter(applied).flatMap((i) => (i.t === 'insert' ? [i.action] : i.records.start ? [i.records.start] : []));
      await this.actionStarts(trx, starts);
      await this.actionFinishes(trx, items.filter(applied).flatMap((i) => (i.t === 'update' && i.records.finish ? [i.records.finish] : [])));
      return items.map(applied);
    });
  }

  private async inserts(trx: Knex.Transaction, items: Extract<Item, { t: 'insert' }>[]): Promise<Set<string>> {
    if (items.length === 0) return new Set();
    const rows = items.map(({ row: r }) => ({
      uuid: r.uuid, name: r.name, project_id: r.projectId, user_id: r.userId, flavor_id: r.flavorId,
      flavor_name: r.flavorName, vcpus: r.vcpus, memory_mb: r.memoryMb, root_gb: r.rootGb, ephemeral_gb: r.ephemeralGb,
      image_ref: r.imageRef, vm_state: r.vmState, task_state: r.taskState, power_state: r.powerState, host: r.host,
      node: r.node, alternates: r.alternates, availability_zone: r.availabilityZone, metadata: r.metadata, scheduler_hints: r.schedulerHints, fault: r.fault,
      idempotency_key: r.idempotencyKey, created_at: iso(r.createdAt), updated_at: iso(r.updatedAt), version: r.version,
    }));
    const res = await trx.raw(
      `insert into instances (uuid, name, project_id, user_id, flavor_id, flavor_name, vcpus, memory_mb, root_gb, ephemeral_gb,
         image_ref, vm_state, task_state, power_state, host, node, alternates, availability_zone, metadata, scheduler_hints, fault,
         idempotency_key, created_at, updated_at, version)
       select d.uuid, d.name, d.project_id, d.user_id, d.flavor_id, d.flavor_name, d.vcpus, d.memory_mb, d.root_gb, d.ephemeral_gb,
         d.image_ref, d.vm_state, d.task_state, d.power_state, d.host, d.node, d.alternates, d.availability_zone, d.metadata, d.scheduler_hints, d.fault,
         d.idempotency_key, d.created_at, d.updated_at, d.version
       from jsonb_to_recordset(?::jsonb) as d(uuid uuid, name text, project_id text, user_id text, flavor_id text, flavor_name text,
         vcpus int, memory_mb int, root_gb int, ephemeral_gb int, image_ref text, vm_state text, task_state text, power_state int,
         host text, node text, alternates jsonb, availability_zone text, metadata jsonb, scheduler_hints jsonb, fault jsonb, idempotency_key text,
         created_at timestamptz, updated_at timestamptz, version int)
       on conflict (idempotency_key) do nothing
       returning uuid`,
      [JSON.stringify(rows)],
    );
    return new Set((res.rows as { uuid: string }[]).map((r) => r.uuid));
  }

  private async updates(trx: Knex.Transaction, items: Extract<Item, { t: 'update' }>[]): Promise<Set<string>> {
    if (items.length === 0) return new Set();
    const rows = items.map(({ uuid, expected, fields: f }) => ({
      uuid, expected, vm_state: f.vmState, task_state: f.taskState, power_state: f.powerState, host: f.host, node: f.node,
      alternates: f.alternates, fault: f.fault, launched_at: iso(f.launchedAt), terminated_at: iso(f.terminatedAt),
      deleted_at: iso(f.deletedAt), updated_at: iso(f.updatedAt),
    }));
    const res = await trx.raw(
      // The redundant `= any(array(...))` gives the planner an index condition whatever its row
      // estimates (see docs/architecture.md, "Batched SQL"): joined to jsonb_to_recordset alone, a
      // growing table whose statistics lag is read whole on every batch.
      `with d as materialized (
         select * from jsonb_to_recordset(?::jsonb) as d(uuid uuid, expected int, vm_state text, task_state text, power_state int,
           host text, node text, alternates jsonb, fault jsonb, launched_at timestamptz, terminated_at timestamptz,
           deleted_at timestamptz, updated_at timestamptz))
       update instances i set vm_state = d.vm_state, task_state = d.task_state, power_state = d.power_state, host = d.host,
         node = d.node, alternates = d.alternates, fault = d.fault, launched_at = d.launched_at, terminated_at = d.terminated_at,
         deleted_at = d.deleted_at, updated_at = d.updated_at, version = i.version + 1
       from d
       where i.uuid = any(array(select uuid from d)) and i.uuid = d.uuid and i.version = d.expected
       returning i.uuid`,
      [JSON.stringify(rows)],
    );
    return new Set((res.rows as { uuid: string }[]).map((r) => r.uuid));
  }

  private async actionStarts(trx: Knex.Transaction, actions: ActionRecord[]): Promise<void> {
    if (actions.length === 0) return;
    const rows = actions.map((a) => ({
      instance_uuid: a.instanceUuid, action: a.action, request_id: a.requestId, project_id: a.projectId, user_id: a.userId, start_time: iso(a.at),
    }));
    await trx.raw(
      `insert into instance_actions (instance_uuid, action, request_id, project_id, user_id, start_time)
       select d.instance_uuid, d.action, d.request_id, d.project_id, d.user_id, d.start_time
       from jsonb_to_recordset(?::jsonb) as d(instance_uuid uuid, action text, request_id text, project_id text, user_id text, start_time timestamptz)
       on conflict (instance_uuid, request_id) do nothing`,
      [JSON.stringify(rows)],
    );
  }

  private async actionFinishes(trx: Knex.Transaction, items: ActionFinish[]): Promise<void> {
    if (items.length === 0) return;
    const rows = items.map((i) => ({ instance_uuid: i.instanceUuid, action: i.action, result: i.result, message: i.message, finish_time: iso(i.at) }));
    // Finishes the newest unfinished action of that name (one operation of a kind runs at a time per instance).
    await trx.raw(
      `with d as materialized (
         select * from jsonb_to_recordset(?::jsonb) as d(instance_uuid uuid, action text, result text, message text, finish_time timestamptz)),
       t as materialized (
         select d.*, (select id from instance_actions x where x.instance_uuid = d.instance_uuid and x.action = d.action
                        and x.finish_time is null order by x.start_time desc, x.id desc limit 1) as id
         from d)
       update instance_actions a set finish_time = t.finish_time, result = t.result, message = t.message
       from t where a.id = any(array(select id from t)) and a.id = t.id`,
      [JSON.stringify(rows)],
    );
  }
}
