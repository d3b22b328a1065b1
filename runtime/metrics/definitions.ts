/**
 * Every metric novact exports, one row each: Prometheus name, type, help, labels and buckets.
 * Conventions: `novact_` prefix, base units (`_seconds`, `_bytes`), counters end in `_total`.
 * Cardinality is bounded by construction: no label takes an instance, image, host or request id;
 * verbs, routes, filters and states come from the code's own tables (and a peer's unknown verb is
 * `unknown`, runtime/nats/bridge-metrics.ts).
 *
 * Counters and histograms are runtime/metrics/hot.ts's (cheap children for hot paths); gauges are
 * prom-client's, set at scrape time by the collectors the roles register (metrics.ts).
 */

/** Request latencies: 0.5 ms (an in-memory answer) to 10 s (the default request timeout). */
export const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
/** Scheduler decisions: tens of microseconds at 1k hosts, a few milliseconds uncapped at 100k. */
export const DECISION_BUCKETS = [0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.1] as const;
/** Hosts that passed the filters (the default cap is 1,000). */
export const CANDIDATE_BUCKETS = [0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] as const;
/** Items per database batch (batches are capped at 256–1,000). */
export const BATCH_BUCKETS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000] as const;

type Kind = 'counter' | 'gauge' | 'histogram';
export interface MetricDef {
  readonly type: Kind;
  readonly name: string;
  readonly help: string;
  readonly labels: readonly string[];
  readonly buckets?: readonly number[];
}

const counter = <L extends string>(name: string, help: string, labels: readonly L[]) => ({ type: 'counter', name, help, labels }) as const;
const gauge = <L extends string>(name: string, help: string, labels: readonly L[]) => ({ type: 'gauge', name, help, labels }) as const;
const histogram = <L extends string>(name: string, help: string, labels: readonly L[], buckets: readonly number[]) => ({ type: 'histogram', name, help, labels, buckets }) as const;

export const METRICS = {
  // --- NATS (runtime/nats/bridge.ts) ---
  natsServed: counter('novact_nats_requests_served_total', 'NATS requests answered, by endpoint, verb and outcome (ok or the fault name).', ['role', 'endpoint', 'verb', 'outcome']),
  natsServeSeconds: histogram('novact_nats_request_serve_seconds', 'Time from receiving a NATS request to sending its reply, by endpoint, verb and outcome (ok, error).', ['role', 'endpoint', 'verb', 'outcome'], LATENCY_BUCKETS),
  natsSent: counter('novact_nats_requests_sent_total', 'NATS requests made, by verb and outcome (ok or the fault name).', ['role', 'verb', 'outcome']),
  natsSendSeconds: histogram('novact_nats_request_seconds', 'Time from sending a NATS request to its reply, by verb and outcome (ok, error).', ['role', 'verb', 'outcome'], LATENCY_BUCKETS),
  natsBridgeFaults: counter('novact_nats_bridge_faults_total', 'What a bridge dropped, survived or was refused: malformed messages, handler errors, oversize replies, publish errors, denied subscriptions, permission errors.', ['role', 'kind']),
  natsReconnects: counter('novact_nats_reconnects_total', 'Times a NATS connection reconnected.', ['role']),
  natsConnected: gauge('novact_nats_connected', '1 while the NATS connection is up.', ['role']),
  natsSubscriptions: gauge('novact_nats_subscriptions', 'Subscriptions open through the bridge (endpoints excluded).', ['role']),
  natsPendingRequests: gauge('novact_nats_pending_requests', 'Requests made and still waiting for their reply.', ['role']),

  // --- REST (actors/api/app.ts) ---
  httpRequests: counter('novact_http_requests_total', 'REST requests answered, by route pattern, method and status class.', ['route', 'method', 'status_class']),
  httpSeconds: histogram('novact_http_request_seconds', 'REST request time from arrival to the response sent, by route pattern, method and status class.', ['route', 'method', 'status_class'], LATENCY_BUCKETS),

  // --- actors (runtime/actors/system.ts) and roles ---
  actorsLive: gauge('novact_actors_live', 'Live actors by kind (instance, host, image; conductor and scheduler are one each).', ['kind']),
  actorMailbox: gauge('novact_actor_mailbox_messages', 'Messages waiting in the mailboxes of the live actors of a kind.', ['kind']),
  actorRestarts: counter('novact_actor_restarts_total', 'Actor restarts after a crash, by kind.', ['kind']),
  actorStops: counter('novact_actor_budget_spent_total', 'Actors stopped because their restart budget was spent, by kind.', ['kind']),
  roleHealth: gauge('novact_role_health', '1 for the current health of each role in this process (ok, degraded, unhealthy).', ['role', 'status']),
  roleRestarts: counter('novact_role_restarts_total', 'Rebuilds of a role-critical actor (role-level restarts).', ['role']),

  // --- scheduler ---
  decisionSeconds: histogram('novact_scheduler_decision_seconds', 'Time to decide one placement in memory (filters and weighers), by outcome (placed, no_valid_host).', ['outcome'], DECISION_BUCKETS),
  decisionCandidates: histogram('novact_scheduler_candidates', 'Hosts that passed every filter, per decision.', [], CANDIDATE_BUCKETS),
  noValidHost: counter('novact_scheduler_no_valid_host_total', 'Decisions that found no host, by the filter that removed the last candidates.', ['filter']),
  lostClaims: counter('novact_scheduler_lost_claims_total', 'Claims the ledger refused after the decision (another replica won the capacity): decided again.', []),
  hosts: gauge('novact_hosts', "Compute hosts in the scheduler's view, by state (up, down) and status (enabled, disabled).", ['state', 'status']),

  // --- database ---
  batchItems: histogram('novact_db_batch_items', 'Items per batched database write (ledger claims and releases, instance writes, inventories).', ['batch'], BATCH_BUCKETS),
  batchSeconds: histogram('novact_db_batch_seconds', 'Time to execute one batched database write, by outcome (ok, error).', ['batch', 'outcome'], LATENCY_BUCKETS),
  poolConnections: gauge('novact_db_pool_connections', 'PostgreSQL connections of a pool, by state (used, free).', ['pool', 'state']),
  poolWaiting: gauge('novact_db_pool_waiting', 'Callers waiting for a connection of a full pool.', ['pool']),
  poolWaitSeconds: histogram('novact_db_pool_wait_seconds', 'Time a caller waited for a pool connection.', ['pool'], LATENCY_BUCKETS),
  poolAcquireFailures: counter('novact_db_pool_acquire_failures_total', 'Waits for a pool connection that failed (timeout, connection error).', ['pool']),

  // --- conductor ---
  instances: gauge('novact_instances', 'Instances (not deleted) by vm_state and task_state, as the conductor wrote them.', ['vm_state', 'task_state']),
  builds: counter('novact_builds_total', 'Builds that ended, by outcome (active, error, deleted).', ['outcome']),
  reschedules: counter('novact_reschedules_total', 'Builds moved to an alternate host after a failed spawn.', []),

  // --- image ---
  imageBytesIn: counter('novact_image_bytes_received_total', 'Image data written to the store, by source (upload, snapshot).', ['source']),
  imageBytesOut: counter('novact_image_bytes_sent_total', 'Image data read from the store and sent, by reader (api, host).', ['reader']),
} as const satisfies Record<string, MetricDef>;

export type MetricKey = keyof typeof METRICS;
