/**
 * createImage and createBackup as pure transitions: the image created first under the id chosen at
 * acceptance, the host's upload, a backup's rotation; each failure (the image checked, deleted unless
 * active, the server idle in its vm state without a fault); resume at every step and phase re-issues
 * exactly that effect; delete during each step; the REST answer's shape.
 */
import t, { type Test } from 'tap';
import {
  ACTIONS, DEFAULT_LIFECYCLE_CONFIG, transition,
  type Caller, type Effect, type Env, type LifecycleEvent, type LifecycleState, type Outcome, type Transition,
} from '../../protocols/lifecycle.js';
import { PowerState } from '../../protocols/states.js';

const IMAGE = '0b7e1d2c-3a4f-4e5d-8c6b-7a8f9e0d1c2b';
const ENV: Env = { now: 5_000, config: DEFAULT_LIFECYCLE_CONFIG, newId: () => IMAGE };
const MEMBER: Caller = { userId: 'u1', projectId: 'p1', admin: false, limits: { images: 7, imageBytes: 1_000_000 } };
const FLAVOR = { id: '1', name: 'm1.tiny', vcpus: 1, memoryMb: 512, rootGb: 1, ephemeralGb: 0 };

function st(over: Partial<LifecycleState> = {}): LifecycleState {
  return Object.freeze({
    flavor: FLAVOR, imageRef: 'img-1', vmState: 'active', taskState: null, powerState: PowerState.RUNNING, host: 'h1', alternates: [], fault: null,
    launchedAt: 1_000, locked: null, ctx: { attempt: 5 }, running: null, ...over,
  } as LifecycleState);
}

function accepted(t: Test, r: Transition, what: string) {
  if (!r.ok) throw new Error(`${what} was refused: ${r.attr} ${r.value}`);
  t.ok(r.ok, what);
  return r;
}
const step = (t: Test, s: LifecycleState, e: LifecycleEvent, what: string) => accepted(t, transition(s, e, ENV), what);
const answer = (s: LifecycleState, o: Record<string, unknown> & { kind: Outcome['kind'] }): Outcome => ({ ...o, token: s.running! }) as Outcome;
const done = (s: LifecycleState, reply: Record<string, unknown> = {}) => answer(s, { kind: 'done', reply, at: 6_000 });
const failed = (s: LifecycleState, message: string, code = 500) => answer(s, { kind: 'failed', message, code });
const snapshot = (args: unknown = { name: 'snap-1' }): LifecycleEvent => ({ kind: 'action', name: 'createImage', args, by: MEMBER });
const backup = (rotation: number | string = 2): LifecycleEvent => ({ kind: 'action', name: 'createBackup', args: { name: 'nightly', backup_type: 'daily', rotation }, by: MEMBER });
/** The one effect that awaits an outcome. */
const awaited = (effects: Effect[]) => effects.filter((e) => e.kind !== 'notify');

const hostSnapshot = (attempt: number): Effect => ({
  kind: 'host', token: { step: 'image_uploading', attempt }, host: 'h1', verb: 'snapshot', body: { imageId: IMAGE }, budget: 'move',
});
const imageDelete = (attempt: number): Effect => ({ kind: 'image', token: { step: 'image_uploading', attempt }, verb: 'delete', body: {}, imageId: IMAGE });
const imageCheck = (attempt: number): Effect => ({ kind: 'image', token: { step: 'image_uploading', attempt }, verb: 'get', body: {}, imageId: IMAGE });

t.test('createImage: image created, host uploads, idle in the same vm state', async (t) => {
  for (const vm of ['active', 'stopped', 'paused', 'suspended'] as const) {
    const a = step(t, st({ vmState: vm }), snapshot({ name: 'snap-1', metadata: { purpose: 'test' } }), `accepted in ${vm}`);
    t.equal(a.next.taskState, 'image_snapshot_pending');
    t.same(ACTIONS.createImage.result!(a.next), { imageId: IMAGE }, 'the reply names the image chosen now');
    t.same(a.effects, [
      { kind: 'notify', event: 'snapshot.start' },
      {
        kind: 'image', token: { step: 'image_snapshot_pending', attempt: 6 }, verb: 'snapshot-create', origin: 'snapshot',
        body: { imageId: IMAGE, name: 'snap-1', host: 'h1', userId: 'u1', imageType: 'snapshot', extraProperties: { purpose: 'test' }, maxImages: 7, quotaBytes: 1_000_000 },
      },
    ], 'the snapshot image is created first, counted against the caller\'s quotas');
    const b = step(t, a.next, done(a.next, { image: { id: IMAGE, status: 'queued' } }), 'created');
    t.equal(b.next.taskState, 'image_uploading');
    t.same(b.effects, [hostSnapshot(7)], 'then the host takes the snapshot into it');
    const c = step(t, b.next, done(b.next), 'uploaded');
    t.same([c.next.vmState, c.next.taskState, c.next.powerState, c.next.fault, c.next.running], [vm, null, PowerState.RUNNING, null, null]);
    t.same(c.next.ctx, { attempt: 7 }, 'context cleared');
    t.same(c.effects, [{ kind: 'notify', event: 'snapshot.end' }]);
    t.same(c.finished, { action: 'createImage', result: 'Success', message: null });
  }
});

t.test('createBackup: created as a backup, uploaded, then that type is rotated', async (t) => {
  const a = step(t, st(), backup('3'), 'accepted');
  t.equal(a.next.taskState, 'image_backup');
  t.match(awaited(a.effects)[0], { verb: 'snapshot-create', body: { imageType: 'backup', backupType: 'daily', name: 'nightly' } });
  const b = step(t, a.next, done(a.next), 'created');
  const c = step(t, b.next, done(b.next), 'uploaded');
  t.equal(c.next.taskState, 'image_uploading', 'still the backup task while it rotates');
  t.same(c.effects, [{ kind: 'image', token: { step: 'image_uploading', attempt: 8 }, verb: 'backup-rotate', origin: 'instance', body: { backupType: 'daily', rotation: 3 } }],
    'rotation as given (a string of digits is a number)');
  const d = step(t, c.next, done(c.next, { deleted: ['x'] }), 'rotated');
  t.same([d.next.taskState, d.next.vmState], [null, 'active']);
  t.same(d.finished, { action: 'createBackup', result: 'Success', message: null });
  const failedRotation = step(t, c.next, failed(c.next, 'image role down'), 'rotation failed');
  t.same([failedRotation.next.taskState, failedRotation.next.fault], [null, null], 'idle, no fault: the backup itself is kept');
  t.same(failedRotation.finished, { action: 'createBackup', result: 'Error', message: 'backup rotation failed: image role down' });
  t.same(failedRotation.effects, [{ kind: 'notify', event: 'snapshot.error' }]);
});

/** A createImage in `image_uploading`, phase upload. */
function uploading(t: Test, vm: LifecycleState['vmState'] = 'active') {
  const a = step(t, st({ vmState: vm }), snapshot(), 'accepted');
  return step(t, a.next, done(a.next), 'created').next;
}

t.test('a failed upload: the image is checked, deleted unless active, and the server idles without a fault', async (t) => {
  const up = uploading(t, 'stopped');
  const f = step(t, up, failed(up, 'disk read error'), 'upload failed');
  t.same(f.effects, [imageCheck(8)], 'first: did the image complete anyway?');
  const gone = step(t, f.next, done(f.next, { image: { id: IMAGE, status: 'saving' } }), 'not active');
  t.same(gone.effects, [imageDelete(9)], 'a half-filled image is deleted');
  const end = step(t, gone.next, done(gone.next, { image: { status: 'deleted' } }), 'deleted');
  t.same([end.next.vmState, end.next.taskState, end.next.fault, end.next.running], ['stopped', null, null, null]);
  t.same(end.finished, { action: 'createImage', result: 'Error', message: 'disk read error' }, 'the action records the upload\'s error');
  t.same(end.effects, [{ kind: 'notify', event: 'snapshot.error' }]);

  const active = step(t, f.next, done(f.next, { image: { id: IMAGE, status: 'active' } }), 'active after all');
  t.same(active.finished, { action: 'createImage', result: 'Success', message: null }, 'a completed image is kept: success');

  const checkFailed = step(t, f.next, failed(f.next, 'Image not found', 404), 'check failed');
  t.same(checkFailed.effects, [imageDelete(9)], 'an image that cannot be checked is deleted (a 404 there is fine)');
  const abortFailed = step(t, checkFailed.next, failed(checkFailed.next, 'Image not found', 404), 'already gone');
  t.same(abortFailed.finished, { action: 'createImage', result: 'Error', message: 'disk read error' });
  t.equal(abortFailed.next.taskState, null);
});

t.test('a failed create deletes whatever it may have made, then ends in error', async (t) => {
  const a = step(t, st(), snapshot(), 'accepted');
  const f = step(t, a.next, failed(a.next, 'Project p1 is over a limit', 413), 'create refused');
  t.same(f.effects, [imageDelete(7)]);
  const end = step(t, f.next, failed(f.next, 'not found', 404), 'nothing was made');
  t.same(end.finished, { action: 'createImage', result: 'Error', message: 'Project p1 is over a limit' });
  t.same([end.next.vmState, end.next.fault], ['active', null]);
});

t.test('a backup whose upload failed is not rotated', async (t) => {
  const a = step(t, st(), backup(1), 'accepted');
  const b = step(t, a.next, done(a.next), 'created');
  const f = step(t, b.next, failed(b.next, 'host gone'), 'upload failed');
  const g = step(t, f.next, done(f.next, { image: { status: 'queued' } }), 'not active');
  t.match(g.effects, [{ verb: 'delete' }], 'deleted, never rotated');
  const end = step(t, g.next, done(g.next), 'deleted');
  t.same(end.finished, { action: 'createBackup', result: 'Error', message: 'host gone' });
});

t.test('resume at every step and phase re-issues exactly that effect, for the same image', async (t) => {
  const a = step(t, st(), backup(2), 'accepted');
  const states: [string, LifecycleState][] = [['create', a.next]];
  const b = step(t, a.next, done(a.next), 'created');
  states.push(['upload', b.next]);
  const check = step(t, b.next, failed(b.next, 'x'), 'failed');
  states.push(['check', check.next]);
  const abort = step(t, check.next, done(check.next, { image: { status: 'saving' } }), 'abort');
  states.push(['abort', abort.next]);
  const rotate = step(t, b.next, done(b.next), 'uploaded');
  states.push(['rotate', rotate.next]);
  for (const [what, s] of states) {
    // A restarted conductor: the row as written (no running token), then resume.
    const r = step(t, { ...s, running: null }, { kind: 'resume' }, `resume ${what}`);
    const before = awaited(s === a.next ? a.effects : what === 'upload' ? b.effects : what === 'check' ? check.effects : what === 'abort' ? abort.effects : rotate.effects)[0]!;
    t.equal(r.effects.length, 1, `${what}: one effect`);
    t.same(r.effects[0], { ...before, token: { step: s.taskState!, attempt: s.ctx.attempt + 1 } }, `${what}: the same effect under a new token`);
    t.equal(r.next.ctx.snapshot?.imageId, IMAGE, `${what}: the same image`);
    t.same(transition(r.next, { ...done(r.next), token: s.running! }, ENV), { ok: true, next: r.next, effects: [] }, `${what}: the old issue's outcome is stale`);
  }
});

t.test('delete during each step waits for its outcome, then deletes the guest', async (t) => {
  const a = step(t, st(), snapshot(), 'accepted');
  const b = step(t, a.next, done(a.next), 'created');
  for (const [what, s] of [['create', a.next], ['upload', b.next]] as const) {
    const d = step(t, s, { kind: 'action', name: 'delete', args: null, by: MEMBER }, `delete during ${what}`);
    t.same(d.effects, [{ kind: 'notify', event: 'delete.start' }]);
    t.equal(d.next.taskState, 'deleting');
    const e = step(t, d.next, done(d.next), `${what} ends`);
    t.match(e.effects, [{ kind: 'destroy', hosts: ['h1'] }], `${what}: then the guest is destroyed`);
  }
});

t.test('refusals: wrong state, a task under way, a locked server', async (t) => {
  for (const vm of ['building', 'error', 'rescued', 'resized', 'shelved', 'shelved_offloaded', 'soft-delete'] as const) {
    t.same(transition(st({ vmState: vm }), snapshot(), ENV), { ok: false, action: 'createImage', attr: 'vm_state', value: vm }, `createImage in ${vm}`);
  }
  t.same(transition(uploading(t), backup(), ENV), { ok: false, action: 'createBackup', attr: 'task_state', value: 'image_uploading' }, 'one snapshot at a time');
  t.same(transition(st({ locked: { by: 'owner', reason: null } }), snapshot(), ENV), { ok: false, action: 'createImage', attr: 'locked', value: 'locked' });
});

t.test('the REST answer: {image_id} from 2.45, before that a Location (a backup only when it keeps it)', async (t) => {
  const rest = (mv: number) => ({ atLeast: (n: number) => mv >= n, imageUrl: (id: string) => `http://api/v2.1/images/${id}` });
  const r = { imageId: IMAGE };
  t.same(ACTIONS.createImage.respond!(r, { name: 'x' }, rest(45)), { body: { image_id: IMAGE } });
  t.same(ACTIONS.createImage.respond!(r, { name: 'x' }, rest(44)), { headers: { Location: `http://api/v2.1/images/${IMAGE}` } });
  t.same(ACTIONS.createBackup.respond!(r, { name: 'x', backup_type: 'd', rotation: 1 }, rest(1)), { headers: { Location: `http://api/v2.1/images/${IMAGE}` } });
  t.same(ACTIONS.createBackup.respond!(r, { name: 'x', backup_type: 'd', rotation: '0' }, rest(1)), {}, 'rotation 0: no Location');
  t.same(ACTIONS.createBackup.respond!(r, { name: 'x', backup_type: 'd', rotation: 0 }, rest(45)), { body: { image_id: IMAGE } });
});
