/**
 * Evacuate as pure steps: refused while the source service is up (Nova's ComputeServiceInUse),
 * select away from the source, spawn on the destination, release the source's allocation; stopped
 * stays stopped (and 2.95 stops all); a failed spawn goes back to the source in ERROR; resume and
 * delete at every phase.
 */
import t from 'tap';
import { DEFAULT_ENV, transition, type Caller, type Effect, type Env, type LifecycleEvent, type LifecycleState, type Outcome, type Transition } from '../../protocols/lifecycle.js';
import { PowerState } from '../../protocols/states.js';

const FLAVOR = { id: '1', name: 'm1.tiny', vcpus: 1, memoryMb: 512, rootGb: 1, ephemeralGb: 0 };
const ADMIN: Caller = { userId: 'u-admin', projectId: 'p-admin', admin: true };
const MIG = '00000000-0000-4000-8000-00000000000e';
const DOWN: Env = { ...DEFAULT_ENV, newId: () => MIG, hostDown: (h) => h === 'h1' };
const UP: Env = { ...DEFAULT_ENV, newId: () => MIG, hostDown: () => false };

const st = (over: Partial<LifecycleState> = {}): LifecycleState => ({
  flavor: FLAVOR, imageRef: 'img-1', vmState: 'active', taskState: null, powerState: PowerState.RUNNING, host: 'h1', alternates: [], fault: null,
  launchedAt: 1_000, locked: null, ctx: { attempt: 5 }, running: null, ...over,
});
const act = (name: 'evacuate' | 'delete', args: unknown): LifecycleEvent => ({ kind: 'action', name, args, by: ADMIN });
function ok(r: Transition): Extract<Transition, { ok: true }> {
  if (!r.ok) throw new Error(`refused: ${r.attr} ${r.value}`);
  return r;
}
const answer = (s: LifecycleState, o: Record<string, unknown> & { kind: Outcome['kind'] }): Outcome => ({ ...o, token: s.running! } as Outcome);
const awaited = (r: { effects: Effect[] }) => r.effects.filter((e) => e.kind !== 'notify' && e.kind !== 'cleanup');

function forward(s: LifecycleState, args: Record<string, unknown> = {}) {
  const start = ok(transition(s, act('evacuate', args), DOWN));
  const spawn = ok(transition(start.next, answer(start.next, { kind: 'scheduled', host: 'h2', alternates: [] }), DOWN));
  const spawned = ok(transition(spawn.next, answer(spawn.next, { kind: 'done', reply: { guest: { powerState: PowerState.RUNNING } }, at: 3_000 }), DOWN));
  return { start, spawn, spawned };
}

t.test('refused while the source service is up; a 400 reason, not a state', async (t) => {
  t.strictSame(transition(st(), act('evacuate', {}), UP), { ok: false, action: 'evacuate', attr: 'service', value: 'h1' });
  t.strictSame(transition(st(), act('evacuate', {}), DEFAULT_ENV), { ok: false, action: 'evacuate', attr: 'service', value: 'h1' }, 'unknown service state: refused');
  t.strictSame(transition(st({ taskState: 'deleting' }), act('evacuate', {}), DOWN), { ok: false, action: 'evacuate', attr: 'task_state', value: 'deleting' });
});

t.test('active: select away from the source, spawn on the destination, release the source, active on h2', async (t) => {
  const f = forward(st(), { host: 'h2' });
  t.same(f.start.migration, { op: 'create', uuid: MIG, type: 'evacuation', source: 'h1', dest: null, oldFlavorId: '1', newFlavorId: '1' });
  t.same(awaited(f.start), [{ kind: 'selectMigration', token: { step: 'rebuilding', attempt: 6 }, targetHost: 'h2' }]);
  t.same(f.spawn.migration, { op: 'status', uuid: MIG, from: ['accepted', 'pre-migrating'], to: 'pre-migrating', dest: 'h2' });
  t.same(awaited(f.spawn), [{ kind: 'host', token: { step: 'rebuilding', attempt: 7 }, host: 'h2', verb: 'spawn', body: {}, budget: 'spawn', guest: {} }]);
  t.equal(f.spawned.next.host, 'h2', 'the destination is the instance\'s host once it has the guest');
  t.same(awaited(f.spawned), [{ kind: 'release', token: { step: 'rebuilding', attempt: 8 }, instance: false, migrations: [MIG] }]);
  const end = ok(transition(f.spawned.next, answer(f.spawned.next, { kind: 'released' }), DOWN));
  t.match(end.next, { vmState: 'active', taskState: null, host: 'h2', powerState: PowerState.RUNNING, fault: null });
  t.same(end.migration, { op: 'status', uuid: MIG, from: ['accepted', 'pre-migrating'], to: 'done' });
  t.same(end.finished, { action: 'evacuate', result: 'Success', message: null });
});

t.test('stopped stays stopped, and 2.95 stops an active one: a power-off on the destination first', async (t) => {
  for (const [what, s, args] of [['stopped', st({ vmState: 'stopped', powerState: PowerState.SHUTDOWN }), {}], ['2.95', st(), { targetState: 'stopped' }]] as const) {
    const f = forward(s, args);
    t.same(awaited(f.spawned), [{ kind: 'power', token: f.spawned.next.running, host: 'h2', op: 'stop' }], `${what}: powered off`);
    const off = ok(transition(f.spawned.next, answer(f.spawned.next, { kind: 'powered', powerState: PowerState.SHUTDOWN }), DOWN));
    const end = ok(transition(off.next, answer(off.next, { kind: 'released' }), DOWN));
    t.match(end.next, { vmState: 'stopped', host: 'h2', powerState: PowerState.SHUTDOWN }, `${what}: ends stopped`);
  }
});

t.test('a failed spawn: cleaned up, the allocation back on the source, ERROR; no host: the record failed', async (t) => {
  const f = forward(st());
  const bad = ok(transition(f.spawn.next, answer(f.spawn.next, { kind: 'failed', code: 500, message: 'disk' }), DOWN));
  t.same(bad.effects.filter((e) => e.kind === 'cleanup'), [{ kind: 'cleanup', host: 'h2' }]);
  t.same(awaited(bad), [{ kind: 'scheduler', token: bad.next.running, verb: 'revert-move', body: { migrationUuid: MIG }, withInstance: true }]);
  const end = ok(transition(bad.next, answer(bad.next, { kind: 'done', reply: {}, at: 1 }), DOWN));
  t.match(end.next, { vmState: 'error', host: 'h1', fault: { code: 500, message: 'disk' } });
  t.equal(end.migration?.op === 'status' && end.migration.to, 'failed');
  const none = ok(transition(f.start.next, answer(f.start.next, { kind: 'scheduleFailed', message: 'No valid host was found.' }), DOWN));
  t.match(none.next, { vmState: 'active', host: 'h1', taskState: null });
  t.equal(none.migration?.op === 'status' && none.migration.to, 'error');
});

t.test('resume and delete at every phase', async (t) => {
  const f = forward(st());
  for (const [name, r] of Object.entries(f)) {
    const again = ok(transition({ ...r.next, running: null }, { kind: 'resume' }, DOWN));
    t.same({ ...awaited(again)[0], token: null }, { ...awaited(r)[0], token: null }, `${name}: the same effect again`);
    const d = ok(transition(r.next, act('delete', null), DOWN));
    const o = ok(transition(d.next, { kind: 'done', token: r.next.running!, reply: {}, at: 1 } as Outcome, DOWN));
    const destroy = awaited(o)[0] as Extract<Effect, { kind: 'destroy' }>;
    t.same([...destroy.hosts].sort(), r.next.ctx.migration?.dest ? ['h1', 'h2'] : ['h1'], `${name}: delete destroys every end`);
  }
});
