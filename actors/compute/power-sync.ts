/**
 * Power sync, host side (Nova's `_sync_power_states` input): each host forwards what its hypervisor
 * says about its guests' power states to the conductor as `report.host.<h>.power-sync`: every
 * driver event at once, and a listing of every guest periodically and with each capacity report.
 * The host only reports; the conductor decides (the DB wins, as in Nova) and asks the host to act.
 */
import { POWER_SYNC_MAX_GUESTS, PowerSyncMsg, type PowerSyncReport } from '../../protocols/catalog/reports.js';
import { errorFields } from '../../runtime/log/logger.js';
import type { RoleContext } from '../../runtime/role.js';
import type { HostRecord } from './host-record.js';

export class PowerSync {
  private stopped = false;
  private readonly offs: (() => void)[] = [];
  /** Listings running now, so a burst of reports lists each host once. */
  private readonly listing = new Set<string>();

  constructor(private readonly ctx: RoleContext) {}

  /** Forwards the host's driver events (drivers that emit none are covered by the listings). */
  watch(rec: HostRecord): void {
    if (!rec.driver.capabilities.emitsEvents) return;
    this.offs.push(rec.driver.onEvent((e) => {
      // A fenced host's stops are the fence's, not a user's (host-fence.ts): never reported.
      if (this.stopped || rec.fenced) return;
      this.publish({ host: rec.name, guests: [{ uuid: e.uuid, powerState: e.powerState }], at: e.at, cause: 'event' });
    }));
  }

  /** Publishes every guest's power state, in chunks of one `at`. Never rejects. */
  async list(rec: HostRecord): Promise<void> {
    if (this.stopped || rec.fenced || this.listing.has(rec.name)) return;
    this.listing.add(rec.name);
    try {
      // Taken before the listing: the conductor ignores observations older than its last write, so
      // a listing must never claim to be newer than what it saw.
      const at = this.ctx.clock.now();
      const guests = (await rec.driver.listGuests()).map((g) => ({ uuid: g.uuid, powerState: g.powerState }));
      if (this.stopped) return;
      const chunks = Math.max(1, Math.ceil(guests.length / POWER_SYNC_MAX_GUESTS));
      for (let chunk = 0; chunk < chunks; chunk++) {
        const part = guests.slice(chunk * POWER_SYNC_MAX_GUESTS, (chunk + 1) * POWER_SYNC_MAX_GUESTS);
        this.publish({ host: rec.name, guests: part, at, cause: 'periodic', chunk, chunks });
      }
    } catch (err) {
      this.ctx.log.info('power sync listing skipped', { host: rec.name, ...errorFields(err) });
    } finally {
      this.listing.delete(rec.name);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const off of this.offs.splice(0)) off();
  }

  private publish(r: PowerSyncReport): void {
    this.ctx.bridge.emit(PowerSyncMsg, [r.host], r);
  }
}
