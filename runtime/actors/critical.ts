/**
 * A role-critical actor (the scheduler actor, the conductor actor): one whose stop would leave its
 * role answering nothing. When it spends its restart budget this supervisor says so loudly (error
 * log, health `degraded`), rebuilds the role's state (`rebuild`, e.g. from the database) and spawns
 * a fresh actor: a role-level restart with a budget of its own. When that budget is spent too the
 * role is `unhealthy`: every ask is answered at once with a typed 503 instead of being dropped, and
 * the health shows why. Messages sent while the actor is being replaced wait for the new one.
 */
import { UnavailableError } from '../../protocols/errors.js';
import type { RoleHealth } from '../health.js';
import type { Logger } from '../log/logger.js';
import { errorFields } from '../log/logger.js';
import { replySlot, type ReplyTo } from './reply.js';
import { RestartBudget } from './supervision.js';
import type { ActorDef, ActorRef, ActorSystem } from './system.js';

export interface CriticalPolicy {
  /** Role-level restarts allowed within `windowMs` before the role is unhealthy. */
  maxRestarts: number;
  windowMs: number;
  backoffMs: number;
}

export const DEFAULT_CRITICAL_POLICY: CriticalPolicy = { maxRestarts: 3, windowMs: 600_000, backoffMs: 100 };

/** Messages held while the actor is replaced; beyond this they are refused (503), not queued without bound. */
const MAX_HELD = 100_000;

export interface CriticalOptions {
  actors: ActorSystem;
  log: Logger;
  health: RoleHealth;
  policy?: Partial<CriticalPolicy>;
  /** Restores what the actor relies on before a fresh one starts (may reload from the database). */
  rebuild?: () => Promise<void>;
}

function replyOf(msg: unknown): ReplyTo<unknown> | undefined {
  const r = (msg as { reply?: ReplyTo<unknown> } | undefined)?.reply;
  return r && typeof r.fail === 'function' ? r : undefined;
}

export class CriticalActor<M> {
  private current: ActorRef<M>;
  private held: M[] | undefined;
  private stopped = false;
  private generation = 0;
  private readonly budget: RestartBudget;
  private readonly policy: CriticalPolicy;

  constructor(
    private readonly name: string,
    private readonly define: () => ActorDef<any, M>,
    private readonly o: CriticalOptions,
  ) {
    this.policy = { ...DEFAULT_CRITICAL_POLICY, ...o.policy };
    this.budget = new RestartBudget({ ...this.policy, maxBackoffMs: this.policy.backoffMs * 16, onExhausted: 'stop' });
    this.current = this.spawn();
  }

  /** The live actor (the parent of its children, e.g. instance actors). */
  get ref(): ActorRef<M> {
    return this.current;
  }

  tell(msg: M): void {
    if (this.o.health.status === 'unhealthy') {
      replyOf(msg)?.fail(new UnavailableError(`the ${this.o.health.role} role is unhealthy and cannot serve requests`));
      return;
    }
    if (this.held) {
      if (this.held.length < MAX_HELD) this.held.push(msg);
      else replyOf(msg)?.fail(new UnavailableError(`the ${this.o.health.role} role is restarting; retry`));
      return;
    }
    this.current.tell(msg);
  }

  ask<R>(make: (reply: ReplyTo<R>) => M, timeoutMs: number): Promise<R> {
    const { reply, promise } = replySlot<R>(this.o.actors.clock, timeoutMs, this.current.path);
    this.tell(make(reply));
    return promise;
  }

  stop(): void {
    this.stopped = true;
    this.current.stop();
    this.refuse(this.held?.splice(0) ?? [], 'is stopping');
  }

  private spawn(): ActorRef<M> {
    const def = this.define();
    const gen = ++this.generation;
    let spent: string | undefined;
    return this.o.actors.spawn<any, M>(gen === 1 ? this.name : `${this.name}-${gen}`, {
      kind: this.name,
      ...def,
      exhausted: (reason) => {
        spent = reason;
        // From now on nothing may reach the dying actor: hold messages for its successor.
        this.held ??= [];
        def.exhausted?.(reason);
      },
      afterStop: (state, leftover) => {
        def.afterStop?.(state, leftover);
        if (spent === undefined || this.stopped) {
          this.refuse(leftover, 'is stopping');
          return;
        }
        this.held = [...leftover, ...(this.held ?? [])];
        void this.replace(spent);
      },
    });
  }

  private async replace(reason: string): Promise<void> {
    const { log, health } = this.o;
    for (;;) {
      const backoff = this.budget.next(this.o.actors.clock.now());
      if (backoff === undefined) {
        health.set('unhealthy', `${this.name}: ${reason}`);
        log.error('role-critical actor could not be kept running; the role is unhealthy', { role: health.role, actor: this.name, reason });
        this.refuse(this.held?.splice(0) ?? [], 'is unhealthy');
        this.held = undefined;
        return;
      }
      health.set('degraded', `${this.name}: ${reason}`);
      log.error('role-critical actor spent its restart budget; restarting the role', { role: health.role, actor: this.name, reason, backoffMs: backoff });
      await this.o.actors.clock.sleep(backoff);
      if (this.stopped) return;
      try {
        await this.o.rebuild?.();
      } catch (err) {
        reason = `rebuild failed: ${err instanceof Error ? err.message : String(err)}`;
        log.error('role rebuild failed', { role: health.role, ...errorFields(err) });
        continue;
      }
      if (this.stopped) return;
      health.restarted();
      this.current = this.spawn();
      const held = this.held ?? [];
      this.held = undefined;
      health.set('ok');
      for (const m of held) this.current.tell(m);
      return;
    }
  }

  private refuse(msgs: M[], why: string): void {
    for (const m of msgs) replyOf(m)?.fail(new UnavailableError(`the ${this.o.health.role} role ${why}`));
  }
}
