/**
 * The bridge's metrics: requests served per endpoint, verb and outcome (count and latency), requests
 * made per verb and outcome, and, read at scrape time, its fault counters, reconnects, connection
 * state, open subscriptions and pending requests. Children are kept in nested maps per endpoint and
 * verb, so a request costs two or three Map lookups and no allocation once its labels were seen.
 */
import type { NovactError } from '../../protocols/errors.js';
import type { CounterChild, HistogramChild } from '../metrics/hot.js';
import type { Metrics } from '../metrics/metrics.js';
import type { BridgeStats } from './bridge-stats.js';

/**
 * Distinct verb labels one bridge takes before the rest are `other`: verbs come from the catalog,
 * but a legacy route takes its verb from the subject, and a peer chooses subjects.
 */
export const MAX_VERB_LABELS = 1_000;

type Pair = readonly [CounterChild, HistogramChild];
type ByOutcome = Map<string, Pair>;

const FAULT_KINDS = [
  ['dropped_malformed', 'droppedMalformed'],
  ['handler_error', 'handlerErrors'],
  ['oversize_reply', 'oversizeReplies'],
  ['publish_error', 'publishErrors'],
  ['denied_subscription', 'deniedSubscriptions'],
  ['permission_error', 'permissionErrors'],
] as const satisfies readonly (readonly [string, keyof BridgeStats])[];

/** What the collector reads from its bridge. */
export interface BridgeView {
  readonly stats: BridgeStats;
  readonly connected: boolean;
  readonly openSubscriptions: number;
  readonly pendingRequests: number;
}

export class BridgeMetrics {
  private verbLabels = 0;
  private readonly sent = new Map<string, ByOutcome>();
  private readonly recorders = new Map<string, ServedRecorder>();
  private readonly removeCollector: () => void;

  constructor(
    private readonly metrics: Metrics,
    readonly role: string,
    view: BridgeView,
  ) {
    const m = metrics.m;
    const faults = FAULT_KINDS.map(([kind, field]) => [m.natsBridgeFaults.child(role, kind), field] as const);
    const reconnects = m.natsReconnects.child(role);
    this.removeCollector = metrics.onScrape(() => {
      for (const [child, field] of faults) child.value = view.stats[field];
      reconnects.value = view.stats.reconnects;
      m.natsConnected.set({ role }, view.connected ? 1 : 0);
      m.natsSubscriptions.set({ role }, view.openSubscriptions);
      m.natsPendingRequests.set({ role }, view.pendingRequests);
    });
  }

  /**
   * The recorder for one served endpoint (or plain subscription), by its name: one per name, shared
   * by every subscription under it (the compute role serves each of its hosts under `host`).
   */
  served(endpoint: string): ServedRecorder {
    let r = this.recorders.get(endpoint);
    if (!r) this.recorders.set(endpoint, (r = new ServedRecorder(this, endpoint)));
    return r;
  }

  /** One request this bridge made: `verb` as the caller named it (code, not peers, chooses it). */
  recordSent(verb: string, error: NovactError | null, seconds: number): void {
    const outcome = error === null ? 'ok' : error.fault;
    const p = this.sent.get(verb)?.get(outcome) ?? this.make(this.sent, '', verb, outcome);
    p[0].inc();
    p[1].observe(seconds);
  }

  /** @internal the children of one (endpoint, verb, outcome), made on first sight; endpoint '' for requests made. */
  make(byVerb: Map<string, ByOutcome>, endpoint: string, verb: string, outcome: string): Pair {
    let outcomes = byVerb.get(verb);
    if (!outcomes) {
      if (this.verbLabels < MAX_VERB_LABELS) {
        this.verbLabels++;
        outcomes = new Map();
        byVerb.set(verb, outcomes);
      } else {
        // Past the budget every new verb is `other`, and is not remembered (a peer could send millions).
        verb = 'other';
        outcomes = byVerb.get(verb) ?? new Map();
        byVerb.set(verb, outcomes);
      }
    }
    let p = outcomes.get(outcome);
    if (!p) {
      const coarse = outcome === 'ok' ? 'ok' : 'error';
      const m = this.metrics.m;
      p = endpoint === ''
        ? [m.natsSent.child(this.role, verb, outcome), m.natsSendSeconds.child(this.role, verb, coarse)]
        : [m.natsServed.child(this.role, endpoint, verb, outcome), m.natsServeSeconds.child(this.role, endpoint, verb, coarse)];
      outcomes.set(outcome, p);
    }
    return p;
  }

  close(): void {
    this.removeCollector();
  }
}

export class ServedRecorder {
  private readonly byVerb = new Map<string, ByOutcome>();

  constructor(
    private readonly owner: BridgeMetrics,
    readonly endpoint: string,
  ) {}

  /** `known`: the route knows the verb; an unknown one (a peer's invention) is labelled `unknown`. */
  record(verb: string, known: boolean, error: NovactError | null, seconds: number): void {
    const v = known ? verb : 'unknown';
    const outcome = error === null ? 'ok' : error.fault;
    const p = this.byVerb.get(v)?.get(outcome) ?? this.owner.make(this.byVerb, this.endpoint, v, outcome);
    p[0].inc();
    p[1].observe(seconds);
  }
}
