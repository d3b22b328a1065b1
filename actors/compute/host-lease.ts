/**
 * The host side of the liveness lease (protocols/liveness.ts): with fencing on, each heartbeat is
 * a request, and the scheduler's answer renews the host's lease from the heartbeat's send time. A
 * sweep a few times per heartbeat fences every host whose lease lapsed (host-fence.ts); an answer
 * to a fenced host starts its recovery. With fencing off heartbeats stay fire-and-forget
 * (host-reports.ts): nothing here runs.
 *
 * One request per host and heartbeat over the connection's shared reply inbox (nats.js muxes
 * them), answered by a constant reply: 10,000 hosts at 1 s are 10,000 small messages each way per
 * second (bench/liveness.ts measures it).
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { HeartbeatMsg, LeaseGrantSchema } from '../../protocols/catalog/reports.js';
import { leaseLapsed, renewedLease } from '../../protocols/liveness.js';
import type { HeartbeatReport } from '../../protocols/resources.js';
import type { Timer } from '../../runtime/clock.js';
import type { RoleContext } from '../../runtime/role.js';
import type { HostFence } from './host-fence.js';
import type { HostRecord } from './host-record.js';

const grantCheck = TypeCompiler.Compile(LeaseGrantSchema);
const enc = new TextEncoder();
const dec = new TextDecoder();

export class HostLeases {
  private stopped = false;
  private timer: Timer | undefined;

  constructor(
    private readonly ctx: RoleContext,
    private readonly fence: HostFence,
    private readonly heartbeatMs: number,
  ) {}

  /**
   * Every host starts with a lease of `graceMs` (none yet granted): a host that cannot reach a
   * scheduler at start fences too, guests it found running included.
   */
  start(records: readonly HostRecord[], graceMs: number): void {
    const until = this.ctx.clock.now() + graceMs;
    for (const rec of records) rec.leaseUntil = until;
    this.timer = this.ctx.clock.setInterval(() => this.sweep(records), Math.max(5, Math.min(100, this.heartbeatMs / 2)));
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  heartbeat(rec: HostRecord): void {
    if (this.stopped) return;
    if (rec.fenced) void this.fence.enforce(rec);
    const sentAt = this.ctx.clock.now();
    const hb: HeartbeatReport = { host: rec.name, seq: rec.seq, sentAt };
    let subject: string;
    try {
      subject = HeartbeatMsg.subject(this.ctx.subjects, rec.name);
    } catch {
      return; // a host name that is no subject token never reaches the bus (it cannot be registered either)
    }
    this.ctx.bridge.nc.request(subject, enc.encode(JSON.stringify(hb)), { timeout: 2 * this.heartbeatMs }).then(
      (m) => this.granted(rec, sentAt, m.data),
      () => undefined, // no answer in time, nobody listening, or disconnected: the lease runs down
    );
  }

  private granted(rec: HostRecord, sentAt: number, data: Uint8Array): void {
    if (this.stopped) return;
    let grant: unknown;
    try {
      grant = JSON.parse(dec.decode(data));
    } catch {
      return;
    }
    if (!grantCheck.Check(grant)) return;
    rec.leaseUntil = renewedLease(rec.leaseUntil, sentAt, grant.leaseMs);
    if (rec.fenced && !leaseLapsed(rec.leaseUntil, this.ctx.clock.now())) void this.fence.recover(rec);
  }

  /** Fences every host whose lease lapsed. */
  sweep(records: readonly HostRecord[]): void {
    if (this.stopped) return;
    const now = this.ctx.clock.now();
    for (const rec of records) if (!rec.fenced && leaseLapsed(rec.leaseUntil, now)) void this.fence.fence(rec);
  }
}
