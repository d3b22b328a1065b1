/**
 * Resize and cold migrate as pure steps: the happy paths of resize+confirm, resize+revert and
 * migrate; each failure rolls back (or ends in ERROR keeping the move for a delete); a resume at
 * every step re-issues exactly that step's call; a delete during each step destroys on both hosts
 * and releases both consumers; the 400s for bad flavors.
 */
import t, { type Test } from 'tap';
import {
  DEFAULT_LIFECYCLE_CONFIG, transition,
  type Caller, type Effect, type Env, type FlavorRef, type LifecycleEvent, type LifecycleState, type MigrationWrite, type Outcome, type Transition,
} from '../../protocols/lifecycle.js';
import { PowerState } from '../../protocols/states.js';

const TINY: FlavorRef = { id: '1', name: 'm1.tiny', vcpus: 1, memoryMb: 512, rootGb: 1, ephemeralGb: 0 };
const SMALL: FlavorRef = { id: '2', name: 'm1.small', vcpus: 1, memoryMb: 2048, rootGb: 20, ephemeralGb: 0 };
const ZERO: FlavorRef = { id: '0', name: 'm1.zero', vcpus: 1, memoryMb: 512, rootGb: 0, ephemeralGb: 0 };
const FLAVORS: Record<string, FlavorRef> = { '1': TINY, '2': SMALL, 'm1.small': SMALL, '0': ZERO };
const ENV: Env = { now: 0, config: DEFAULT_LIFECYCLE_CONFIG, newId: () => 'mig-1', flavor: (r) => FLAVORS[r] };
const MEMBER: Caller = { userId: 'u1', projectId: 'p1', admin: false };
const ADMIN: Caller = { userId: 'a', projectId: 'p0', admin: true };

const st = (over: Partial<LifecycleState> = {}): LifecycleState => ({
  flavor: TINY, imageRef: 'img-1', vmState: 'active', taskState: null, powerState: PowerState.RUNNING, host: 'h1', alternates: [], fault: null,
  launchedAt: 1_000, locked: null, ctx: { attempt: 3 }, running: null, ...over,
});
const act = (name: 'resize' | 'migrate' | 'confirmResize' | 'revertResize' | 'delete', args: unknown = null, by: Caller = MEMBER): LifecycleEvent =>
  ({ kind: 'action', name, args, by });

interface Step { next: LifecycleState; effects: Effect[]; migration?: MigrationWrite; finished?: unknown }
function ok(t: Test, r: Transition, what: string): Step {
  if (!r.ok) {
    t.fail(`${what}: refused ${r.attr} ${r.value}`);
    throw new Error(what);
  }
  return r;
}
/** The outcome of the awaited effect. */
const answer = (s: LifecycleState, o: Record<string, unknown> & { kind: Outcome['kind'] }): Outcome => ({ ...o, token: s.running! } as Outcome);
const done = (s: LifecycleState, reply: Record<string, unknown> = {}) => answer(s, { kind: 'done', reply, at: 5 });
const failed = (s: LifecycleState, message = 'boom') => answer(s, { kind: 'failed', code: 500, message });
const guest = (powerState: PowerState) => ({ guest: { powerState } });
/** The one awaited effect (last of the list; notifications and cleanups come first). */
const awaited = (x: Step) => x.effects[x.effects.length - 1]!;
const without = (e: Effect) => { const { token: _t, ...rest } = e as Effect & { token?: unknown }; return rest; };

/** Runs resize to VERIFY_RESIZE; returns every intermediate step. */
function toResized(t: Test, s0 = st()) {
  const a = ok(t, transition(s0, act('resize', { flavorRef: 'm1.small' }), ENV), 'resize');
  const b = ok(t, transition(a.next, answer(a.next, { kind: 'scheduled', host: 'h2', alternates: [] }), ENV), 'scheduled');
  const c = ok(t, transition(b.next, done(b.next, guest(PowerState.SHUTDOWN)), ENV), 'migrated out');
  const d = ok(t, transition(c.next, done(c.next, guest(s0.vmState === 'stopped' ? PowerState.SHUTDOWN : PowerState.RUNNING)), ENV), 'finished');
  return { a, b, c, d };
}

t.test('resize: prep → migrating → finish → VERIFY_RESIZE, with the migration record and the ledger call', async (t) => {
  const { a, b, c, d } = toResized(t);
  t.equal(a.next.taskState, 'resize_prep');
  t.same(a.next.ctx.migration, { uuid: 'mig-1', type: 'resize', source: 'h1', dest: null, oldFlavor: TINY, newFlavor: SMALL });
  t.equal(a.next.ctx.previousVm, 'active');
  t.same(a.migration, { op: 'create', uuid: 'mig-1', type: 'resize', source: 'h1', dest: null, oldFlavorId: '1', newFlavorId: '2', status: 'pre-migrating' });
  t.same(a.effects.map(without), [
    { kind: 'notify', event: 'resize.start' },
    { kind: 'selectMove', migrationUuid: 'mig-1', source: 'h1', flavor: SMALL, allowSameHost: false },
  ]);
  t.same(without(awaited(b)), { kind: 'host', host: 'h1', verb: 'migrate-out', body: { dest: { host: 'h2' } }, budget: 'move' }, 'migrate-out on the source');
  t.same(b.migration, { op: 'status', uuid: 'mig-1', from: ['pre-migrating'], to: 'migrating', dest: 'h2' });
  t.equal(b.next.host, 'h1', 'still on the source while it migrates out');
  t.same(without(awaited(c)), { kind: 'host', host: 'h2', verb: 'finish-migration', body: { powerOn: true }, budget: 'move', guest: { flavor: SMALL } });
  t.equal(c.next.host, 'h2', 'the row names the destination before the guest is built there');
  t.same(c.migration, { op: 'status', uuid: 'mig-1', from: ['pre-migrating', 'migrating'], to: 'post-migrating' });
  t.match(d.next, { vmState: 'resized', taskState: null, host: 'h2', flavor: SMALL, powerState: PowerState.RUNNING, running: null });
  t.same(d.next.ctx, { attempt: c.next.ctx.attempt, migration: { ...a.next.ctx.migration!, dest: 'h2' }, previousVm: 'active' }, 'the move stays for confirm/revert/delete');
  t.same(d.migration, { op: 'status', uuid: 'mig-1', from: ['pre-migrating', 'migrating', 'post-migrating'], to: 'finished' });
  t.same(d.finished, { action: 'resize', result: 'Success', message: null });
});

t.test('confirm: source confirm-migration, then scheduler confirm-move; back to the previous vm state', async (t) => {
  const { d } = toResized(t);
  const e = ok(t, transition(d.next, act('confirmResize'), ENV), 'confirm');
  t.equal(e.next.taskState, 'resize_confirming');
  t.same(e.migration, { op: 'status', uuid: 'mig-1', from: ['finished'], to: 'confirming' });
  t.same(without(awaited(e)), { kind: 'host', host: 'h1', verb: 'confirm-migration', body: {}, budget: 'request' });
  const f = ok(t, transition(e.next, done(e.next), ENV), 'source confirmed');
  t.same(without(awaited(f)), { kind: 'scheduler', verb: 'confirm-move', body: { migrationUuid: 'mig-1' } });
  const g = ok(t, transition(f.next, done(f.next, { released: 1 }), ENV), 'ledger confirmed');
  t.match(g.next, { vmState: 'active', taskState: null, host: 'h2', flavor: SMALL, fault: null });
  t.same(g.next.ctx, { attempt: f.next.ctx.attempt }, 'the move is over');
  t.same(g.migration, { op: 'status', uuid: 'mig-1', from: ['finished', 'confirming'], to: 'confirmed' });
  t.same(g.finished, { action: 'confirmResize', result: 'Success', message: null });
});

t.test('revert: dest revert-migration, source finish-revert, scheduler revert-move; old flavor, source host', async (t) => {
  const { d } = toResized(t, st({ vmState: 'stopped', powerState: PowerState.SHUTDOWN }));
  const e = ok(t, transition(d.next, act('revertResize'), ENV), 'revert');
  t.same(e.migration, { op: 'status', uuid: 'mig-1', from: ['finished'], to: 'reverting' });
  t.same(without(awaited(e)), { kind: 'host', host: 'h2', verb: 'revert-migration', body: {}, budget: 'request' });
  const f = ok(t, transition(e.next, done(e.next), ENV), 'dest reverted');
  t.equal(f.next.host, 'h1', 'the source is named again before its guest comes back');
  t.same(without(awaited(f)), { kind: 'host', host: 'h1', verb: 'finish-revert', body: { powerOn: false }, budget: 'move' }, 'a stopped server stays off');
  const g = ok(t, transition(f.next, done(f.next, guest(PowerState.SHUTDOWN)), ENV), 'source back');
  t.same(without(awaited(g)), { kind: 'scheduler', verb: 'revert-move', body: { migrationUuid: 'mig-1' }, withInstance: true });
  const h = ok(t, transition(g.next, done(g.next, { host: 'h1' }), ENV), 'ledger reverted');
  t.match(h.next, { vmState: 'stopped', taskState: null, host: 'h1', flavor: TINY, powerState: PowerState.SHUTDOWN, fault: null });
  t.same(h.migration, { op: 'status', uuid: 'mig-1', from: ['finished', 'reverting'], to: 'reverted' });
  t.same(h.finished, { action: 'revertResize', result: 'Success', message: null });
});

t.test('migrate (admin): same flavor, optional target host, never the source', async (t) => {
  t.strictSame(transition(st(), act('migrate'), ENV), { ok: false, action: 'migrate', attr: 'admin', value: 'member' });
  const a = ok(t, transition(st(), act('migrate', { host: 'h7' }, ADMIN), ENV), 'migrate');
  t.same(a.migration, { op: 'create', uuid: 'mig-1', type: 'migration', source: 'h1', dest: null, oldFlavorId: '1', newFlavorId: '1', status: 'pre-migrating' });
  t.same(without(awaited(a)), { kind: 'selectMove', migrationUuid: 'mig-1', source: 'h1', flavor: TINY, allowSameHost: false, targetHost: 'h7' });
  const same = { ...ENV, config: { ...ENV.config, allowResizeToSameHost: true } };
  t.match(awaited(ok(t, transition(st(), act('migrate', null, ADMIN), same), 'migrate')), { allowSameHost: false }, 'allow_resize_to_same_host is for resizes only');
  t.match(awaited(ok(t, transition(st(), act('resize', { flavorRef: 2 }), same), 'resize')), { allowSameHost: true }, 'a resize may stay');
  t.strictSame(transition(st(), act('migrate', { host: 'h1' }, ADMIN), ENV), { ok: false, action: 'migrate', attr: 'args', value: 'Unable to migrate instance to the same host.' });
});

t.test("Nova's 400s: unknown flavor, same flavor, smaller disk; confirm without a move", async (t) => {
  const bad = (ref: string) => transition(st({ flavor: SMALL }), act('resize', { flavorRef: ref }), ENV);
  t.strictSame(bad('nope'), { ok: false, action: 'resize', attr: 'args', value: 'Unable to locate requested flavor.' });
  t.strictSame(bad('2'), { ok: false, action: 'resize', attr: 'args', value: 'When resizing, instances must change flavor!' });
  t.match(bad('1'), { ok: false, attr: 'args', value: /smaller disk/ });
  t.match(transition(st({ vmState: 'resized' }), act('confirmResize'), ENV), { ok: false, attr: 'args', value: 'Instance has not been resized.' });
  t.match(transition(st({ vmState: 'resized', taskState: 'resize_confirming' }), act('revertResize'), ENV), { ok: false, attr: 'task_state' }, 'the guard comes first (409)');
});

t.test('failures before the move is finished roll back: previous vm state, the fault, the source allocation back', async (t) => {
  const { a, b, c } = toResized(t);
  // No host found: only the ledger to put back (it may have moved if a reply was lost).
  const noHost = ok(t, transition(a.next, answer(a.next, { kind: 'scheduleFailed', message: 'No valid host was found.' }), ENV), 'no host');
  t.same(without(awaited(noHost)), { kind: 'scheduler', verb: 'revert-move', body: { migrationUuid: 'mig-1' }, withInstance: true });
  const back = ok(t, transition(noHost.next, done(noHost.next, { host: 'h1' }), ENV), 'ledger back');
  t.match(back.next, { vmState: 'active', taskState: null, host: 'h1', flavor: TINY, fault: { code: 500, message: 'No valid host was found.' } });
  t.same(back.migration, { op: 'status', uuid: 'mig-1', from: ['pre-migrating', 'migrating', 'post-migrating', 'finished', 'confirming', 'reverting'], to: 'error' });
  t.same(back.finished, { action: 'resize', result: 'Error', message: 'No valid host was found.' });

  for (const [what, at] of [['migrate-out', b], ['finish-migration', c]] as const) {
    const f = ok(t, transition(at.next, failed(at.next, `${what} failed`), ENV), `${what} fails`);
    t.same(without(awaited(f)), { kind: 'host', host: 'h2', verb: 'revert-migration', body: {}, budget: 'request' }, `${what}: the destination is cleaned first`);
    const g = ok(t, transition(f.next, done(f.next), ENV), 'dest clean');
    t.match(awaited(g), { host: 'h1', verb: 'finish-revert' });
    const h = ok(t, transition(g.next, done(g.next, guest(PowerState.RUNNING)), ENV), 'source back');
    t.match(awaited(h), { verb: 'revert-move' });
    const end = ok(t, transition(h.next, done(h.next, { host: 'h1' }), ENV), 'ledger back');
    t.match(end.next, { vmState: 'active', host: 'h1', flavor: TINY, taskState: null, fault: { message: `${what} failed` } }, `${what}: rolled back`);
    t.same(end.next.ctx, { attempt: h.next.ctx.attempt });
    t.match(end.migration, { to: 'error' });
  }
});

t.test('a failed rollback or confirm ends in ERROR and keeps the move, so a delete cleans both ends', async (t) => {
  const { b, d } = toResized(t);
  const f = ok(t, transition(b.next, failed(b.next), ENV), 'migrate-out fails');
  const broken = ok(t, transition(f.next, failed(f.next, 'dest unreachable'), ENV), 'rollback fails');
  t.match(broken.next, { vmState: 'error', taskState: null, fault: { message: 'dest unreachable' } });
  t.same(broken.next.ctx.migration?.uuid, 'mig-1', 'the move is kept');
  t.match(broken.migration, { to: 'error' });
  const del = ok(t, transition(broken.next, act('delete'), ENV), 'delete');
  t.same(without(awaited(del)), { kind: 'destroy', hosts: ['h1', 'h2'] });
  const gone = ok(t, transition(del.next, answer(del.next, { kind: 'destroyed' }), ENV), 'destroyed');
  t.same(without(awaited(gone)), { kind: 'release', instance: true, migrations: ['mig-1'], ports: true });

  const e = ok(t, transition(d.next, act('confirmResize'), ENV), 'confirm');
  const c2 = ok(t, transition(e.next, failed(e.next, 'source gone'), ENV), 'confirm fails');
  t.match(c2.next, { vmState: 'error', fault: { message: 'source gone' } });
  t.equal(c2.next.ctx.migration?.uuid, 'mig-1');
});

t.test('a resume at every step re-issues exactly that step\'s call under a new token', async (t) => {
  const { a, b, c, d } = toResized(t);
  const e = ok(t, transition(d.next, act('confirmResize'), ENV), 'confirm');
  const e2 = ok(t, transition(e.next, done(e.next), ENV), 'source confirmed');
  const r = ok(t, transition(d.next, act('revertResize'), ENV), 'revert');
  const r2 = ok(t, transition(r.next, done(r.next), ENV), 'dest reverted');
  const r3 = ok(t, transition(r2.next, done(r2.next, guest(PowerState.RUNNING)), ENV), 'source back');
  for (const [name, x] of [['prep', a], ['migrating', b], ['finish', c], ['confirm source', e], ['confirm ledger', e2], ['revert dest', r], ['revert source', r2], ['revert ledger', r3]] as const) {
    // After a crash the state is what was written: no token in memory.
    const crashed = { ...x.next, running: null };
    const again = ok(t, transition(crashed, { kind: 'resume' }, ENV), `resume ${name}`);
    t.equal(again.effects.length, 1, `${name}: one effect`);
    t.same(without(again.effects[0]!), without(awaited(x)), `${name}: the same call`);
    t.same(again.next.running, { step: x.next.taskState, attempt: x.next.ctx.attempt + 1 }, `${name}: a new token`);
    const stale = transition(again.next, done(x.next), ENV);
    t.same(stale, { ok: true, next: again.next, effects: [] }, `${name}: the old issue's outcome is ignored`);
  }
});

t.test('a delete during each move step waits for the call, then destroys on both hosts and releases both consumers', async (t) => {
  const { a, b, c } = toResized(t);
  const outcomes: [string, Step, (s: LifecycleState) => Outcome, string[]][] = [
    ['prep', a, (s) => answer(s, { kind: 'scheduled', host: 'h2', alternates: [] }), ['h2', 'h1']],
    ['migrating', b, (s) => done(s, guest(PowerState.SHUTDOWN)), ['h1', 'h2']],
    ['finish', c, (s) => done(s, guest(PowerState.RUNNING)), ['h2', 'h1']],
  ];
  for (const [name, x, outcome, hosts] of outcomes) {
    const del = ok(t, transition(x.next, act('delete'), ENV), `delete during ${name}`);
    t.equal(del.next.taskState, 'deleting');
    t.same(del.effects, [{ kind: 'notify', event: 'delete.start' }], `${name}: waits for the call in flight`);
    const then = ok(t, transition(del.next, outcome(x.next), ENV), `${name} answers`);
    t.same(without(awaited(then)), { kind: 'destroy', hosts }, `${name}: destroyed on both hosts`);
    const gone = ok(t, transition(then.next, answer(then.next, { kind: 'destroyed' }), ENV), 'destroyed');
    t.same(without(awaited(gone)), { kind: 'release', instance: true, migrations: ['mig-1'], ports: true }, `${name}: both consumers released`);
    const end = ok(t, transition(gone.next, answer(gone.next, { kind: 'released' }), ENV), 'released');
    t.equal(end.next.vmState, 'deleted');
  }
});
