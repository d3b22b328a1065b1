/**
 * The shelve and soft-delete flows as pure steps: the happy paths, each failure, resume at every
 * step re-issuing exactly that step's effect, and delete during each step.
 */
import t from 'tap';
import {
  DEFAULT_LIFECYCLE_CONFIG, transition,
  type Caller, type Effect, type Env, type LifecycleEvent, type LifecycleState, type Outcome, type Transition,
} from '../../protocols/lifecycle.js';
import { PowerState } from '../../protocols/states.js';

const FLAVOR = { id: '1', name: 'm1.tiny', vcpus: 1, memoryMb: 512, rootGb: 1, ephemeralGb: 0 };
const ADMIN: Caller = { userId: 'a', projectId: 'p', admin: true };
const MEMBER: Caller = { userId: 'u', projectId: 'p', admin: false };
const env = (o: Partial<Env['config']> = {}): Env => ({ now: 5_000, config: { ...DEFAULT_LIFECYCLE_CONFIG, shelvedOffloadTimeS: -1, ...o } });

function st(over: Partial<LifecycleState> = {}): LifecycleState {
  return {
    flavor: FLAVOR, imageRef: 'img-1', vmState: 'active', taskState: null, powerState: PowerState.RUNNING, host: 'h1', alternates: [], fault: null,
    launchedAt: 1_000, locked: null, ctx: { attempt: 5 }, running: null, ...over,
  };
}
const act = (name: string, args: unknown = null, by: Caller = MEMBER) => ({ kind: 'action', name, args, by }) as LifecycleEvent;
function step(s: LifecycleState, e: LifecycleEvent | ((s: LifecycleState) => LifecycleEvent), en: Env = env()): { next: LifecycleState; effects: Effect[]; t: Transition } {
  const r = transition(s, typeof e === 'function' ? e(s) : e, en);
  if (!r.ok) throw new Error(`refused: ${r.attr} ${r.value}`);
  return { next: r.next, effects: r.effects, t: r };
}
const out = (o: Record<string, unknown>) => (s: LifecycleState) => ({ ...o, token: s.running! }) as Outcome;
const main = (effects: Effect[]) => effects.filter((e) => e.kind !== 'notify' && e.kind !== 'cleanup');

/** Runs shelve to its end, answering each effect; returns every state on the way. */
function shelveAll(offloadNow: boolean) {
  const e = env({ shelvedOffloadTimeS: offloadNow ? 0 : -1 });
  const seen: LifecycleState[] = [];
  let r = step(st(), act('shelve'), e);
  seen.push(r.next);
  r = step(r.next, out({ kind: 'powered', powerState: PowerState.SHUTDOWN }), e);
  seen.push(r.next);
  r = step(r.next, out({ kind: 'done', reply: { image: { id: 'snap-1' } }, at: 1 }), e);
  seen.push(r.next);
  r = step(r.next, out({ kind: 'done', reply: {}, at: 2 }), e);
  seen.push(r.next);
  if (offloadNow) {
    r = step(r.next, out({ kind: 'destroyed' }), e);
    seen.push(r.next);
    r = step(r.next, out({ kind: 'released' }), e);
    seen.push(r.next);
  }
  return { seen, last: r };
}

t.test('shelve: power off, snapshot created then uploaded, SHELVED with the snapshot kept for unshelve', async (t) => {
  const r0 = step(st(), act('shelve'));
  t.same(main(r0.effects), [{ kind: 'power', token: { step: 'shelving', attempt: 6 }, host: 'h1', op: 'stop' }]);
  const { seen, last } = shelveAll(false);
  t.same(seen.map((s) => s.taskState), ['shelving', 'shelving_image_pending_upload', 'shelving_image_uploading', null]);
  const create = main(step(seen[0]!, out({ kind: 'powered', powerState: 4 })).effects)[0] as Extract<Effect, { kind: 'image' }>;
  t.match(create, { kind: 'image', verb: 'snapshot-create', body: { imageType: 'snapshot', baseImageRef: 'img-1', host: 'h1' }, owner: { nameSuffix: '-shelved' } });
  const upload = main(step(seen[1]!, out({ kind: 'done', reply: { image: { id: 'snap-1' } }, at: 1 })).effects)[0];
  t.match(upload, { kind: 'host', verb: 'snapshot', host: 'h1', body: { imageId: 'snap-1' } });
  t.match(last.next, { vmState: 'shelved', host: 'h1', powerState: PowerState.SHUTDOWN, ctx: { shelvedImageId: 'snap-1' } });
  t.match(last.t, { finished: { action: 'shelve', result: 'Success' } });
});

t.test('shelve with offload 0: on to the offload in the same task; destroy, then release, then SHELVED_OFFLOADED', async (t) => {
  const { seen, last } = shelveAll(true);
  t.same(seen.map((s) => [s.vmState, s.taskState]), [
    ['active', 'shelving'], ['active', 'shelving_image_pending_upload'], ['active', 'shelving_image_uploading'],
    ['shelved', 'shelving_offloading'], ['shelved', 'shelving_offloading'], ['shelved_offloaded', null],
  ]);
  t.match(main(step(seen[2]!, out({ kind: 'done', reply: {}, at: 2 }), env({ shelvedOffloadTimeS: 0 })).effects), [{ kind: 'destroy', hosts: ['h1'] }]);
  t.match(main(step(seen[3]!, out({ kind: 'destroyed' })).effects), [{ kind: 'release', instance: true }]);
  t.match(last.next, { host: null, powerState: PowerState.NOSTATE, ctx: { shelvedImageId: 'snap-1' } });
  t.match(last.t, { finished: { action: 'shelve', result: 'Success' } });
});

t.test('shelve failures end the task with the fault and the vm state unchanged', async (t) => {
  const { seen } = shelveAll(false);
  for (const s of seen.slice(0, 3)) {
    const r = step(s, out({ kind: 'failed', code: 500, message: 'boom' }));
    t.match(r.next, { vmState: 'active', taskState: null, fault: { message: 'boom' } }, `failed in ${s.taskState}`);
    t.match(r.t, { finished: { result: 'Error' } });
  }
  const noId = step(seen[1]!, out({ kind: 'done', reply: {}, at: 1 }));
  t.match(noId.next, { taskState: null, fault: { code: 500 } }, 'a create without an image id fails');
});

t.test('resume at every step re-issues exactly that step\'s effect under a new token', async (t) => {
  const { seen } = shelveAll(true);
  const kinds = ['power', 'image', 'host', 'destroy', 'release'];
  seen.slice(0, 5).forEach((s, i) => {
    const r = step({ ...s, running: null }, { kind: 'resume' });
    t.equal(main(r.effects).length, 1, `${s.taskState}: one effect`);
    t.equal(main(r.effects)[0]!.kind, kinds[i], `${s.taskState}: ${kinds[i]}`);
    t.same(r.next.running, { step: s.taskState, attempt: s.ctx.attempt + 1 });
  });
  const image = (s: LifecycleState) => main(step({ ...s, running: null }, { kind: 'resume' }).effects)[0] as Extract<Effect, { kind: 'image' }>;
  t.equal(image(seen[1]!).owner?.idSeed, image(seen[1]!).owner?.idSeed, 'a resumed create names the same image');
  t.equal(image(seen[1]!).owner?.idSeed, seen[1]!.ctx.imageSeed);
});

t.test('delete during each shelve step takes over, waits for the outcome, then deletes', async (t) => {
  const { seen } = shelveAll(true);
  for (const s of seen.slice(0, 5)) {
    const d = step(s, act('delete', null, ADMIN));
    t.equal(d.next.taskState, 'deleting', `${s.taskState}: deleting`);
    t.same(main(d.effects), [], 'waits for the effect in flight');
    const o = s.taskState === 'shelving' ? { kind: 'powered', powerState: 4 } : s.ctx.guestsGone ? { kind: 'released' } : s.taskState === 'shelving_offloading' ? { kind: 'destroyed' } : { kind: 'done', reply: {}, at: 1 };
    const after = step(d.next, out(o));
    t.equal(after.next.taskState, 'deleting');
    t.ok(['destroy', 'release'].includes(main(after.effects)[0]!.kind), `${s.taskState}: then the delete's own effect`);
  }
});

t.test('shelveOffload from SHELVED; unshelve in place powers on', async (t) => {
  const shelved = shelveAll(false).last.next;
  const off = step(shelved, act('shelveOffload'));
  t.match(main(off.effects), [{ kind: 'destroy', hosts: ['h1'] }]);
  t.equal(off.next.ctx.shelvedImageId, 'snap-1', 'the snapshot is carried into the task');
  const un = step(shelved, act('unshelve'));
  t.match(main(un.effects), [{ kind: 'power', op: 'start', host: 'h1' }]);
  const done = step(un.next, out({ kind: 'powered', powerState: 1 }));
  t.match(done.next, { vmState: 'active', taskState: null, host: 'h1', ctx: { attempt: un.next.ctx.attempt } });
  t.equal(done.next.ctx.shelvedImageId, undefined, 'the snapshot reference ends with the unshelve');
  const failed = step(un.next, out({ kind: 'failed', code: 500, message: 'no' }));
  t.match(failed.next, { vmState: 'shelved', taskState: null, fault: { message: 'no' } });
});

t.test('unshelve of an offloaded server: select (zone), spawn from the snapshot, ACTIVE; a failed spawn is undone', async (t) => {
  const off = shelveAll(true).last.next;
  t.strictSame(transition(off, act('unshelve', { host: 'h2' })), { ok: false, action: 'unshelve', attr: 'admin', value: 'member' }, 'a host is an admin\'s');
  t.match(main(step(off, act('unshelve', { host: 'h2' }, ADMIN)).effects), [{ kind: 'select', host: 'h2' }]);
  const un = step(off, act('unshelve', { availability_zone: 'az2' }));
  t.match(main(un.effects), [{ kind: 'select', availabilityZone: 'az2' }]);
  const placed = step(un.next, out({ kind: 'scheduled', host: 'h3', alternates: ['h4'] }));
  t.match(main(placed.effects), [{ kind: 'host', host: 'h3', verb: 'spawn', guest: { imageRef: 'snap-1' }, budget: 'spawn' }]);
  const resumed = step({ ...placed.next, running: null }, { kind: 'resume' });
  t.match(main(resumed.effects), [{ kind: 'host', verb: 'spawn' }], 'resume after the placement spawns, no second select');
  const up = step(placed.next, out({ kind: 'done', reply: { guest: { powerState: 1 } }, at: 9 }));
  t.match(up.next, { vmState: 'active', host: 'h3', taskState: null, powerState: 1, launchedAt: 9 });

  const bad = step(placed.next, out({ kind: 'failed', code: 500, message: 'spawn broke' }));
  t.match(main(bad.effects), [{ kind: 'destroy', hosts: ['h3'] }]);
  const cleaned = step(bad.next, out({ kind: 'destroyed' }));
  t.match(main(cleaned.effects), [{ kind: 'release', instance: true }]);
  const settled = step(cleaned.next, out({ kind: 'released' }));
  t.match(settled.next, { vmState: 'shelved_offloaded', host: null, taskState: null, fault: { message: 'spawn broke' }, ctx: { shelvedImageId: 'snap-1' } });
  t.match(settled.t, { finished: { action: 'unshelve', result: 'Error' } });

  const noHost = step(un.next, out({ kind: 'scheduleFailed', message: 'No valid host' }));
  t.match(noHost.next, { vmState: 'shelved_offloaded', host: null, taskState: null, fault: { message: 'No valid host' } });

  const del = step(placed.next, act('delete', null, ADMIN));
  const after = step(del.next, out({ kind: 'done', reply: { guest: { powerState: 1 } }, at: 9 }));
  t.match(main(after.effects), [{ kind: 'destroy', hosts: ['h3'] }], 'delete during the spawn destroys where it went');
});

t.test('soft delete: delete is soft when the interval is set; restore, forceDelete', async (t) => {
  const soft = env({ reclaimInstanceIntervalS: 60 });
  const d = step(st(), act('delete'), soft);
  t.equal(d.next.taskState, 'soft-deleting');
  t.match(main(d.effects), [{ kind: 'power', op: 'stop' }]);
  const s = step(d.next, out({ kind: 'powered', powerState: 4 }), soft).next;
  t.match(s, { vmState: 'soft-delete', taskState: null, host: 'h1' });
  t.equal(step(st({ launchedAt: null }), act('delete'), soft).next.taskState, 'deleting', 'never launched: a real delete');
  t.equal(step(st({ taskState: 'pausing' }), act('delete'), soft).next.taskState, 'deleting', 'busy: a real delete');
  t.equal(step(s, act('delete'), soft).next.taskState, 'deleting', 'a soft-deleted one: a real delete');
  t.equal(step(st(), act('delete')).next.taskState, 'deleting', 'interval 0: a real delete');

  const r = step(s, act('restore'), soft);
  t.match(main(r.effects), [{ kind: 'power', op: 'start' }]);
  t.match(step(r.next, out({ kind: 'powered', powerState: 1 }), soft).next, { vmState: 'active', taskState: null });
  const f = step(s, act('forceDelete'), soft);
  t.equal(f.next.taskState, 'deleting');
  t.match(main(f.effects), [{ kind: 'destroy', hosts: ['h1'] }]);
  t.strictSame(transition(st({ locked: { by: 'owner', reason: null } }), act('forceDelete')), { ok: false, action: 'force_delete', attr: 'locked', value: 'locked' });

  const resumed = step({ ...d.next, running: null }, { kind: 'resume' }, soft);
  t.match(main(resumed.effects), [{ kind: 'power', op: 'stop' }], 'resume re-issues the power off');
  const failed = step(d.next, out({ kind: 'failed', code: 500, message: 'x' }), soft);
  t.match(failed.next, { vmState: 'active', taskState: null, fault: { message: 'x' } });
  const preempted = step(d.next, act('forceDelete', null, ADMIN), soft);
  t.equal(preempted.next.taskState, 'deleting', 'forceDelete wins over a soft delete in flight');
});
