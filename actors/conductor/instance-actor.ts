/**
 * An instance actor: the single writer of one instance. Its mailbox serialises every operation on
 * the instance; each event goes through the pure lifecycle, the next state is written by
 * compare-and-swap, and only then are the effects started. Outcomes come back as messages.
 * It rehydrates from the database when (re)started, and resumes an interrupted task after a crash.
 */
import { randomUUID } from 'node:crypto';
import { BadRequestError, ConflictError, ForbiddenError, InternalError, NotFoundError, NovactError, OverLimitError } from '../../protocols/errors.js';
import {
  ACTIONS,
  DEFAULT_LIFECYCLE_CONFIG,
  initialState,
  isActionName,
  isDriven,
  syncAction,
  transition,
  type Caller,
  type Env,
  type HostQuery,
  type LifecycleConfig,
  type LifecycleEvent,
  type LifecycleState,
  type MigrationWrite,
  type ObservedEvent,
  type Outcome,
  type Refusal,
  type Token,
} from '../../protocols/lifecycle.js';
import type { ServerReply } from '../../protocols/messages.js';
import type { PowerState } from '../../protocols/states.js';
import { Instance, type InstanceRow } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';
import type { ReplyTo } from '../../runtime/actors/reply.js';
import type { ActorDef } from '../../runtime/actors/system.js';
import type { Clock } from '../../runtime/clock.js';
import type { EffectRunner } from './effects.js';
import type { ActionFinish, ActionRecord, InstanceStore, StateFields } from './instance-store.js';
import { serverView } from './views.js';
import { updateInstance } from './instance-update.js';
import { instanceActions } from './instance-actions.js';
import { isStale, powerSyncStopRecord } from './power-sync-record.js';
import { rebuildGuestData, type GuestFields } from './guest-data.js';
import { rowFlavor } from './guest-spec.js';
import type { InstanceTally } from './instance-tally.js';

export type InstanceMsg =
  | { kind: 'request'; verb: string; body: Record<string, unknown>; requestId: string; key: string | undefined; reply: ReplyTo<unknown> }
  | { kind: 'outcome'; outcome: Outcome }
  /** A new build: start scheduling, or (`placed`) await the placement a batch select is making. */
  | { kind: 'build'; placed?: boolean }
  | { kind: 'resume' }
  /** Power sync: what the host says about the guest (power-sync-router.ts). */
  | { kind: 'observed'; event: ObservedEvent }
  /** Chaos hook: makes the actor throw, to exercise supervision. */
  | { kind: 'crash' };

interface State {
  loaded: boolean;
  row: InstanceRow | null;
  life: LifecycleState;
  /** Idempotency keys of accepted actions → their reply, so a retry does not act twice. */
  recent: Map<string, unknown>;
  /** A reply held until the first step of its task answers (`holdReply`; memory only: lost on a crash, the caller retries). */
  held?: { token: Token; reply: ReplyTo<unknown>; key: string | undefined; result: Record<string, unknown> | undefined };
}

export interface InstanceActorDeps {
  orm: Orm;
  store: InstanceStore;
  effects: EffectRunner;
  clock: Clock;
  lifecycle?: LifecycleConfig;
  flavor?: Env['flavor'];
  /** Writes the migration records the lifecycle's transitions ask for (absent: none are kept). */
  migrations?: (row: InstanceRow, w: MigrationWrite, at: Date) => Promise<void>;
  /** Whether a host's compute service is down or forced down (evacuate's precondition). */
  hostDown?: (host: string) => Promise<boolean>;
  /** Delivers an outcome to whichever actor holds the instance when it arrives. */
  deliver: (uuid: string, o: Outcome) => void;
  idleShutdownMs: number;
  /** The instance does not exist (or is deleted): its actor stops at once and the id is cached as missing. */
  missing?: (uuid: string) => void;
  /** Told of every state write that applied (instances by state, builds, reschedules, faults). */
  tally?: InstanceTally;
}

const RECENT_KEYS = 64;

function lifeOf(r: InstanceRow): LifecycleState {
  const driven = r.taskState === null || isDriven(r.taskState);
  return {
    flavor: rowFlavor(r),
    imageRef: r.imageRef,
    vmState: driven ? r.vmState : 'error',
    taskState: driven ? (r.taskState as LifecycleState['taskState']) : null,
    powerState: r.powerState as PowerState,
    host: r.host,
    alternates: r.alternates,
    // A task this version cannot drive is not cleared silently: the instance shows why it stopped.
    fault: driven ? r.fault : { code: 500, message: `task ${r.taskState} cannot be resumed by this conductor` },
    launchedAt: r.launchedAt ? new Date(r.launchedAt).getTime() : null,
    locked: r.lockedBy ? { by: r.lockedBy, reason: r.lockedReason } : null,
    ctx: r.taskContext ?? { attempt: 0 },
    running: null,
  };
}

/** The row's state columns as the lifecycle state says. */
function stateFields(row: InstanceRow, l: LifecycleState, now: Date): StateFields {
  const deleted = l.vmState === 'deleted';
  const f = l.flavor;
  return {
    flavorId: f.id, flavorName: f.name, vcpus: f.vcpus, memoryMb: f.memoryMb, rootGb: f.rootGb, ephemeralGb: f.ephemeralGb, swapMb: f.swapMb ?? 0,
    imageRef: l.imageRef,
    vmState: l.vmState,
    taskState: l.taskState,
    powerState: l.powerState,
    host: l.host,
    node: l.host,
    alternates: l.alternates,
    fault: l.fault,
    taskContext: l.ctx,
    lockedBy: l.locked?.by ?? null,
    lockedReason: l.locked?.reason ?? null,
    launchedAt: l.launchedAt === null ? null : new Date(l.launchedAt),
    terminatedAt: deleted ? row.terminatedAt ?? now : row.terminatedAt,
    deletedAt: deleted ? row.deletedAt ?? now : row.deletedAt,
    updatedAt: now,
  };
}

/** A failed host query as the caller sees it: a typed error passes through, anything else is a 500. */
function queryError(err: unknown): NovactError {
  if (err instanceof NovactError) return err;
  return new InternalError(err instanceof Error ? err.message : String(err));
}

/** The held reply of an action whose first step just answered: the server, or that step's error. */
function answerHeld<S extends { row: InstanceRow | null; held?: { token: Token; reply: ReplyTo<unknown>; key: string | undefined; result: Record<string, unknown> | undefined }; recent: Map<string, unknown> }>(s: S, o: Outcome): S {
  const h = s.held;
  if (!h || h.token.step !== o.token.step || h.token.attempt !== o.token.attempt) return s;
  if (o.kind === 'failed') h.reply.fail(errorOfCode(o.code, o.message));
  else {
    const reply: ServerReply = { server: serverView(s.row!), ...(h.result ? { result: h.result } : {}) };
    if (h.key !== undefined) remember(s, h.key, reply);
    h.reply.ok(reply);
  }
  return { ...s, held: undefined };
}

const BY_CODE: Record<number, (m: string) => NovactError> = {
  400: (m) => new BadRequestError(m), 403: (m) => new ForbiddenError(m), 404: (m) => new NotFoundError(m),
  409: (m) => new ConflictError(m), 413: (m) => new OverLimitError(m),
};
const errorOfCode = (code: number, message: string): NovactError => (BY_CODE[code] ?? ((m: string) => new InternalError(m)))(message);

function remember(s: { recent: Map<string, unknown> }, key: string, reply: unknown): void {
  s.recent.set(key, reply);
  if (s.recent.size > RECENT_KEYS) s.recent.delete(s.recent.keys().next().value as string);
}

function changedOnDisk(a: LifecycleState, b: LifecycleState): boolean {
  return (
    a.vmState !== b.vmState || a.taskState !== b.taskState || a.powerState !== b.powerState || a.host !== b.host ||
    a.launchedAt !== b.launchedAt || a.fault !== b.fault || a.alternates !== b.alternates || a.ctx !== b.ctx || a.locked !== b.locked ||
    a.flavor !== b.flavor || a.imageRef !== b.imageRef
  );
}

/** Nova's answer to a refused action: 409 (state or lock), 403 (admin-only, an admin's lock). */
function refusal(uuid: string, r: Refusal): NovactError {
  if (r.attr === 'admin' || (r.attr === 'locked' && r.value === 'admin')) {
    return new ForbiddenError(`Policy doesn't allow ${r.action} to be performed.`);
  }
  if (r.attr === 'locked') return new ConflictError(`Instance ${uuid} is locked`);
  if (r.attr === 'args') return new BadRequestError(r.value);
  if (r.attr === 'host') return new ConflictError(`Instance ${uuid} is not ready`);
  if (r.attr === 'service') return new BadRequestError(`Compute service of ${r.value} is still in use.`);
  if (r.attr === 'migration') return new BadRequestError(r.value);
  return new ConflictError(`Cannot '${r.action}' instance ${uuid} while it is in ${r.attr} ${r.value}`);
}

export function instanceActorDef(uuid: string, deps: InstanceActorDeps, adopted?: InstanceRow): ActorDef<State, InstanceMsg> {
  let starts = 0;
  const notFound = () => new NotFoundError(`Instance ${uuid} could not be found.`);

  const load = async (s: State): Promise<State> => {
    const row = await deps.orm.em.fork().findOne(Instance, { uuid }, { disableIdentityMap: true });
    return { ...s, loaded: true, row: row ?? null, life: row ? lifeOf(row) : initialState() };
  };

  const config = deps.lifecycle ?? DEFAULT_LIFECYCLE_CONFIG;

  /** What a move's start reads: fresh uuids, and (evacuate) whether the instance's host is down now. */
  const moveEnv = async (s: State, event: LifecycleEvent): Promise<Pick<Env, 'hostDown'>> => {
    const host = s.life.host;
    if (event.kind !== 'action' || !('hostState' in ACTIONS[event.name]) || host === null || !deps.hostDown) return {};
    const down = await deps.hostDown(host);
    return { hostDown: (h) => h === host && down };
  };

  /**
   * Runs one event through the lifecycle: write (CAS), then start effects. `guest`: the guest data a
   * rebuild replaces, written with its state (so its host call builds from it) only if it is accepted.
   */
  const apply = async (s: State, event: LifecycleEvent, start?: ActionRecord, guest?: GuestFields): Promise<{ s: State; refused?: NovactError; query?: HostQuery }> => {
    const row = s.row!;
    const now = new Date(deps.clock.now());
    const t = transition(s.life, event, { now: now.getTime(), config, newId: randomUUID, ...(deps.flavor ? { flavor: deps.flavor } : {}), ...(await moveEnv(s, event)) });
    if (!t.ok) return { s, refused: refusal(uuid, t) };
    if (t.query) return { s, query: t.query };
    let next = row;
    if (changedOnDisk(s.life, t.next) || guest) {
      const fields = stateFields(row, t.next, now);
      const finish: ActionFinish | undefined = t.finished ? { instanceUuid: uuid, ...t.finished, at: now } : undefined;
      // An action that ends as it starts (lock) is recorded finished in one row.
      const records = start && finish && finish.action === start.action
        ? { start: { ...start, finish } }
        : { ...(start ? { start } : {}), ...(finish ? { finish } : {}) };
      if (!(await deps.store.update(uuid, row.version, fields, records, guest))) {
        // Someone else wrote this instance (a stale copy of this actor): adopt the truth, act no further.
        const fresh = await load(s);
        return { s: fresh, refused: new ConflictError(`Instance ${uuid} changed concurrently; retry`) };
      }
      next = { ...row, ...fields, ...guest, version: row.version + 1 };
      deps.tally?.moved(uuid, row, next);
    }
    if (t.migration && deps.migrations) await deps.migrations(next, t.migration, now);
    const out: State = { ...s, row: next, life: t.next };
    for (const e of t.effects) {
      deps.effects.run(next, e, () => serverView(next), (o) => deps.deliver(uuid, o));
    }
    return { s: out };
  };

  /** An action record with no state change (a query's), written by CAS like any other write. */
  const recordOnly = async (s: State, start: ActionRecord, result: 'Success' | 'Error', message: string | null): Promise<State> => {
    const row = s.row!;
    const now = new Date(deps.clock.now());
    const fields = stateFields(row, s.life, now);
    const finish: ActionFinish = { instanceUuid: uuid, action: start.action, result, message, at: now };
    if (!(await deps.store.update(uuid, row.version, fields, { start: { ...start, finish } }))) return load(s);
    return { ...s, row: { ...row, ...fields, version: row.version + 1 } };
  };

  /**
   * A query action: the host answers, the caller gets `{server, result}`. Reads are answered when the
   * host replies, without holding the mailbox; a recorded one (crash dump) acts on the guest, so it
   * is awaited (bounded by the request timeout) and serialised with the instance's other operations.
   */
  const onQuery = async (s: State, m: Extract<InstanceMsg, { kind: 'request' }>, q: HostQuery, start: ActionRecord): Promise<State> => {
    const row = s.row!;
    const call = deps.effects.query(row, q, m.key ?? m.requestId);
    if (!q.recorded) {
      call.then((result) => m.reply.ok({ server: serverView(row), result } satisfies ServerReply), (err: unknown) => m.reply.fail(queryError(err)));
      return s;
    }
    try {
      const result = await call;
      const next = await recordOnly(s, start, 'Success', null);
      const reply: ServerReply = { server: serverView(next.row!), result };
      if (m.key !== undefined) remember(next, m.key, reply);
      m.reply.ok(reply);
      return next;
    } catch (err) {
      const e = queryError(err);
      m.reply.fail(e);
      return recordOnly(s, start, 'Error', e.message);
    }
  };

  const onRequest = async (s: State, m: Extract<InstanceMsg, { kind: 'request' }>): Promise<State> => {
    const row = s.row;
    if (!row || row.vmState === 'deleted') {
      m.reply.fail(notFound());
      return s;
    }
    if (m.verb === 'get') {
      m.reply.ok({ server: serverView(row) } satisfies ServerReply);
      return s;
    }
    if (m.verb === 'actions') {
      m.reply.ok(await instanceActions(deps.orm, uuid, m.body));
      return s;
    }
    if (m.key !== undefined && s.recent.has(m.key)) {
      m.reply.ok(s.recent.get(m.key));
      return s;
    }
    if (m.verb === 'update') {
      // Name and metadata: no lifecycle effect, one CAS write (instance-update.ts).
      const updated = await updateInstance(deps.orm, row, m.body, new Date(deps.clock.now()));
      m.reply.ok({ server: serverView(updated) } satisfies ServerReply);
      return { ...s, row: updated };
    }
    if (!isActionName(m.verb)) throw new NotFoundError(`instances have no action '${m.verb}'`);
    // Operators' own client calls carry no caller: they act as an admin of the instance's project.
    const by = (m.body.by as Caller | undefined) ?? { userId: row.userId, projectId: row.projectId, admin: true };
    const start: ActionRecord = {
      instanceUuid: uuid, action: ACTIONS[m.verb].record, requestId: m.key ?? m.requestId, projectId: row.projectId, userId: by.userId, at: new Date(deps.clock.now()),
    };
    const args = (m.body.args ?? null) as Record<string, unknown> | null;
    const guest = m.verb === 'rebuild' ? rebuildGuestData(row, args) : undefined;
    const { s: next, refused, query } = await apply(s, { kind: 'action', name: m.verb, args, by }, start, guest);
    if (refused) {
      m.reply.fail(refused);
      return next;
    }
    if (query) return onQuery(next, m, query, start);
    const result = ACTIONS[m.verb].result?.(next.life);
    if ('holdReply' in ACTIONS[m.verb] && next.life.running) {
      return { ...next, held: { token: next.life.running, reply: m.reply, key: m.key, result } };
    }
    const reply: ServerReply = { server: serverView(next.row!), ...(result ? { result } : {}) };
    if (m.key !== undefined) remember(next, m.key, reply);
    m.reply.ok(reply);
    return next;
  };

  return {
    idleShutdownMs: deps.idleShutdownMs,
    init: (ctx) => {
      // After a crash the mailbox may hold nothing that would move an interrupted task on: resume it.
      if (starts++ > 0) queueMicrotask(() => ctx.self.tell({ kind: 'resume' }));
      const first = starts === 1 && adopted;
      return {
        loaded: !!first,
        row: first ? adopted : null,
        life: first ? lifeOf(adopted) : initialState(),
        recent: new Map(),
      };
    },
    handle: async (state, m, ctx) => {
      let s = state.loaded ? state : await load(state);
      // Nothing to own (an id that does not exist, or an instance already deleted): answer and stop,
      // so a stream of GETs for random ids leaves no actors behind.
      if (!s.row || (s.row.vmState === 'deleted' && m.kind === 'request')) {
        if (m.kind === 'request') m.reply.fail(notFound());
        deps.missing?.(uuid);
        ctx.self.stop();
        return s;
      }
      switch (m.kind) {
        case 'crash':
          throw new Error('chaos: crash requested');
        case 'request':
          try {
            return await onRequest(s, m);
          } catch (err) {
            // Bad input is answered, not a reason to crash; anything else crashes and is supervised.
            if (!(err instanceof NovactError)) throw err;
            m.reply.fail(err);
            return s;
          }
        case 'build':
          // The row was written as building/scheduling by the conductor; only the effects remain.
          if (s.row && s.life.taskState === 'scheduling' && s.life.running === null) {
            if (m.placed) return { ...s, life: { ...s.life, running: { step: 'scheduling', attempt: s.life.ctx.attempt } } };
            s = (await apply(s, { kind: 'resume', fresh: true })).s;
          }
          return s;
        case 'observed': {
          // Nova skips an instance with a task under way (cheaply here, before any write).
          if (s.life.taskState !== null || isStale(s.row, m.event)) return s;
          const stops = syncAction(s.life, m.event) !== 'none';
          return (await apply(s, m.event, stops ? powerSyncStopRecord(s.row, deps.clock.now()) : undefined)).s;
        }
        case 'resume':
        case 'outcome': {
          if (!s.row) return s;
          const next = (await apply(s, m.kind === 'resume' ? { kind: 'resume' } : m.outcome)).s;
          return m.kind === 'outcome' ? answerHeld(next, m.outcome) : next;
        }
      }
    },
  };
}
