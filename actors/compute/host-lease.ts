/**
 * The host side of the liveness lease (protocols/liveness.ts): with fencing on, each heartbeat
 * carries a reply subject, and the scheduler's answer renews the host's lease from the heartbeat's send time. A
 * sweep a few times per heartbeat fences every host whose lease lapsed (host-fence.ts); an answer
 * to a fenced host starts its recovery. With fencing off heartbeats stay fire-and-forget
 * (host-reports.ts): nothing here runs.
 *
 * Each heartbeat is published with a reply subject that names the host and the send time
 * (`<inbox>.<host>.<sentAt>`), under one wildcard subscription of this process's own inbox: no
 * pending request, timer or promise per heartbeat (nats.js's request cost 45 µs each, 0.45 of a core
 * at 10,000 hosts); an answer that never comes is simply the lease running down, which the sweep
 * sees. 10,000 hosts at 1 s are 10,000 small messages each way per second (bench/liveness.ts).
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { createInbox, type Subscription } from 'nats';
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
  private sub: Subscription | undefined;
  private readonly byName = new Map<string, HostRecord>();
  /** This process's own inbox space (a host identity may subscribe nothing else for replies). */
  private readonly replyTo: string;

  constructor(
    private readonly ctx: RoleContext,
    private readonly fence: HostFence,
    private readonly heartbeatMs: number,
  ) {
    this.replyTo = createInbox((ctx.bridge.nc as { options?: { inboxPrefix?: string } }).options?.inboxPrefix);
  }

  /**
   * Every host starts with a lease of `graceMs` (none yet granted): a host that cannot reach a
   * scheduler at start fences too, guests it found running included.
   */
  start(records: readonly HostRecord[], graceMs: number): void {
    const until = this.ctx.clock.now() + graceMs;
    for (const rec of records) {
      rec.leaseUntil = until;
      this.byName.set(rec.name, rec);
    }
    this.sub = this.ctx.bridge.nc.subscribe(`${this.replyTo}.*.*`, { callback: (err, m) => {
      if (err) return;
      // <replyTo>.<host>.<sentAt>: the host and the send time this answer renews from.
      const tail = m.subject.slice(this.replyTo.length + 1);
      const dot = tail.indexOf('.');
      const rec = this.byName.get(tail.slice(0, dot));
      const sentAt = Number(tail.slice(dot + 1));
      if (rec && Number.isFinite(sentAt)) this.granted(rec, sentAt, m.data);
    } });
    this.timer = this.ctx.clock.setInterval(() => this.sweep(records), Math.max(5, Math.min(100, this.heartbeatMs / 2)));
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.sub?.unsubscribe();
  }

  heartbeat(rec: HostRecord): void {
    if (this.stopped) return;
    if (rec.fenced) void this.fence.enforce(rec);
    // Whole milliseconds: the send time travels as a subject token (rounded down: the lease only shortens).
    const sentAt = Math.floor(this.ctx.clock.now());
    const hb: HeartbeatReport = { host: rec.name, seq: rec.seq, sentAt };
    let subject: string;
    try {
      subject = HeartbeatMsg.subject(this.ctx.subjects, rec.name);
    } catch {
      return; // a host name that is no subject token never reaches the bus (it cannot be registered either)
    }
    try {
      this.ctx.bridge.nc.publish(subject, enc.encode(JSON.stringify(hb)), { reply: `${this.replyTo}.${rec.name}.${sentAt}` });
    } catch {
      // A closed connection: the lease runs down, as it should.
    }
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
