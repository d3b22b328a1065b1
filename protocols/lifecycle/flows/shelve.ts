/**
 * Shelve, offload, unshelve (Nova's compute manager `shelve_instance`, `shelve_offload_instance`,
 * `unshelve_instance`). Shelve powers the guest off, snapshots it into `<name>-shelved` (created by
 * the image role, uploaded by the host), and is then SHELVED; with `shelved_offload_time` 0 it goes
 * straight on to the offload, in the same task, as Nova does. Offload destroys the guest and then
 * releases the allocation (the capacity is free only once the guest is gone). Unshelve powers a
 * SHELVED guest on where it is, or schedules an offloaded one again and spawns it from the snapshot.
 */
import { PowerState } from '../../states.js';
import type { DrivenTaskState } from '../driven.js';
import type { Effect } from '../effects.js';
import { finish, goto, type Step, type Transition } from '../kit.js';
import type { LifecycleState } from '../state.js';
import type { UnshelveArgs } from '../actions-shelve.js';

const fail = (s: LifecycleState, o: { code: number; message: string }) => finish(s, {}, { code: o.code, message: o.message });

/** Keeps the shelve snapshot in the idle context (for the unshelve): the task's end clears the rest. */
function keepImage(s: LifecycleState, t: Transition): Transition {
  const image = s.ctx.imageId ?? s.ctx.shelvedImageId;
  if (!t.ok || image === undefined) return t;
  return { ...t, next: { ...t.next, ctx: { ...t.next.ctx, shelvedImageId: image } } };
}

const finishShelved = (s: LifecycleState, patch: Partial<LifecycleState>, fault?: { code: number; message: string }) => keepImage(s, finish(s, patch, fault));

/** Shelving is done: SHELVED, or on to the offload at once when the offload time is 0. */
function shelved(s: LifecycleState, offloadNow: boolean): Transition {
  const ctx = { ...s.ctx, ...(s.ctx.imageId ? { shelvedImageId: s.ctx.imageId } : {}) };
  if (offloadNow) return goto(s, 'shelving_offloading', { vmState: 'shelved', ctx });
  return finishShelved(s, { vmState: 'shelved' });
}

const shelving: Step = {
  effect: (s, token) => ({ kind: 'power', token, host: s.host!, op: 'stop' }),
  on: {
    powered: (s, o, env) => goto(s, 'shelving_image_pending_upload', { powerState: o.powerState, ctx: { ...s.ctx, imageSeed: `shelve-${env.now}-${s.ctx.attempt}` } }),
    failed: fail,
  },
};

/** The image role creates the queued snapshot image for this host to fill. */
const pendingUpload: Step = {
  effect: (s, token): Effect => ({
    kind: 'image', token, verb: 'snapshot-create',
    body: { imageType: 'snapshot', baseImageRef: s.imageRef, host: s.host!, minDisk: s.flavor.rootGb, minRam: s.flavor.memoryMb },
    owner: { nameSuffix: '-shelved', idSeed: s.ctx.imageSeed ?? 'shelve' },
  }),
  on: {
    done: (s, o) => {
      const id = (o.reply.image as { id?: unknown } | undefined)?.id;
      if (typeof id !== 'string') return fail(s, { code: 500, message: 'the image role answered no image id' });
      return goto(s, 'shelving_image_uploading', { ctx: { ...s.ctx, imageId: id } });
    },
    failed: fail,
  },
};

/** The host uploads the guest's disk into it (a failed upload deletes the image: the host aborts it). */
const uploading: Step = {
  effect: (s, token) => ({ kind: 'host', token, host: s.host!, verb: 'snapshot', body: { imageId: s.ctx.imageId! }, budget: 'move' }),
  on: {
    done: (s, _o, env) => shelved(s, env.config.shelvedOffloadTimeS === 0),
    failed: fail,
  },
};

/** Destroy the guest, then release the allocation; only then SHELVED_OFFLOADED without a host. */
const offloading: Step = {
  effect: (s, token) => (s.ctx.guestsGone || s.host === null
    ? { kind: 'release', token, instance: true, migrations: [] }
    : { kind: 'destroy', token, hosts: [s.host] }),
  on: {
    destroyed: (s) => goto(s, 'shelving_offloading', { powerState: PowerState.NOSTATE, ctx: { ...s.ctx, guestsGone: true } }),
    released: (s) => finishShelved(s, { vmState: 'shelved_offloaded', host: null, alternates: [], powerState: PowerState.NOSTATE }),
  },
};

const argsOf = (s: LifecycleState): Exclude<UnshelveArgs, null> => (s.ctx.args ?? {}) as Exclude<UnshelveArgs, null>;

/** An unshelved server's shelve snapshot is deleted (Nova does; clients wait for it to go). */
function forgetSnapshot(s: LifecycleState, t: Transition): Transition {
  const imageId = s.ctx.shelvedImageId;
  return t.ok && imageId ? { ...t, effects: [...t.effects, { kind: 'forgetImage', imageId }] } : t;
}

/**
 * One task state, several effects chosen by the state: a SHELVED guest is powered on; an offloaded
 * one is placed (select, or a claim of the admin's host), then spawned from the shelve snapshot; a
 * failed attempt destroys what it left, releases its claim and settles back in SHELVED_OFFLOADED.
 */
const unshelving: Step = {
  effect: (s, token): Effect => {
    if (s.vmState === 'shelved') return { kind: 'power', token, host: s.host!, op: 'start' };
    if (s.ctx.unshelveFault) {
      return s.host !== null ? { kind: 'destroy', token, hosts: [s.host] } : { kind: 'release', token, instance: true, migrations: [] };
    }
    if (!s.ctx.claimed || s.host === null) {
      const a = argsOf(s);
      return { kind: 'select', token, ...(a.availability_zone !== undefined ? { availabilityZone: a.availability_zone } : {}), ...(a.host ? { host: a.host } : {}) };
    }
    return { kind: 'host', token, host: s.host, verb: 'spawn', body: {}, budget: 'spawn', guest: { imageRef: s.ctx.shelvedImageId ?? s.imageRef } };
  },
  on: {
    powered: (s, o) => forgetSnapshot(s, finish(s, { vmState: 'active', powerState: o.powerState, fault: null })),
    scheduled: (s, o) => goto(s, 'unshelving', { host: o.host, alternates: [], ctx: { ...s.ctx, claimed: true } }),
    scheduleFailed: (s, o) => finish(s, {}, { code: 500, message: o.message }),
    done: (s, o) => {
      const power = (o.reply.guest as { powerState?: PowerState } | undefined)?.powerState ?? PowerState.RUNNING;
      return forgetSnapshot(s, finish(s, { vmState: 'active', powerState: power, fault: null, launchedAt: o.at }));
    },
    failed: (s, o) => {
      // A SHELVED guest that would not power on stays SHELVED; an offloaded one is undone first.
      if (s.vmState === 'shelved') return fail(s, o);
      return goto(s, 'unshelving', { ctx: { ...s.ctx, unshelveFault: { code: o.code, message: o.message } } });
    },
    destroyed: (s) => goto(s, 'unshelving', { host: null, powerState: PowerState.NOSTATE }),
    // Only an undone attempt releases: the server stays SHELVED_OFFLOADED, with the attempt's fault.
    released: (s) => finishShelved(s, { host: null, alternates: [] }, s.ctx.unshelveFault ?? { code: 500, message: 'unshelve failed' }),
  },
};

export const shelveSteps = {
  shelving,
  shelving_image_pending_upload: pendingUpload,
  shelving_image_uploading: uploading,
  shelving_offloading: offloading,
  unshelving,
} satisfies Partial<Record<DrivenTaskState, Step>>;
