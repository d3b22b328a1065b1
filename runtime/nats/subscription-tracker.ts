/**
 * The bridge's NATS subscriptions: callbacks that can never throw into nats.js's reader loop (one
 * exception there deafened the whole connection, C3), refusals by the server's permissions logged
 * loudly, and every subscription forgotten once closed (upload sessions come and go: no leak, L2).
 */
import { ErrorCode, type Msg, type NatsConnection, type NatsError, type Subscription } from 'nats';
import { errorFields, type Logger } from '../log/logger.js';
import type { BridgeStats } from './bridge-stats.js';
import type { BridgeSubscription } from './bridge-types.js';

export class SubscriptionTracker {
  private readonly subs = new Set<Subscription>();
  /** False from a `disconnect` status until the next `reconnect` (readiness, `novact_nats_connected`). */
  private up = true;

  constructor(
    private readonly nc: NatsConnection,
    private readonly log: Logger,
    private readonly stats: BridgeStats,
  ) {
    void this.watchStatus();
  }

  get size(): number {
    return this.subs.size;
  }

  /** Connected now: not between a disconnect and its reconnect, not draining, not closed. */
  get connected(): boolean {
    return this.up && !this.nc.isClosed() && !this.nc.isDraining();
  }

  track(subject: string, queue: string | undefined, onMsg: (msg: Msg) => void): BridgeSubscription {
    const opts: { callback: (err: NatsError | null, msg: Msg) => void; queue?: string } = {
      callback: (err, msg) => {
        if (err) {
          this.onSubscriptionError(subject, err);
          return;
        }
        try {
          onMsg(msg);
        } catch (e) {
          this.stats.handlerErrors++;
          this.log.error('message handler failed', { subject: msg.subject, ...errorFields(e) });
        }
      },
    };
    if (queue) opts.queue = queue;
    const sub = this.nc.subscribe(subject, opts);
    this.subs.add(sub);
    // Closed by unsubscribe, drain, a permission error or the connection: forget it either way.
    void sub.closed.then(() => this.subs.delete(sub), () => this.subs.delete(sub));
    const subs = this.subs;
    return {
      subject,
      unsubscribe: () => {
        subs.delete(sub);
        sub.unsubscribe();
      },
      isClosed: () => sub.isClosed(),
    };
  }

  unsubscribeAll(): void {
    for (const s of this.subs) s.unsubscribe();
    this.subs.clear();
  }

  private onSubscriptionError(subject: string, err: NatsError): void {
    if (err.code === ErrorCode.PermissionsViolation) {
      this.stats.deniedSubscriptions++;
      this.log.error('NATS refused a subscription: this role cannot hear it (check nats.conf)', { subject, err: err.message });
    } else {
      this.stats.handlerErrors++;
      this.log.error('subscription failed', { subject, err: err.message });
    }
  }

  /**
   * Every permission violation the server reports on this connection (publishes included) goes to
   * the log; disconnects and reconnects are counted and tell whether the connection is up.
   */
  private async watchStatus(): Promise<void> {
    try {
      for await (const s of this.nc.status()) {
        if (s.type === 'disconnect') {
          this.up = false;
          this.stats.disconnects++;
          continue;
        }
        if (s.type === 'reconnect') {
          this.up = true;
          this.stats.reconnects++;
          continue;
        }
        if (s.type !== 'error' || s.data !== ErrorCode.PermissionsViolation) continue;
        this.stats.permissionErrors++;
        const ctx = (s as { permissionContext?: { operation: string; subject: string; queue?: string } }).permissionContext;
        this.log.error('NATS permissions violation', { operation: ctx?.operation, subject: ctx?.subject, queue: ctx?.queue });
      }
    } catch (err) {
      this.log.warn('NATS status watch ended', errorFields(err));
    }
  }
}
