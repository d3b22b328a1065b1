/**
 * What the lifecycle asks the world to do (effects) and what comes back (outcomes). An effect that
 * has an outcome carries the token of the step that issued it; the outcome echoes the token, and
 * the lifecycle ignores an outcome whose token is not the one it awaits.
 */
import type { PowerState } from '../states.js';
import type { FlavorRef, Token } from './state.js';

/** What a guest spec built for a host call changes from the instance row. */
export interface GuestOverride {
  flavor?: FlavorRef;
  imageRef?: string;
}

/** What an image effect's body is completed with from the instance row (see the `image` effect). */
export type ImageOrigin = 'instance' | 'snapshot';
/**
 * An image the instance makes (a shelve snapshot): the runner adds the instance's uuid, project and
 * user, the name `<instance name><nameSuffix>`, and an image id derived from the instance's uuid and
 * `idSeed`, so a resumed create is the same image.
 */
export interface ImageOwner {
  nameSuffix: string;
  idSeed: string;
}

/** Power operations a host performs on a guest (the host verb `power`). */
export type PowerOp = 'stop' | 'start' | 'reboot_soft' | 'reboot_hard' | 'pause' | 'unpause' | 'suspend' | 'resume';

/** Which timeout a host call runs under (the conductor's settings). */
export type CallBudget = 'request' | 'spawn' | 'power' | 'move';

export type Effect =
  /** Ask the scheduler for a host and alternates; it claims the resources before answering. */
  | {
    kind: 'select'; token: Token;
    /** Instead of the row's availability zone (unshelve 2.77; null: any zone). */
    availabilityZone?: string | null;
    /** Claim this host only, no filters (an admin's unshelve to a host, 2.91); answers `scheduled` or `scheduleFailed`. */
    host?: string;
  }
  /**
   * A move's select for the task's migration (live migration, evacuate): the runner reads the
   * migration (`ctx.migration.uuid`, source) from the row; answers `scheduled` or `scheduleFailed`.
   */
  | { kind: 'selectMigration'; token: Token; targetHost?: string; allowSameHost?: boolean }
  /** Spawn on `host`; `claim` first moves the allocation there (alternates, resumes). */
  | { kind: 'spawn'; token: Token; host: string; claim: boolean }
  | { kind: 'power'; token: Token; host: string; op: PowerOp }
  /**
   * Any other host verb; answers `done` with the host's reply or `failed`. The body gets the
   * instance's `uuid`; with `guest`, also `guest`: the instance's spec built by the conductor from
   * its row, with the flavor and image given here instead (a resize's new flavor, a rebuild's image).
   */
  | { kind: 'host'; token: Token; host: string; verb: string; body: Record<string, unknown>; budget: CallBudget; guest?: GuestOverride }
  /** Any scheduler verb (moves: select-move, confirm, revert); answers `done` or `failed`. `withInstance` adds `instanceUuid`. */
  | { kind: 'scheduler'; token: Token; verb: string; body: Record<string, unknown>; withInstance?: true }
  /**
   * A move's placement: `select` with `move`, built by the conductor from the row (image, zone,
   * hints) with `flavor`'s resources; the scheduler moves the allocations before it answers
   * `scheduled` (or `scheduleFailed`).
   */
  | { kind: 'selectMove'; token: Token; migrationUuid: string; source: string; flavor: FlavorRef; allowSameHost: boolean; targetHost?: string }
  /**
   * Any image-role verb (snapshots); answers `done` or `failed`. With `origin`, the runner adds what
   * the row knows: `instance` the instance's `instanceUuid` and `projectId`; `snapshot` also its
   * `baseImageRef` and the base image's properties (under the body's own), formats and minimums.
   */
  | { kind: 'image'; token: Token; verb: string; body: Record<string, unknown>; imageId?: string; origin?: ImageOrigin; owner?: ImageOwner }
  /** Destroy the guest on each host, retrying until gone (or the host is known down); answers `destroyed`. */
  | { kind: 'destroy'; token: Token; hosts: string[] }
  /** Delete an image the instance no longer needs (an unshelved server's shelve snapshot, as Nova does); best effort, no outcome. */
  | { kind: 'forgetImage'; imageId: string }
  /** Destroy after a failed attempt that moved to an alternate; retried, but no outcome is awaited. */
  | { kind: 'cleanup'; host: string }
  /** Drop the allocations of the instance and/or of migration consumers in the ledger; answers `released`. */
  /** `ports`: the instance is gone for good (deleted, or its build failed): its ports go too. */
  | { kind: 'release'; token: Token; instance: boolean; migrations: string[]; ports?: true }
  | { kind: 'notify'; event: string };

export type EffectKind = Effect['kind'];

/**
 * A call on the guest's host that changes no state (console output, diagnostics, crash dump): the
 * instance actor asks the host and answers the caller with the host's reply.
 */
export interface HostQuery {
  host: string;
  verb: string;
  body: Record<string, unknown>;
  budget: CallBudget;
  /** Recorded as an instance action (trigger_crash_dump), finished with the host's answer. */
  recorded?: true;
}

export type Outcome =
  | { kind: 'scheduled'; token: Token; host: string; alternates: string[] }
  | { kind: 'scheduleFailed'; token: Token; message: string }
  | { kind: 'spawned'; token: Token; host: string; powerState: PowerState; at: number }
  | { kind: 'spawnFailed'; token: Token; host: string; message: string }
  | { kind: 'powered'; token: Token; powerState: PowerState }
  /** A host, scheduler or image call answered. */
  | { kind: 'done'; token: Token; reply: Record<string, unknown>; at: number }
  /** A power, host, scheduler or image call failed (after its retries). */
  | { kind: 'failed'; token: Token; message: string; code: number }
  | { kind: 'destroyed'; token: Token }
  | { kind: 'released'; token: Token };

export type OutcomeKind = Outcome['kind'];
