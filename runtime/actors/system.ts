/**
 * A thin typed layer over nact. Every actor is named and supervised with an explicit restart policy;
 * refs are typed by message; asks carry a `ReplyTo` slot with a typed timeout. A message that
 * crashed an actor is answered with a retryable error instead of being left to time out.
 */
import { createRequire } from 'node:module';
import * as nact from 'nact';
import { InternalError } from '../../protocols/errors.js';
import type { Clock } from '../clock.js';
import type { Logger } from '../log/logger.js';
import { errorFields } from '../log/logger.js';
import { currentScope, runInScope, type RequestScope } from '../trace/scope.js';
import type { Metrics } from '../metrics/metrics.js';
import { replySlot, type ReplyTo } from './reply.js';
import { DEFAULT_RESTART_POLICY, RestartBudget, type RestartPolicy } from './supervision.js';

export interface ActorContext<M> {
  readonly self: ActorRef<M>;
  readonly name: string;
  readonly path: string;
}

export interface ActorDef<S, M> {
  /** What metrics count it as (`instance`, `host`, …); default its name. */
  kind?: string;
  /** State at start and after every restart. May dispatch a message to self (e.g. to rehydrate). */
  init(ctx: ActorContext<M>): S;
  /** Handles one message; messages are handled one at a time per actor (the mailbox is the lock). */
  handle(state: S, msg: M, ctx: ActorContext<M>): S | Promise<S>;
  restart?: Partial<RestartPolicy>;
  /** Stop the actor after this long without messages (virtual-actor passivation). */
  idleShutdownMs?: number;
  /**
   * Called when the restart budget is spent, just before the actor stops or escalates: a
   * role-critical actor's supervisor (critical.ts) rebuilds the role or marks it unhealthy.
   */
  exhausted?(reason: string): void;
  /** Called after the actor stopped, for any reason, with the messages still in its mailbox. */
  afterStop?(state: S, leftover: M[]): void;
}

/** Counters exposed through the roles' service stats. */
export interface SupervisionStats {
  restarts: number;
  stops: number;
  lastError: string | null;
}

type NactRef = nact.Ref<any>;

/**
 * The request scope each message was sent in: nact's mailbox runs a handler in whatever async
 * context happened to drain it, so the sender's scope is kept by message and restored for its
 * handler. The first send wins: a message re-sent (handed to a successor) keeps its request.
 */
const sentIn = new WeakMap<object, RequestScope>();
function carry(msg: unknown): void {
  const s = currentScope();
  if (s !== undefined && typeof msg === 'object' && msg !== null && !sentIn.has(msg)) sentIn.set(msg, s);
}
const scopeOf = (msg: unknown): RequestScope | undefined => (typeof msg === 'object' && msg !== null ? sentIn.get(msg) : undefined);

// nact drops messages to a stopped actor silently and has no public liveness check; its system map
// (pinned nact 7.6.2) tells whether a ref still has a running actor behind it.
const systemMap = createRequire(import.meta.url)('nact/lib/system-map') as {
  find(system: string, ref: unknown): { stopped?: boolean; mailbox?: { length: number } } | undefined;
};

export class ActorRef<M> {
  constructor(
    readonly nref: NactRef,
    readonly path: string,
    private readonly system: ActorSystem,
  ) {}

  tell(msg: M): void {
    carry(msg);
    nact.dispatch(this.nref, msg);
  }

  /** False once the actor stopped (messages sent to it would be dropped). */
  get alive(): boolean {
    const actor = systemMap.find((this.nref as any).system.name, this.nref);
    return actor !== undefined && actor.stopped !== true;
  }

  /** Messages waiting in its mailbox (0 once stopped). */
  get mailbox(): number {
    return systemMap.find((this.nref as any).system.name, this.nref)?.mailbox?.length ?? 0;
  }

  /** Sends a message built around a reply slot and waits for the answer (typed TimeoutError). */
  ask<R>(make: (reply: ReplyTo<R>) => M, timeoutMs: number): Promise<R> {
    const { reply, promise } = replySlot<R>(this.system.clock, timeoutMs, this.path);
    const msg = make(reply);
    carry(msg);
    nact.dispatch(this.nref, msg);
    return promise;
  }

  stop(): void {
    nact.stop(this.nref);
  }
}

function replyOf(msg: unknown): ReplyTo<unknown> | undefined {
  const r = (msg as { reply?: ReplyTo<unknown> } | undefined)?.reply;
  return r && typeof r.fail === 'function' ? r : undefined;
}

let systemCount = 0;

/** Per kind: the live actors (for the live count and mailbox depth) and its restarts and spent budgets. */
interface KindState {
  live: Set<ActorRef<unknown>>;
  restarts: number;
  stops: number;
}

export class ActorSystem {
  readonly stats: SupervisionStats = { restarts: 0, stops: 0, lastError: null };
  private readonly root: nact.ActorSystemRef;
  private readonly kinds = new Map<string, KindState>();

  constructor(
    readonly clock: Clock,
    private readonly log: Logger,
    name = 'novact',
  ) {
    // nact keeps systems in a process-wide map by name: several clusters in one process need distinct names.
    this.root = nact.start(`${name}-${++systemCount}`);
  }

  /** Spawns a top-level actor. */
  spawn<S, M>(name: string, def: ActorDef<S, M>): ActorRef<M> {
    return this.spawnUnder(this.root, name, def);
  }

  /** Spawns a child of `parent` (stopped when the parent stops or restarts). */
  spawnChild<S, M>(parent: ActorRef<unknown>, name: string, def: ActorDef<S, M>): ActorRef<M> {
    return this.spawnUnder(parent.nref, name, def);
  }

  stop(): void {
    nact.stop(this.root);
  }

  /**
   * Exports live actors and mailbox depth per kind (read at scrape time: a scrape walks the live
   * actors once) and restarts per kind. Returns the removal of its collector.
   */
  instrument(metrics: Metrics): () => void {
    const m = metrics.m;
    return metrics.onScrape(() => {
      for (const [kind, k] of this.kinds) {
        let waiting = 0;
        for (const ref of k.live) waiting += ref.mailbox;
        m.actorsLive.set({ kind }, k.live.size);
        m.actorMailbox.set({ kind }, waiting);
        m.actorRestarts.child(kind).value = k.restarts;
        m.actorStops.child(kind).value = k.stops;
      }
    });
  }

  /** Live actors of a kind right now. */
  liveCount(kind: string): number {
    return this.kinds.get(kind)?.live.size ?? 0;
  }

  private kindState(kind: string): KindState {
    let k = this.kinds.get(kind);
    if (!k) this.kinds.set(kind, (k = { live: new Set(), restarts: 0, stops: 0 }));
    return k;
  }

  private spawnUnder<S, M>(parent: NactRef, name: string, def: ActorDef<S, M>): ActorRef<M> {
    const policy = { ...DEFAULT_RESTART_POLICY, ...def.restart };
    const budget = new RestartBudget(policy);
    const path = `${pathOf(parent)}/${name}`;
    const kind = this.kindState(def.kind ?? name);
    let ref!: ActorRef<M>;
    const ctxOf = (): ActorContext<M> => ({ get self() { return ref; }, name, path });
    const onCrash = async (msg: unknown, err: unknown, ctx: any): Promise<symbol> => {
      const reason = err instanceof Error ? err.message : String(err);
      this.stats.lastError = `${path}: ${reason}`;
      replyOf(msg)?.fail(new InternalError(`actor ${path} crashed handling the request: ${reason}`, true));
      const backoff = budget.next(this.clock.now());
      if (backoff === undefined) {
        this.stats.stops++;
        kind.stops++;
        this.log.error('actor restart budget spent', { actor: path, restarts: budget.recent, ...errorFields(err) });
        def.exhausted?.(reason);
        return policy.onExhausted === 'escalate' ? ctx.escalate : ctx.stop;
      }
      this.stats.restarts++;
      kind.restarts++;
      this.log.warn('actor crashed; restarting', { actor: path, backoffMs: backoff, ...errorFields(err) });
      if (backoff > 0) await this.clock.sleep(backoff);
      return ctx.reset;
    };
    const props: Record<string, unknown> = {
      initialStateFunc: () => def.init(ctxOf()),
      onCrash,
    };
    if (def.idleShutdownMs) props.shutdownAfter = def.idleShutdownMs;
    props.afterStop = (state: S, c: { mailbox?: { message: M }[] }) => {
      kind.live.delete(ref as ActorRef<unknown>);
      def.afterStop?.(state, (c.mailbox ?? []).map((x) => x.message));
    };
    // nact runs initialStateFunc inside spawn, before the ref exists; `self` is a getter, so init may
    // use it in a microtask (e.g. to tell itself to rehydrate), not synchronously.
    const nref = nact.spawn(parent as any, (state: S, msg: M) => runInScope(scopeOf(msg), () => def.handle(state, msg, ctxOf())), name, props as any);
    ref = new ActorRef<M>(nref, path, this);
    kind.live.add(ref as ActorRef<unknown>);
    return ref;
  }
}

function pathOf(ref: NactRef): string {
  // nact renders paths as `<system name>://a/b`; keep only the actor part, as `/a/b` ('' for the root).
  const parts = (ref as { path?: { parts?: string[] } }).path?.parts ?? [];
  return parts.map((p) => `/${p}`).join('');
}
