/**
 * A host actor executes one host's requests. It is virtual: the compute role's EntityRegistry spawns
 * it on the first request and it passivates after `idleMs` without one, so ten thousand idle hosts
 * are ten thousand small records, not ten thousand actors. Its mailbox serialises the
 * idempotency check and the start of each operation; the operations themselves run concurrently.
 * The actor keeps no state of its own (all of it is in the record, which outlives it), and it is
 * supervised: a handler that throws answers its request with a retryable error and is restarted.
 */
import type { ReplyTo } from '../../runtime/actors/reply.js';
import type { ActorDef } from '../../runtime/actors/system.js';
import { fromDriverError } from './driver-errors.js';
import type { HostRecord } from './host-record.js';
import { rememberOutcome } from './host-record.js';
import { isMutatingHostVerb, startVerb, type HostVerbDeps } from './host-verbs.js';

export interface HostMsg {
  verb: string;
  body: Record<string, unknown>;
  key: string | undefined;
  /** What is left of the request's deadline: the driver call gets it, so a hang cannot outlive the request. */
  deadlineMs?: number;
  reply: ReplyTo<unknown>;
}

export interface HostActorDeps {
  idleMs: number;
  /** A mutating request finished: the host's capacity may have moved. */
  changed(rec: HostRecord): void;
  /** The actor stopped: passivated after `idleMs`, or the role is stopping. */
  stopped(rec: HostRecord): void;
  verbs?: HostVerbDeps;
}

/** A retryable failure (a timeout, a lost connection) is forgotten, so the retry runs again instead of replaying it. */
const isRetryable = (err: unknown): boolean =>
  typeof err === 'object' && err !== null && (err as { retryable?: unknown }).retryable === true;

export function hostActorDef(rec: HostRecord, deps: HostActorDeps): ActorDef<null, HostMsg> {
  return {
    idleShutdownMs: deps.idleMs,
    init: () => null,
    handle: (s, m) => {
      let outcome = m.key === undefined ? undefined : rec.recent?.get(m.key);
      if (!outcome) {
        outcome = startVerb(rec, m.verb, m.body, m.deadlineMs === undefined ? {} : { deadlineMs: m.deadlineMs }, deps.verbs);
        const key = m.key, started = outcome;
        if (key !== undefined) {
          rememberOutcome(rec, key, started);
          started.catch((err: unknown) => { if (isRetryable(err) && rec.recent?.get(key) === started) rec.recent.delete(key); });
        }
      }
      const mutating = isMutatingHostVerb(m.verb);
      outcome.then(
        (v) => {
          m.reply.ok(v);
          if (mutating) deps.changed(rec);
        },
        (err: unknown) => {
          m.reply.fail(fromDriverError(err, rec.name));
          if (mutating) deps.changed(rec);
        },
      );
      return s;
    },
    afterStop: () => deps.stopped(rec),
  };
}
