/**
 * What hosts publish on `<root>.report.host.<host>.<kind>`: capacity reports and heartbeats. The
 * body's host must be the subject's host (C4), numbers are bounded integers, and `sentAt` is the
 * sender's clock: receivers record their own time for liveness.
 */
import { Type, type Static } from '@sinclair/typebox';
import { defineMessage } from './define.js';
import { Count, EpochMs, Int, MAX_DISK_GB, MAX_MEMORY_MB, MAX_RUNNING_VMS, MAX_VCPUS, Name, SubjectToken } from './common.js';
import type { Subjects } from '../subjects.js';

export const CapacityReportSchema = Type.Object({
  host: SubjectToken,
  /** Hypervisor node name (equals host for one-node hosts). */
  node: SubjectToken,
  hypervisorType: Name(64),
  hypervisorVersion: Int(0, 2_147_483_647),
  cpuArch: Name(32),
  availabilityZone: Type.Union([Name(255), Type.Null()]),
  /** Physical totals from the driver. */
  vcpus: Int(0, MAX_VCPUS),
  memoryMb: Int(0, MAX_MEMORY_MB),
  diskGb: Int(0, MAX_DISK_GB),
  /** What the guests on the host actually use (driver view). */
  vcpusUsed: Int(0, MAX_VCPUS),
  memoryMbUsed: Int(0, MAX_MEMORY_MB),
  diskGbUsed: Int(0, MAX_DISK_GB),
  runningVms: Int(0, MAX_RUNNING_VMS),
  /** What the disk can take at the least (GiB; negative when the guests may outgrow it), when the driver can tell. */
  diskAvailableLeastGb: Type.Optional(Int(-MAX_DISK_GB, MAX_DISK_GB)),
  /** The host's `uptime` line and address, when the driver can tell. */
  uptime: Type.Optional(Name(255)),
  hostIp: Type.Optional(Type.String({ maxLength: 45, pattern: '^[0-9A-Fa-f:.]+$' })),
  /** Consecutive failed builds on this host (0 after a success). */
  failedBuilds: Type.Optional(Int(0, 1_000_000)),
  /** Monotonic per host actor, so a stale report is ignored. */
  seq: Count,
  sentAt: EpochMs,
});
export type CapacityReport = Static<typeof CapacityReportSchema>;

export const HeartbeatReportSchema = Type.Object({ host: SubjectToken, seq: Count, sentAt: EpochMs });
export type HeartbeatReport = Static<typeof HeartbeatReportSchema>;

const sameHost = (s: Subjects, subject: string, body: { host: string }) => s.parseReportHost(subject) === body.host;

export const CapacityReportMsg = defineMessage({
  name: 'report.capacity',
  pattern: (s) => s.allReports('capacity'),
  subject: (s, host) => s.report(host!, 'capacity'),
  body: CapacityReportSchema,
  matches: sameHost,
  publishedBy: ['compute'],
  subscribedBy: ['scheduler', 'conductor'],
});

/**
 * The scheduler's answer to a heartbeat sent as a request (hosts that fence themselves do): the
 * lease it grants, counted by the host from the heartbeat's send time (protocols/liveness.ts).
 * Every scheduler replica answers; the host takes the first.
 */
export const LeaseGrantSchema = Type.Object({ leaseMs: Int(1, 3_600_000) }, { additionalProperties: false });
export type LeaseGrant = Static<typeof LeaseGrantSchema>;

export const HeartbeatMsg = defineMessage({
  name: 'report.heartbeat',
  pattern: (s) => s.allReports('heartbeat'),
  subject: (s, host) => s.report(host!, 'heartbeat'),
  body: HeartbeatReportSchema,
  matches: sameHost,
  publishedBy: ['compute'],
  subscribedBy: ['scheduler', 'conductor'],
});

/**
 * What a host's hypervisor says about its guests' power states (Nova's `_sync_power_states` input):
 * on every driver event (`cause: 'event'`, the one guest) and in a periodic listing of every guest
 * (`cause: 'periodic'`, split into `chunks` messages of one `at`). A guest missing from a periodic
 * listing, once all its chunks arrived, is not on the hypervisor (Nova's NOSTATE).
 */
export const POWER_SYNC_MAX_GUESTS = 1000;
export const PowerSyncReportSchema = Type.Object({
  host: SubjectToken,
  guests: Type.Array(Type.Object({ uuid: Type.String({ minLength: 1, maxLength: 64 }), powerState: Int(0, 7) }), { maxItems: POWER_SYNC_MAX_GUESTS }),
  at: EpochMs,
  cause: Type.Union([Type.Literal('event'), Type.Literal('periodic')]),
  /** Periodic only: this message's index and how many make up the listing. */
  chunk: Type.Optional(Int(0, 100_000)),
  chunks: Type.Optional(Int(1, 100_000)),
});
export type PowerSyncReport = Static<typeof PowerSyncReportSchema>;

export const PowerSyncMsg = defineMessage({
  name: 'report.power-sync',
  pattern: (s) => s.allReports('power-sync'),
  subject: (s, host) => s.report(host!, 'power-sync'),
  body: PowerSyncReportSchema,
  matches: sameHost,
  publishedBy: ['compute'],
  subscribedBy: ['conductor'],
});
