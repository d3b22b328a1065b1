/**
 * The scheduler actor's messages, and what its handlers share (`SchedulerCore`): the actor owns the
 * host states, so every handler runs inside it, one message at a time, without locks.
 */
import type { HostLiveness } from './host-liveness.js';
import type { EventEmitter } from 'node:events';
import type { Static } from '@sinclair/typebox';
import { UnavailableError } from '../../protocols/errors.js';
import type { ClaimReply, ClaimRequest, SelectBatchReply, SelectReply, SelectRequest } from '../../protocols/messages.js';
import type { CapacityReport } from '../../protocols/resources.js';
import type { Delta, SchedulerGet } from '../../protocols/catalog/scheduler.js';
import type { ReplyTo } from '../../runtime/actors/reply.js';
import type { Clock } from '../../runtime/clock.js';
import type { SchedulingCatalog } from './catalog.js';
import type { ClaimDesk, ClaimOutcome } from './claim-desk.js';
import type { HostStates } from './host-states.js';
import type { InventoryWriter } from './inventory-writer.js';
import type { PlacementLedger } from './ledger.js';
import type { MoveDesk } from './moves.js';
import type { Placer, SchedulerStats } from './placer.js';

export type Msg =
  | { kind: 'select'; req: SelectRequest; reply: ReplyTo<SelectReply>; tries: number; deadline: number }
  | { kind: 'selectBatch'; reqs: SelectRequest[]; reply: ReplyTo<SelectBatchReply>; tries: number }
  | { kind: 'claim'; req: ClaimRequest; reply: ReplyTo<ClaimReply> }
  | { kind: 'release'; consumer: string; reply: ReplyTo<{ released: number }> }
  | ({ kind: 'claimed' } & ClaimOutcome)
  | { kind: 'delta'; delta: Delta }
  | { kind: 'catalog'; hosts: string[] | undefined }
  | { kind: 'service'; host: string; enabled: boolean }
  | { kind: 'forget'; host: string; reply?: ReplyTo<{ host: string }> }
  | { kind: 'report'; report: CapacityReport; at: number }
  | { kind: 'get'; reply: ReplyTo<Static<typeof SchedulerGet.reply>> }
  /** A ledger completion or a move step (moves.ts), run inside the actor. */
  | { kind: 'run'; fn: () => void }
  /** Chaos hook: makes the actor throw, to exercise supervision. */
  | { kind: 'crash' };

export type MsgOf<K extends Msg['kind']> = Extract<Msg, { kind: K }>;

/** Decisions a claim race keeps losing are given up after this many. */
export const MAX_DECISION_TRIES = 8;
export const WARMING_UP = new UnavailableError('the scheduler has just started and has not heard from every host yet');

/** What the actor's handlers work with: built once per role by `startSchedulerRole`. */
export interface SchedulerCore {
  readonly replica: string;
  readonly clock: Clock;
  readonly ledger: PlacementLedger;
  readonly states: HostStates;
  readonly catalog: SchedulingCatalog;
  readonly placer: Placer;
  readonly moves: MoveDesk;
  readonly desk: ClaimDesk<Msg>;
  readonly inventories: InventoryWriter;
  readonly stats: SchedulerStats;
  readonly events: EventEmitter;
  /** Heartbeats, leases, host-down/up announcements. */
  readonly liveness: HostLiveness;
  /** To the actor's own mailbox (a later turn). */
  tell(m: Msg): void;
  /** Adds to the delta the other replicas get at the end of this turn. */
  share(f: (d: Delta) => void): void;
  /** True while a "no valid host" would only mean "not listened long enough" (a retryable 503). */
  warmingUp(): boolean;
}
