/**
 * createImage and createBackup. `image_snapshot_pending` (a backup: `image_backup`, as Nova shows
 * them) creates the queued image under the id chosen when the action was accepted, so a resumed
 * create answers the same image; `image_uploading` has the host take the snapshot and upload it
 * (queued → saving → active), then, for a backup, rotates that type's backups.
 *
 * A failed upload first checks the image (the host may have completed it before failing to
 * answer), and deletes it unless it is active; the server then ends idle in its vm state, without a
 * fault (Nova shows none on a server that is not in ERROR), the instance action recording the error.
 * The phase within `image_uploading` is in the context, so a resume re-issues exactly that effect.
 */
import type { Effect } from '../effects.js';
import { eventOf, finish, goto, notify, type Accepted, type Step, type Transition } from '../kit.js';
import type { LifecycleState, SnapshotTask, Token } from '../state.js';

type Phase = NonNullable<SnapshotTask['phase']>;

const taskOf = (s: LifecycleState): SnapshotTask => s.ctx.snapshot!;
const phaseOf = (s: LifecycleState): Phase => taskOf(s).phase ?? 'upload';

/** Step `image_uploading`, phase `phase` (and what else the task must remember). */
const to = (s: LifecycleState, phase: Phase, patch: Partial<SnapshotTask> = {}) =>
  goto(s, 'image_uploading', { ctx: { ...s.ctx, snapshot: { ...taskOf(s), ...patch, phase } } });

/** Idle again, vm state and fault as they were; the instance action and notification say it failed. */
function failed(s: LifecycleState, message: string): Transition {
  const t = finish(s, {}) as Accepted;
  return { ...t, effects: [notify(`${eventOf(s)}.error`)], finished: { ...t.finished!, result: 'Error', message } };
}

/** The image holds the snapshot: a backup rotates, a snapshot is done. */
const uploaded = (s: LifecycleState): Transition => (taskOf(s).backup ? to(s, 'rotate') : finish(s, {}));

const creating: Step = {
  effect: (s, token): Effect => {
    const t = taskOf(s);
    const limits = t.limits ?? {};
    return {
      kind: 'image', token, verb: 'snapshot-create', origin: 'snapshot',
      body: {
        imageId: t.imageId, name: t.name, host: s.host!, userId: t.userId,
        imageType: t.backup ? 'backup' : 'snapshot',
        ...(t.backup ? { backupType: t.backup.type } : {}),
        // The request's metadata, applied over Nova's own keys (the runner adds the inherited properties).
        ...(t.metadata ? { extraProperties: t.metadata } : {}),
        ...(limits.images !== undefined ? { maxImages: limits.images } : {}),
        ...(limits.imageBytes !== undefined ? { quotaBytes: limits.imageBytes } : {}),
      },
    };
  },
  on: {
    done: (s) => to(s, 'upload'),
    // A create whose answer was lost may still have made the image: delete it (a 404 there is fine).
    failed: (s, o) => to(s, 'abort', { error: o.message }),
  },
};

const EFFECTS: Record<Phase, (s: LifecycleState, t: SnapshotTask, token: Token) => Effect> = {
  upload: (s, t, token) => ({ kind: 'host', token, host: s.host!, verb: 'snapshot', body: { imageId: t.imageId }, budget: 'move' }),
  check: (_s, t, token) => ({ kind: 'image', token, verb: 'get', body: {}, imageId: t.imageId }),
  rotate: (_s, t, token) => ({
    kind: 'image', token, verb: 'backup-rotate', origin: 'instance', body: { backupType: t.backup!.type, rotation: t.backup!.rotation },
  }),
  abort: (_s, t, token) => ({ kind: 'image', token, verb: 'delete', body: {}, imageId: t.imageId }),
};

type DoneOutcome = { reply: Record<string, unknown> };
const DONE: Record<Phase, (s: LifecycleState, o: DoneOutcome) => Transition> = {
  upload: uploaded,
  check: (s, o) => ((o.reply.image as { status?: string } | undefined)?.status === 'active' ? uploaded(s) : to(s, 'abort')),
  rotate: (s) => finish(s, {}),
  abort: (s) => failed(s, taskOf(s).error ?? 'snapshot failed'),
};
const FAILED: Record<Phase, (s: LifecycleState, message: string) => Transition> = {
  upload: (s, message) => to(s, 'check', { error: message }),
  check: (s) => to(s, 'abort'),
  // The backup itself is kept: only the older ones may be left over.
  rotate: (s, message) => failed(s, `backup rotation failed: ${message}`),
  abort: (s) => failed(s, taskOf(s).error ?? 'snapshot failed'),
};

const uploading: Step = {
  effect: (s, token) => EFFECTS[phaseOf(s)](s, taskOf(s), token),
  on: {
    done: (s, o) => DONE[phaseOf(s)](s, o),
    failed: (s, o) => FAILED[phaseOf(s)](s, o.message),
  },
};

export const snapshotSteps = {
  image_snapshot_pending: creating,
  image_backup: creating,
  image_uploading: uploading,
};
