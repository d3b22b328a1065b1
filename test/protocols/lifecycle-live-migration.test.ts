/**
 * Live migration as pure steps: the happy path and its record, each failure's rollback, abort and
 * force-complete by phase, resume at every phase (exactly that phase's effect again), delete during
 * every phase (both ends destroyed, both consumers released).
 */
import t from 'tap';
import { DEFAULT_ENV, transition, type Caller, type Effect, type Env, type LifecycleEvent, type LifecycleState, type Outcome, type Transition } from '../../protocols/lifecycle.js';
import { PowerState } from '../../protocols/states.js';

const FLAVOR = { id: '1', name: 'm1.tiny', vcpus: 1, memoryMb: 512, rootGb: 1, ephemeralGb: 0 };
const ADMIN: Caller = { userId: 'u-admin', projectId: 'p-admin', admin: true };
const MEMBER: Caller = { userId: 'u1', projectId: 'p1', admin: false };
const MIG = '00000000-0000-4000-8000-00000000000a';
const ENV: Env = { ...DEFAULT_ENV, newId: () => MIG };
const tok = (attempt: number) => ({ step: 'migrating' as const, attempt });

const st = (over: Partial<LifecycleState> = {}): LifecycleState => ({
  flavor: FLAVOR, imageRef: 'img-1', vmState: 'active', taskState: null, powerState: PowerState.RUNNING, host: 'h1', alternates: [], fault: null,
  launchedAt: 1_000, locked: null, ctx: { attempt: 5 }, running: null, ...over,
});
const act = (name: 'liveMigrate' | 'liveMigrationAbort' | 'liveMigrationForceComplete' | 'delete', args: unknown, by = ADMIN): LifecycleEvent => ({ kind: 'action', name, args, by });

function ok(r: Transition): Extract<Transition, { ok: true }> {
  if (!r.ok) throw new Error(`refused: ${r.attr} ${r.value}`);
  return r;
}
/** The outcome of the effect the state awaits. */
const answer = (s: LifecycleState, o: Record<string, unknown> & { kind: Outcome['kind'] }): Outcome => ({ ...o, token: s.running! } as Outcome);
const done = (s: LifecycleState, reply: Record<string, unknown> = {}) => ok(transition(s, answer(s, { kind: 'done', reply, at: 2_000 }), ENV));
const failed = (s: LifecycleState, code: number, message = 'boom') => ok(transition(s, answer(s, { kind: 'failed', code, message }), ENV));
const awaited = (r: { effects: Effect[] }) => r.effects.filter((e) => e.kind !== 'notify' && e.kind !== 'cleanup');

/** The state at each forward phase, from the start. */
function forward() {
  const start = ok(transition(st(), act('liveMigrate', { host: null, block_migration: 'auto' }), ENV));
  const prepare = ok(transition(start.next, answer(start.next, { kind: 'scheduled', host: 'h2', alternates: [] }), ENV));
  const migrate = done(prepare.next);
  const finish = done(migrate.next);
  const confirm = done(finish.next, { guest: { powerState: PowerState.RUNNING } });
  const end = done(confirm.next);
  return { start, prepare, migrate, finish, confirm, end };
}

t.test('happy path: select, prepare, migrate, finish, confirm; the record queued -> completed', async (t) => {
  const f = forward();
  t.same(f.start.effects, [{ kind: 'notify', event: 'live_migration.start' }, { kind: 'selectMigration', token: tok(6) }]);
  t.same(f.start.migration, { op: 'create', uuid: MIG, type: 'live-migration', source: 'h1', dest: null, oldFlavorId: '1', newFlavorId: '1' });
  t.equal(f.start.next.taskState, 'migrating');
  t.same(awaited(f.prepare), [{ kind: 'host', token: tok(7), host: 'h2', verb: 'prepare-incoming', body: {}, budget: 'move', guest: {} }]);
  t.same(f.prepare.migration, { op: 'status', uuid: MIG, from: ['queued'], to: 'preparing', dest: 'h2' });
  t.same(awaited(f.migrate), [{ kind: 'host', token: tok(8), host: 'h1', verb: 'live-migrate', body: { dest: { host: 'h2' } }, budget: 'move' }]);
  t.same(f.migrate.migration, { op: 'status', uuid: MIG, from: ['preparing'], to: 'running' });
  t.same(awaited(f.finish), [{ kind: 'host', token: tok(9), host: 'h2', verb: 'finish-incoming', body: {}, budget: 'move' }]);
  t.equal(f.finish.next.host, 'h1', 'still on the source until the destination has it');
  t.same(awaited(f.confirm), [{ kind: 'scheduler', token: tok(10), verb: 'confirm-move', body: { migrationUuid: MIG } }]);
  t.equal(f.confirm.next.host, 'h2', 'the destination holds the guest');
  t.same(f.end.migration, { op: 'status', uuid: MIG, from: ['post-migrating'], to: 'completed' });
  t.same(f.end.finished, { action: 'live-migration', result: 'Success', message: null });
  t.match(f.end.next, { vmState: 'active', taskState: null, host: 'h2', running: null, fault: null, ctx: { attempt: 10 } });
  t.same(f.end.effects, [{ kind: 'notify', event: 'live_migration.end' }]);
});

t.test('a requested host is the select target; member callers are refused', async (t) => {
  const r = ok(transition(st(), act('liveMigrate', { host: 'h3', block_migration: false }), ENV));
  t.same(awaited(r), [{ kind: 'selectMigration', token: tok(6), targetHost: 'h3' }]);
  t.strictSame(transition(st(), act('liveMigrate', { host: null, block_migration: 'auto' }, MEMBER), ENV), { ok: false, action: 'os-migrateLive', attr: 'admin', value: 'member' });
});

t.test('resume at every phase re-issues exactly that phase\'s effect under a new token', async (t) => {
  const f = forward();
  for (const [name, r] of Object.entries({ select: f.start, prepare: f.prepare, migrate: f.migrate, finish: f.finish, confirm: f.confirm })) {
    const crashed = { ...r.next, running: null };
    const again = ok(transition(crashed, { kind: 'resume' }, ENV));
    const before = awaited(r)[0] as Effect & { token: unknown };
    const after = awaited(again)[0] as Effect & { token: { attempt: number } };
    t.same({ ...after, token: null }, { ...before, token: null }, `${name}: the same effect`);
    t.equal(after.token.attempt, r.next.ctx.attempt + 1, `${name}: a fresh token`);
    t.equal(again.next.ctx.phase, r.next.ctx.phase, `${name}: the phase is kept`);
    t.same(transition(again.next, answer(r.next, { kind: 'done', reply: {}, at: 1 }), ENV), { ok: true, next: again.next, effects: [] }, `${name}: the old issue's outcome is stale`);
  }
});

t.test('failures roll back to the source: the record ends error, the instance active on h1', async (t) => {
  const f = forward();
  const sched = ok(transition(f.start.next, answer(f.start.next, { kind: 'scheduleFailed', message: 'No valid host was found.' }), ENV));
  t.match(sched.next, { taskState: null, vmState: 'active', host: 'h1', fault: null });
  t.same(sched.migration, { op: 'status', uuid: MIG, from: ['queued', 'preparing', 'running', 'post-migrating'], to: 'error' });
  t.same(sched.finished, { action: 'live-migration', result: 'Error', message: 'No valid host was found.' });

  const p = failed(f.prepare.next, 500);
  t.same(awaited(p), [{ kind: 'host', token: tok(8), host: 'h2', verb: 'abort-incoming', body: {}, budget: 'move' }], 'prepare failed: the destination is cleaned');
  const pr = done(p.next);
  t.same(awaited(pr), [{ kind: 'scheduler', token: tok(9), verb: 'revert-move', body: { migrationUuid: MIG }, withInstance: true }]);
  const pe = done(pr.next);
  t.match(pe.next, { taskState: null, vmState: 'active', host: 'h1', fault: null });
  t.equal(pe.migration?.op === 'status' && pe.migration.to, 'error');
  t.same(pe.finished, { action: 'live-migration', result: 'Error', message: 'boom' });

  const m = failed(f.migrate.next, 500);
  t.same(awaited(m).map((e) => 'verb' in e && e.verb), ['abort-live-migration'], 'transfer failed: the source is stopped first');
  t.same(awaited(done(m.next)).map((e) => 'verb' in e && e.verb), ['abort-incoming']);

  const gone = failed(f.migrate.next, 404);
  t.same(awaited(gone).map((e) => 'verb' in e && e.verb), ['finish-incoming'], 'not on the source (a resumed, finished transfer): the destination is asked');

  const fin = failed(f.finish.next, 404);
  t.same(awaited(fin).map((e) => 'verb' in e && e.verb), ['abort-incoming']);
});

t.test('abort: by phase, the record ends cancelled and the instance stays on the source', async (t) => {
  const f = forward();
  const args = { migration: MIG };
  t.strictSame(transition(st(), act('liveMigrationAbort', args), ENV), { ok: false, action: 'abort live migration', attr: 'task_state', value: 'null' }, 'nothing to abort');
  t.match(transition(f.start.next, act('liveMigrationAbort', args), ENV), { ok: false, attr: 'migration' }, 'queued: only from 2.65');
  t.match(transition(f.migrate.next, act('liveMigrationAbort', { migration: '00000000-0000-4000-8000-0000000000ff' }), ENV), { ok: false, attr: 'migration' }, 'another migration');
  t.match(transition(f.finish.next, act('liveMigrationAbort', args), ENV), { ok: false, attr: 'migration' }, 'post-migrating: too late');
  t.match(transition(f.migrate.next, act('liveMigrationAbort', args, MEMBER), ENV), { ok: false, attr: 'admin' });

  const a = ok(transition(f.migrate.next, act('liveMigrationAbort', args), ENV));
  t.same(awaited(a), [{ kind: 'host', token: tok(9), host: 'h1', verb: 'abort-live-migration', body: {}, budget: 'move' }]);
  t.same(a.finished, { action: 'live-migration', result: 'Error', message: 'aborted' }, 'the live migration\'s own record ends, aborted');
  t.same(transition(a.next, answer(f.migrate.next, { kind: 'failed', code: 500, message: 'aborted' }), ENV), { ok: true, next: a.next, effects: [] }, 'the aborted transfer\'s outcome is stale');
  const b = done(a.next);
  const c = done(b.next);
  const end = done(c.next);
  t.match(end.next, { taskState: null, vmState: 'active', host: 'h1', fault: null });
  t.equal(end.migration?.op === 'status' && end.migration.to, 'cancelled');
  t.same(end.finished, { action: 'live_migration_cancel', result: 'Success', message: null });

  const q = ok(transition(f.start.next, act('liveMigrationAbort', { ...args, queued: true }), ENV));
  t.same(awaited(q).map((e) => 'verb' in e && e.verb), ['revert-move'], 'queued (2.65): only the claim is undone');
  const pq = ok(transition(f.prepare.next, act('liveMigrationAbort', { ...args, queued: true }), ENV));
  t.same(awaited(pq).map((e) => 'verb' in e && e.verb), ['abort-incoming'], 'preparing (2.65): the destination, then the claim');
  const done404 = failed(a.next, 404);
  t.same(awaited(done404).map((e) => 'verb' in e && e.verb), ['finish-incoming'], 'the transfer finished before the abort: it completes instead');
});

t.test('force-complete: only while the transfer runs; nothing else changes', async (t) => {
  const f = forward();
  const args = { migration: MIG };
  t.match(transition(f.prepare.next, act('liveMigrationForceComplete', args), ENV), { ok: false, attr: 'migration' });
  const r = ok(transition(f.migrate.next, act('liveMigrationForceComplete', args), ENV));
  t.same(r.next.running, f.migrate.next.running, 'the transfer keeps running');
  t.equal(r.next.taskState, 'migrating');
  t.same(r.finished, { action: 'live_migration_force_complete', result: 'Success', message: null });
  t.same(awaited(done(r.next)).map((e) => 'verb' in e && e.verb), ['finish-incoming'], 'the transfer\'s outcome still moves it on');
  t.match(transition(st({ vmState: 'paused', taskState: 'migrating', ctx: f.migrate.next.ctx }), act('liveMigrationForceComplete', args), ENV), { ok: false, attr: 'vm_state' });
});

t.test('delete during every phase: both ends destroyed, instance and migration consumers released', async (t) => {
  const f = forward();
  for (const [name, r] of Object.entries({ select: f.start, prepare: f.prepare, migrate: f.migrate, finish: f.finish, confirm: f.confirm })) {
    const d = ok(transition(r.next, act('delete', null), ENV));
    t.equal(d.next.taskState, 'deleting', `${name}: delete takes over`);
    t.same(awaited(d), [], `${name}: waits for the effect in flight`);
    const o = ok(transition(d.next, answer(r.next, { kind: 'done', reply: {}, at: 1 }), ENV));
    const destroy = awaited(o)[0] as Extract<Effect, { kind: 'destroy' }>;
    const expected = r.next.ctx.migration?.dest ? ['h1', 'h2'] : ['h1'];
    t.same([...destroy.hosts].sort(), expected, `${name}: every host that may hold the guest`);
    const rel = ok(transition(o.next, answer(o.next, { kind: 'destroyed' }), ENV));
    t.same(awaited(rel), [{ kind: 'release', token: rel.next.running, instance: true, migrations: [MIG], ports: true }], `${name}: both consumers released`);
    t.equal(ok(transition(rel.next, answer(rel.next, { kind: 'released' }), ENV)).next.vmState, 'deleted');
  }
});
