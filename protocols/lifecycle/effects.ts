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

/** Power operations a host performs on a guest (the host verb `power`). */
export type PowerOp = 'stop' | 'start' | 'reboot_soft' | 'reboot_hard' | 'pause' | 'unpause' | 'suspend' | 'resume';

/** Which timeout a host call runs under (the conductor's settings). */
export type CallBudget = 'request' | 'spawn' | 'power' | 'move';

export type Effect =
  /** Ask the scheduler for a host and alternates; it claims the resources before answering. */
  | { kind: 'select'; token: Token }
  /**
   * A move's select (`select` with `move`): the instance's migration (`ctx.migration.uuid`) takes the
   * source allocation, the instance is claimed on the chosen host; answers `scheduled` or `scheduleFailed`.
   */
  | { kind: 'selectMove'; token: Token; targetHost?: string; allowSameHost?: boolean }
  /** Spawn on `host`; `claim` first moves the allocation there (alternates, resumes). */
  | { kind: 'spawn'; token: Token; host: string; claim: boolean }
  | { kind: 'power'; token: Token; host: string; op: PowerOp }
  /**
   * Any other host verb; answers `done` with the host's reply or `failed`. The body gets the
   * instance's `uuid`; with `guest`, also `guest`: the instance's spec built by the conductor from
   * its row, with the flavor and image given here instead (a resize's new flavor, a rebuild's image).
   */
  | { kind: 'host'; token: Token; host: string; verb: string; body: Record<string, unknown>; budget: CallBudget; guest?: GuestOverride }
  /** Any scheduler verb (moves: select-move, confirm, revert); answers `done` or `failed`. `instance`: the body gets `instanceUuid`. */
  | { kind: 'scheduler'; token: Token; verb: string; body: Record<string, unknown>; instance?: true }
  /** Any image-role verb (snapshots); answers `done` or `failed`. */
  | { kind: 'image'; token: Token; verb: string; body: Record<string, unknown>; imageId?: string }
  /** Destroy the guest on each host, retrying until gone (or the host is known down); answers `destroyed`. */
  | { kind: 'destroy'; token: Token; hosts: string[] }
  /** Destroy after a failed attempt that moved to an alternate; retried, but no outcome is awaited. */
  | { kind: 'cleanup'; host: string }
  /** Drop the allocations of the instance and/or of migration consumers in the ledger; answers `released`. */
  | { kind: 'release'; token: Token; instance: boolean; migrations: string[] }
  | { kind: 'notify'; event: string };

export type EffectKind = Effect['kind'];

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
