/**
 * The state the instance lifecycle works on. Everything but `running` is persisted with the
 * instance row; `task_state` is the program counter (which step runs), `ctx` holds what that step
 * needs (source and destination, flavors, images), so a restarted conductor re-issues exactly the
 * step the database shows.
 */
import type { RequestedNetworks } from '../catalog/network.js';
import { PowerState, type VmState } from '../states.js';
import type { DrivenTaskState } from './driven.js';

/** Who asked for an action (the API's caller); admin-only actions and locks are judged by it. */
export interface Caller {
  userId: string;
  projectId: string;
  admin: boolean;
  /** The limits the caller's API applies to what the action creates (absent: unlimited). */
  limits?: CallerLimits;
}

/** Glance's quotas as the API enforces them (-1: unlimited): a snapshot counts against them. */
export interface CallerLimits {
  /** `image_count_total`. */
  images?: number;
  /** `user_storage_quota`, in bytes. */
  imageBytes?: number;
}

/** A snapshot or backup under way (flows/snapshot.ts): the image it fills and where it is. */
export interface SnapshotTask {
  /** Chosen when the action is accepted, so every retry and resume creates and fills the same image. */
  imageId: string;
  name: string;
  metadata?: Record<string, string>;
  /** Set for createBackup: the backup type and how many of that type to keep. */
  backup?: { type: string; rotation: number };
  userId: string;
  limits?: CallerLimits;
  /** Within `image_uploading`: the upload, checking a failed upload's image, rotating, deleting the image. */
  phase?: 'upload' | 'check' | 'rotate' | 'abort';
  /** Why the snapshot failed (kept while its image is deleted). */
  error?: string;
}

/** Identifies one issue of a step's effect; an outcome that echoes another token is stale. */
export interface Token {
  step: DrivenTaskState;
  attempt: number;
}

/** A flavor as a move needs it (resize carries the new one, revert restores the old). */
export interface FlavorRef {
  id: string;
  name: string;
  vcpus: number;
  memoryMb: number;
  rootGb: number;
  ephemeralGb: number;
  /** MiB; absent: none. */
  swapMb?: number;
}

/** Per-task context, persisted with the row (jsonb) and cleared when the task ends. */
export interface TaskContext {
  /** Bumped each time a step's effect is issued, so outcomes of an earlier issue are ignored. */
  attempt: number;
  /** The instance action the task records (`create`, `stop`, …) and its notification prefix. */
  action?: string;
  event?: string;
  /** The vm_state to return to when the task ends or is undone (resize revert, unrescue). */
  previousVm?: VmState;
  migration?: {
    uuid: string;
    type: 'resize' | 'migration' | 'live-migration' | 'evacuation';
    source: string;
    dest: string | null;
    oldFlavor?: FlavorRef;
    newFlavor?: FlavorRef;
    alternates?: string[];
  };
  /** The scheduler already claimed the current host (the first spawn needs no claim of its own). */
  claimed?: true;
  /** A delete destroyed every guest; only the release is left. */
  guestsGone?: true;
  /** A move's call under way within its task state (confirm: source, ledger; revert: dest, source, ledger). */
  moveStage?: 'dest' | 'source' | 'ledger';
  /** A move being rolled back after this fault: it ends in the previous vm state with it. */
  undo?: { code: number; message: string };
  rescueImage?: string;
  /** A build's requested networks, resolved by the API (`none` or NICs); its ports are made at spawn. */
  networks?: RequestedNetworks;
  /** The security groups of the ports the build makes (absent: the project's default). */
  securityGroups?: string[];
  imageId?: string;
  snapshot?: SnapshotTask;
  /** Where a multi-phase task is (live migration, evacuation): the task state's step reads it. */
  phase?: string;
  /** A move's failure, kept while it rolls back (the task then ends with it as the fault). */
  failure?: { code: number; message: string };
  /** Free-form arguments of the action that began the task (validated by its schema). */
  args?: Record<string, unknown>;
  // --- shelve ---
  /** The shelve snapshot (kept while shelved, carried into the next task: unshelve spawns from it). */
  shelvedImageId?: string;
  /** Seed of the shelve snapshot's image id (the runner derives it with the instance uuid): a resumed create makes the same image. */
  imageSeed?: string;
  /** An unshelve that failed: its guest is destroyed and its claim released before it settles, with this fault. */
  unshelveFault?: { code: number; message: string };
}

export interface Lock {
  /** `admin` when an admin locked another project's server (only an admin may unlock it). */
  by: 'owner' | 'admin';
  reason: string | null;
}

export interface LifecycleState {
  /** The instance's flavor and image now (a resize finishes by changing the flavor, a rebuild the image). */
  flavor: FlavorRef;
  imageRef: string;
  vmState: VmState;
  taskState: DrivenTaskState | null;
  powerState: PowerState;
  host: string | null;
  /** Hosts still to try if the current build attempt fails (claimed by the scheduler on demand). */
  alternates: string[];
  fault: { code: number; message: string } | null;
  launchedAt: number | null;
  locked: Lock | null;
  ctx: TaskContext;
  /** Memory only: the token of the effect whose outcome is awaited (null after a restart). */
  running: Token | null;
}

export const EMPTY_CONTEXT: TaskContext = { attempt: 0 };

const NO_FLAVOR: FlavorRef = { id: '', name: '', vcpus: 0, memoryMb: 0, rootGb: 0, ephemeralGb: 0 };

/** The state a new instance is created in (Nova: vm `building`, task `scheduling`). */
export function initialState(flavor: FlavorRef = NO_FLAVOR, imageRef = ''): LifecycleState {
  return {
    flavor,
    imageRef,
    vmState: 'building',
    taskState: 'scheduling',
    powerState: PowerState.NOSTATE,
    host: null,
    alternates: [],
    fault: null,
    launchedAt: null,
    locked: null,
    ctx: { attempt: 0, action: 'create', event: 'create' },
    running: null,
  };
}
