/**
 * Self-fencing (protocols/liveness.ts has the timing): a host whose liveness lease lapsed stops
 * (or destroys, per `fence`) every guest it runs and refuses anything that could start one
 * (host-verbs.ts), so that an instance evacuated while the host was cut off never runs twice. While
 * fenced it keeps stopping whatever a spawn or migration in flight brought up, and its driver's
 * power events are not forwarded (power-sync.ts): the conductor must not take the fence's stops for
 * a user's.
 *
 * Back (a heartbeat acknowledged again): the host reconciles with the conductor (guest-reaper.ts:
 * guests whose instance was deleted or moved elsewhere, evacuated ones included, are destroyed),
 * starts again the guests the fence stopped that the conductor says should be running here, and
 * only then takes requests and reports again. Reconciliation that cannot finish leaves it fenced
 * until the next acknowledgement.
 */
import type { EventEmitter } from 'node:events';
import type { FenceAction } from '../../protocols/liveness.js';
import { leaseLapsed } from '../../protocols/liveness.js';
import { PowerState } from '../../protocols/states.js';
import { errorFields } from '../../runtime/log/logger.js';
import type { RoleContext } from '../../runtime/role.js';
import type { GuestReaper } from './guest-reaper.js';
import type { HostRecord } from './host-record.js';

export class HostFence {
  constructor(
    private readonly ctx: RoleContext,
    private readonly action: Exclude<FenceAction, 'off'>,
    private readonly reaper: GuestReaper,
    /** The host is serving again: report its capacity and guests' power states. */
    private readonly back: (rec: HostRecord) => void,
    /** `fenced` (host, stopped guests) and `unfenced` (host, {reaped, started}). */
    private readonly events: EventEmitter,
  ) {}

  /** The lease lapsed: fence now (idempotent). Never rejects. */
  async fence(rec: HostRecord): Promise<void> {
    if (!rec.fenced) {
      rec.fenced = { stopped: new Set(), since: this.ctx.clock.now(), recovering: false };
      this.ctx.log.warn('liveness lease lapsed: fencing the host (stopping its guests)', { host: rec.name, action: this.action });
    }
    await this.enforce(rec);
    this.events.emit('fenced', rec.name, [...rec.fenced.stopped]);
  }

  /** Stops every guest still up on a fenced host. Never rejects (a failed stop is tried again on the next heartbeat). */
  async enforce(rec: HostRecord): Promise<void> {
    const f = rec.fenced;
    // Recovery starts the guests that should run: stopping them meanwhile would undo it.
    if (!f || f.recovering) return;
    try {
      for (const g of await rec.driver.listGuests()) {
        if (this.action === 'power-off' && g.powerState === PowerState.SHUTDOWN) continue;
        if (this.action === 'destroy') await rec.driver.destroy(g.uuid);
        else await rec.driver.powerOff(g.uuid);
        f.stopped.add(g.uuid);
      }
    } catch (err) {
      this.ctx.log.error('fencing could not stop a guest (tried again on the next heartbeat)', { host: rec.name, ...errorFields(err) });
    }
  }

  /** A lease was granted to a fenced host: reconcile, start what should run, serve again. Never rejects. */
  async recover(rec: HostRecord): Promise<void> {
    const f = rec.fenced;
    if (!f || f.recovering) return;
    f.recovering = true;
    try {
      const r = await this.reaper.reconcileHost(rec);
      if (!r || leaseLapsed(rec.leaseUntil, this.ctx.clock.now())) return;
      const started: string[] = [];
      if (this.action === 'power-off') {
        for (const uuid of f.stopped) {
          if (!r.running.has(uuid.toLowerCase()) || r.reaped.includes(uuid)) continue;
          await rec.driver.powerOn(uuid);
          started.push(uuid);
        }
      }
      rec.fenced = undefined;
      this.ctx.log.warn('liveness lease renewed: the host reconciled and serves again', { host: rec.name, reaped: r.reaped.length, started: started.length });
      this.back(rec);
      this.events.emit('unfenced', rec.name, { reaped: r.reaped, started });
    } catch (err) {
      this.ctx.log.error('recovery from fencing failed (tried again on the next lease)', { host: rec.name, ...errorFields(err) });
    } finally {
      f.recovering = false;
    }
  }
}
