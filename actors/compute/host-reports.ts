/**
 * Heartbeats and capacity reports, published straight from a host's record: the shared ticker
 * reaches every host this way without waking (spawning) its actor, and a change on a busy host goes
 * the same way. The sequence number is bumped here and only here, so it stays monotonic per host
 * whether or not the host's actor was passivated and spawned again in between.
 */
import { CapacityReportMsg, HeartbeatMsg } from '../../protocols/catalog/reports.js';
import type { CapacityReport, HeartbeatReport } from '../../protocols/resources.js';
import type { RoleContext } from '../../runtime/role.js';
import type { HostRecord } from './host-record.js';

export class HostReports {
  private stopped = false;

  constructor(
    private readonly ctx: RoleContext,
    /** Runs with every capacity report, periodic or after a change (the power sync's listing). */
    private readonly withCapacity?: (rec: HostRecord) => void,
  ) {}

  heartbeat(rec: HostRecord): void {
    if (this.stopped) return;
    const hb: HeartbeatReport = { host: rec.name, seq: rec.seq, sentAt: this.ctx.clock.now() };
    this.ctx.bridge.emit(HeartbeatMsg, [rec.name], hb);
  }

  capacity(rec: HostRecord): void {
    if (this.stopped) return;
    rec.reportQueued = false;
    const seq = ++rec.seq;
    this.withCapacity?.(rec);
    this.publishCapacity(rec, seq).catch((err) => this.ctx.log.warn('capacity report failed', { host: rec.name, err: String(err) }));
  }

  /** After a change: one report on the next turn, however many changes land in this one. */
  changed(rec: HostRecord): void {
    if (rec.reportQueued || this.stopped) return;
    rec.reportQueued = true;
    setImmediate(() => this.capacity(rec));
  }

  stop(): void {
    this.stopped = true;
  }

  private async publishCapacity(rec: HostRecord, seq: number): Promise<void> {
    const [info, usage] = await Promise.all([rec.driver.hostInfo(), rec.driver.usage()]);
    if (this.stopped) return;
    const report: CapacityReport = {
      host: rec.name,
      node: rec.name,
      hypervisorType: info.hypervisorType,
      hypervisorVersion: info.hypervisorVersion,
      cpuArch: info.cpuArch,
      availabilityZone: rec.availabilityZone,
      vcpus: info.vcpus,
      memoryMb: info.memoryMb,
      diskGb: info.diskGb,
      vcpusUsed: usage.vcpusUsed,
      memoryMbUsed: usage.memoryMbUsed,
      diskGbUsed: usage.diskGbUsed,
      runningVms: usage.runningVms,
      failedBuilds: rec.failedBuilds,
      seq,
      sentAt: this.ctx.clock.now(),
    };
    if (info.diskAvailableLeastGb !== undefined) report.diskAvailableLeastGb = info.diskAvailableLeastGb;
    if (info.uptime !== undefined) report.uptime = info.uptime;
    if (info.hostIp !== undefined) report.hostIp = info.hostIp;
    this.ctx.bridge.emit(CapacityReportMsg, [rec.name], report);
  }
}
