/**
 * The rebuild / rescue / password steps and the query actions, as pure transitions: happy paths,
 * each failure, resume at every step re-issues exactly that step's effect, delete during each step.
 */
import t from 'tap';
import { transition, type Caller, type Effect, type LifecycleEvent, type LifecycleState, type Outcome, type Transition } from '../../protocols/lifecycle.js';
import { PowerState } from '../../protocols/states.js';

const FLAVOR = { id: '1', name: 'm1.tiny', vcpus: 1, memoryMb: 512, rootGb: 1, ephemeralGb: 0 };
const MEMBER: Caller = { userId: 'u1', projectId: 'p1', admin: false };
const ADMIN: Caller = { userId: 'a', projectId: 'pa', admin: true };

const st = (over: Partial<LifecycleState> = {}): LifecycleState => Object.freeze({
  flavor: FLAVOR, imageRef: 'img-1', vmState: 'active', taskState: null, powerState: PowerState.RUNNING, host: 'h1', alternates: [], fault: null,
  launchedAt: 1_000, locked: null, ctx: { attempt: 5 }, running: null, ...over,
} as LifecycleState);

const act = (name: string, args: unknown = null, by: Caller = MEMBER): LifecycleEvent => ({ kind: 'action', name: name as never, args, by });
const env = { now: 99, config: { reclaimInstanceIntervalS: 0, resizeConfirmWindowS: 0, shelvedOffloadTimeS: 0, allowResizeToSameHost: false } };

function ok(r: Transition): { next: LifecycleState; effects: Effect[]; finished?: unknown; query?: unknown } {
  if (!r.ok) throw new Error(`refused: ${r.attr} ${r.value}`);
  return r;
}
const answer = (s: LifecycleState, o: Record<string, unknown>): Outcome => ({ ...o, token: s.running! } as Outcome);
const done = (s: LifecycleState, powerState = PowerState.RUNNING) => answer(s, { kind: 'done', reply: { guest: { powerState } }, at: 500 });
const failed = (s: LifecycleState) => answer(s, { kind: 'failed', code: 409, message: 'host said no' });
const notify = (event: string): Effect => ({ kind: 'notify', event });

t.test('rebuild from active: the host rebuilds from the new image, the server shows it, ACTIVE', async (t) => {
  const a = ok(transition(st(), act('rebuild', { imageRef: 'img-2' }), env));
  t.equal(a.next.taskState, 'rebuilding');
  t.same(a.next.ctx, { attempt: 6, action: 'rebuild', event: 'rebuild', imageId: 'img-2', previousVm: 'active' });
  t.same(a.effects, [notify('rebuild.start'), { kind: 'host', token: { step: 'rebuilding', attempt: 6 }, host: 'h1', verb: 'rebuild', body: {}, budget: 'spawn', guest: { imageRef: 'img-2' } }]);
  t.equal(a.next.imageRef, 'img-1', 'the image changes only once the host has rebuilt');
  const b = ok(transition(a.next, done(a.next), env));
  t.same([b.next.vmState, b.next.taskState, b.next.imageRef, b.next.launchedAt, b.next.ctx], ['active', null, 'img-2', 500, { attempt: 6 }]);
  t.same(b.effects, [notify('rebuild.end')]);
  t.same(b.finished, { action: 'rebuild', result: 'Success', message: null });
});

t.test('rebuild from stopped ends stopped (powered off again, under the rebuild action)', async (t) => {
  const a = ok(transition(st({ vmState: 'stopped', powerState: PowerState.SHUTDOWN }), act('rebuild', { imageRef: 'img-2' }), env));
  const b = ok(transition(a.next, done(a.next), env));
  t.equal(b.next.taskState, 'powering-off');
  t.equal(b.next.imageRef, 'img-2', 'the new image is written before the power-off');
  t.same(b.effects, [{ kind: 'power', token: { step: 'powering-off', attempt: 7 }, host: 'h1', op: 'stop' }]);
  const c = ok(transition(b.next, answer(b.next, { kind: 'powered', powerState: PowerState.SHUTDOWN }), env));
  t.same([c.next.vmState, c.next.taskState, c.next.imageRef], ['stopped', null, 'img-2']);
  t.same(c.effects, [notify('rebuild.end')]);
  t.same(c.finished, { action: 'rebuild', result: 'Success', message: null });
});

t.test('a failed rebuild leaves the server in ERROR with the fault, on its old image', async (t) => {
  const a = ok(transition(st(), act('rebuild', { imageRef: 'img-2' }), env));
  const b = ok(transition(a.next, failed(a.next), env));
  t.same([b.next.vmState, b.next.taskState, b.next.imageRef, b.next.fault], ['error', null, 'img-1', { code: 409, message: 'host said no' }]);
  t.same(b.effects, [notify('rebuild.error')]);
  t.same(b.finished, { action: 'rebuild', result: 'Error', message: 'host said no' });
  t.ok(transition(b.next, act('rebuild', { imageRef: 'img-3' }), env).ok, 'an errored server may be rebuilt');
});

t.test('rescue boots from the rescue image (default: its own) with the password; unrescue returns to ACTIVE', async (t) => {
  const a = ok(transition(st({ vmState: 'stopped', powerState: PowerState.SHUTDOWN }), act('rescue', { adminPass: 'secret' }), env));
  t.same(a.effects[1], { kind: 'host', token: { step: 'rescuing', attempt: 6 }, host: 'h1', verb: 'rescue', budget: 'spawn', body: { rescueImage: 'img-1', adminPass: 'secret' } });
  const b = ok(transition(a.next, done(a.next), env));
  t.same([b.next.vmState, b.next.taskState, b.next.powerState, b.next.ctx], ['rescued', null, PowerState.RUNNING, { attempt: 6 }], 'the password is gone with the task');
  t.same(b.finished, { action: 'rescue', result: 'Success', message: null });
  const other = ok(transition(st(), act('rescue', { rescue_image_ref: 'img-9' }), env));
  t.match(other.effects[1], { body: { rescueImage: 'img-9', adminPass: '' } });

  const c = ok(transition(b.next, act('unrescue'), env));
  t.same(c.effects, [notify('unrescue.start'), { kind: 'host', token: { step: 'unrescuing', attempt: 7 }, host: 'h1', verb: 'unrescue', body: {}, budget: 'spawn' }]);
  const d = ok(transition(c.next, done(c.next), env));
  t.same([d.next.vmState, d.next.taskState], ['active', null], 'ACTIVE, though it was stopped before the rescue (Nova)');
  t.same(d.finished, { action: 'unrescue', result: 'Success', message: null });
});

t.test('rescue failure is ERROR; unrescue failure stays rescued with the fault', async (t) => {
  const a = ok(transition(st(), act('rescue', null), env));
  const b = ok(transition(a.next, failed(a.next), env));
  t.same([b.next.vmState, b.next.fault?.message], ['error', 'host said no']);
  const c = ok(transition(st({ vmState: 'rescued' }), act('unrescue'), env));
  const d = ok(transition(c.next, failed(c.next), env));
  t.same([d.next.vmState, d.next.taskState, d.next.fault?.code], ['rescued', null, 409]);
  t.same(d.effects, [notify('unrescue.error')]);
});

t.test('changePassword: one set-password call; a failure keeps the vm state', async (t) => {
  const a = ok(transition(st(), act('changePassword', { adminPass: 'new-pw' }), env));
  t.equal(a.next.taskState, 'updating_password');
  t.same(a.effects[1], { kind: 'host', token: { step: 'updating_password', attempt: 6 }, host: 'h1', verb: 'set-password', body: { password: 'new-pw' }, budget: 'request' });
  const b = ok(transition(a.next, answer(a.next, { kind: 'done', reply: {}, at: 1 }), env));
  t.same([b.next.vmState, b.next.taskState, b.next.ctx], ['active', null, { attempt: 6 }]);
  t.same(b.finished, { action: 'changePassword', result: 'Success', message: null });
  const c = ok(transition(a.next, failed(a.next), env));
  t.same([c.next.vmState, c.next.fault?.message], ['active', 'host said no']);
});

t.test('resume at every step re-issues exactly that step\'s effect, from the persisted context', async (t) => {
  const cases: [string, unknown, Partial<LifecycleState>][] = [
    ['rebuild', { imageRef: 'img-2' }, {}],
    ['rescue', { adminPass: 'pw' }, {}],
    ['unrescue', null, { vmState: 'rescued' }],
    ['changePassword', { adminPass: 'pw' }, {}],
  ];
  for (const [name, args, over] of cases) {
    const a = ok(transition(st(over), act(name, args), env));
    const issued = a.effects[1] as Effect & { token: unknown };
    // A crash: the memory-only token is lost; the row holds task and context.
    const crashed = { ...a.next, running: null };
    const r = ok(transition(crashed, { kind: 'resume' }, env));
    t.same(r.effects, [{ ...issued, token: { step: a.next.taskState, attempt: 7 } }], `${name}: the same effect under a new token`);
    t.same(transition(r.next, { ...done(a.next) }, env), { ok: true, next: r.next, effects: [] }, `${name}: the old issue's answer is stale`);
    const fin = ok(transition(r.next, done(r.next), env));
    t.equal(fin.next.taskState, null, `${name}: the re-issued effect finishes the task`);
  }
  // The rebuild's power-off step resumes as itself, still closing the rebuild.
  const a = ok(transition(st({ vmState: 'stopped' }), act('rebuild', { imageRef: 'img-2' }), env));
  const b = ok(transition(a.next, done(a.next), env));
  const r = ok(transition({ ...b.next, running: null }, { kind: 'resume' }, env));
  t.same(r.effects, [{ kind: 'power', token: { step: 'powering-off', attempt: 8 }, host: 'h1', op: 'stop' }]);
  t.same(ok(transition(r.next, answer(r.next, { kind: 'powered', powerState: 4 }), env)).finished, { action: 'rebuild', result: 'Success', message: null });
});

t.test('delete during each step waits for the host call, then destroys and releases', async (t) => {
  for (const [name, args, over] of [['rebuild', { imageRef: 'img-2' }, {}], ['rescue', null, {}], ['unrescue', null, { vmState: 'rescued' }], ['changePassword', { adminPass: 'x' }, {}]] as const) {
    const a = ok(transition(st(over as Partial<LifecycleState>), act(name, args), env));
    const d = ok(transition(a.next, act('delete'), env));
    t.same(d.effects, [notify('delete.start')], `${name}: nothing destroyed while the host works`);
    t.equal(d.next.taskState, 'deleting');
    const e = ok(transition(d.next, done(a.next), env));
    t.same(e.effects, [{ kind: 'destroy', token: { step: 'deleting', attempt: 7 }, hosts: ['h1'] }], `${name}: then the guest is destroyed`);
    t.equal(e.next.imageRef, 'img-1', `${name}: the preempted step's outcome is not applied`);
  }
});

t.test('query actions: host call, no state change; Nova\'s host and power checks', async (t) => {
  const c = ok(transition(st({ vmState: 'stopped', powerState: PowerState.SHUTDOWN, taskState: 'powering-on' }), act('getConsoleOutput', { length: 5 }), env));
  t.same(c.query, { host: 'h1', verb: 'console', body: { lines: 5 }, budget: 'request' }, 'any state, while a task runs too');
  t.same(c.effects, [], 'no effect, no notification');
  t.same(ok(transition(st(), act('getConsoleOutput', { length: -1 }), env)).query, { host: 'h1', verb: 'console', body: {}, budget: 'request' }, '-1: all');
  t.same(ok(transition(st(), act('getConsoleOutput', { length: null }), env)).query, { host: 'h1', verb: 'console', body: {}, budget: 'request' }, 'null: all');
  t.match(ok(transition(st(), act('getConsoleOutput', { length: '3' }), env)).query, { body: { lines: 3 } }, 'a string of digits');
  t.match(ok(transition(st(), act('getConsoleOutput', { length: 10 ** 9 }), env)).query, { body: { lines: 10_000 } }, 'capped at the host bound');
  t.strictSame(transition(st({ vmState: 'error', host: null, launchedAt: null }), act('getConsoleOutput', {}), env), { ok: false, action: 'get_console_output', attr: 'host', value: 'None' });
  const locked = st({ locked: { by: 'owner', reason: null } });
  t.ok(transition(locked, act('getConsoleOutput', {}), env).ok, 'a locked server still shows its console');

  t.strictSame(transition(st(), act('diagnostics'), env), { ok: false, action: 'get_diagnostics', attr: 'admin', value: 'member' });
  t.same(ok(transition(st(), act('diagnostics', null, ADMIN), env)).query, { host: 'h1', verb: 'diagnostics', body: {}, budget: 'request' });
  t.strictSame(transition(st({ vmState: 'stopped', powerState: PowerState.SHUTDOWN }), act('diagnostics', null, ADMIN), env),
    { ok: false, action: 'get_diagnostics', attr: 'power_state', value: 'shutdown' });

  t.same(ok(transition(st({ vmState: 'rescued' }), act('trigger_crash_dump'), env)).query, { host: 'h1', verb: 'crash-dump', body: {}, budget: 'request', recorded: true });
  t.strictSame(transition(locked, act('trigger_crash_dump'), env), { ok: false, action: 'trigger_crash_dump', attr: 'locked', value: 'locked' });
});
