/** Host actors (`<root>.host.<host>.<verb>`), answered by the compute role that runs the host. */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { defineFamily, defineRequest } from './define.js';
import { AnyObject, Closed, Count, Empty, Int, MAX_DISK_GB, MAX_MEMORY_MB, MAX_VCPUS, Name, NonEmptyName, Opt, StringMap, SubjectToken, Uuid } from './common.js';
import { GuestInfoSchema } from './views.js';
import type { PowerOp } from '../lifecycle.js';
import type { GuestInfo, GuestSpec, HostInfo, HostUsage } from '../host.js';

const GuestId = NonEmptyName(64);

export const GuestSpecSchema = Closed({
  uuid: GuestId,
  name: NonEmptyName(255),
  vcpus: Int(1, MAX_VCPUS),
  memoryMb: Int(1, MAX_MEMORY_MB),
  diskGb: Int(0, MAX_DISK_GB),
  image: Closed({
    id: NonEmptyName(64), diskFormat: Opt(Name(64)), properties: Opt(StringMap(256, 255, 65_535)),
    sizeBytes: Opt(Count), checksum: Opt(Name(64)), osHashAlgo: Opt(Name(64)), osHashValue: Opt(Name(256)),
  }),
  rootGb: Opt(Int(0, MAX_DISK_GB)),
  ephemeralGb: Opt(Int(0, MAX_DISK_GB)),
  swapMb: Opt(Int(0, MAX_MEMORY_MB)),
  flavor: Opt(Closed({ id: NonEmptyName(255), name: NonEmptyName(255) })),
  projectId: Opt(NonEmptyName(64)),
  userId: Opt(NonEmptyName(64)),
  hostname: Opt(NonEmptyName(255)),
  keyPair: Opt(Closed({ name: NonEmptyName(255), publicKey: Type.String({ minLength: 1, maxLength: 16_384 }), type: NonEmptyName(32) })),
  /** Base64 of at most 64 KiB. */
  userData: Opt(Type.String({ maxLength: 87_384, pattern: '^[A-Za-z0-9+/=\\s]*$' })),
  configDrive: Opt(Type.Boolean()),
  metadata: Opt(StringMap(128, 255, 255)),
  nics: Opt(Type.Array(Closed({
    portId: Uuid, networkId: Uuid, mac: Type.String({ pattern: '^([0-9a-f]{2}:){5}[0-9a-f]{2}$' }), mtu: Int(68, 65_535),
    fixedIps: Type.Array(Closed({
      address: Name(64), version: Int(4, 6), cidr: Name(64), gateway: Type.Union([Name(64), Type.Null()]),
      dns: Type.Optional(Type.Array(Name(64), { maxItems: 16 })),
      routes: Type.Optional(Type.Array(Closed({ destination: Name(64), nexthop: Name(64) }), { maxItems: 64 })),
      ipv6AddressMode: Type.Optional(Name(32)),
    }), { maxItems: 16 }),
  }), { maxItems: 32 })),
});
export const SpawnRequestSchema = Closed({ guest: GuestSpecSchema });
export interface SpawnRequest { guest: GuestSpec }
export const GuestReplySchema = Type.Object({ guest: GuestInfoSchema });
export interface GuestReply { guest: GuestInfo }
export const DestroyRequestSchema = Closed({ uuid: GuestId });
export type DestroyRequest = Static<typeof DestroyRequestSchema>;
/** The lifecycle's power ops, plus pause/unpause/suspend/resume folded into the same verb. */
export const HOST_POWER_OPS = ['stop', 'start', 'reboot_soft', 'reboot_hard', 'pause', 'unpause', 'suspend', 'resume'] as const;
export type HostPowerOp = PowerOp | (typeof HOST_POWER_OPS)[number];
export const PowerRequestSchema = Closed({ uuid: GuestId, op: Type.Union(HOST_POWER_OPS.map((o) => Type.Literal(o))) });
export interface PowerRequest { uuid: string; op: HostPowerOp }

const Uuid1 = Closed({ uuid: GuestId });
export type GuestRef = Static<typeof Uuid1>;
const Target = Closed({ host: SubjectToken, uri: Opt(Name(1024)) });
export const ConsoleRequestSchema = Closed({ uuid: GuestId, lines: Opt(Int(0, 10_000)) });
export const ConsoleReplySchema = Type.Object({ output: Type.String() });
export const DiagnosticsReplySchema = Type.Object({ diagnostics: AnyObject });
export const SetPasswordRequestSchema = Closed({ uuid: GuestId, password: NonEmptyName(255) });
export const RescueRequestSchema = Closed({ uuid: GuestId, rescueImage: NonEmptyName(64), adminPass: Name(255) });
export const RebuildRequestSchema = Closed({ guest: GuestSpecSchema });
export const MigrateOutRequestSchema = Closed({ uuid: GuestId, dest: Target });
export const FinishMigrationRequestSchema = Closed({ guest: GuestSpecSchema, powerOn: Type.Boolean() });
export const FinishRevertRequestSchema = Closed({ uuid: GuestId, powerOn: Type.Boolean() });
export const PrepareIncomingRequestSchema = Closed({ guest: GuestSpecSchema });
export const LiveMigrateRequestSchema = Closed({ uuid: GuestId, dest: Target });
/** The image (already created, `queued`) the snapshot's bytes are uploaded into. */
export const SnapshotRequestSchema = Closed({ uuid: GuestId, imageId: Uuid });

export interface HostView {
  host: string;
  info: HostInfo;
  usage: HostUsage;
  guests: GuestInfo[];
  enabled: boolean;
  reportSeq: number;
}

const host = (verb: string) => ({
  verb,
  pattern: (s: { root: string }) => `${s.root}.host.*.*`,
  subject: (s: { host(h: string, v: string): string }, name?: string) => s.host(name!, verb),
});
const served = { servedBy: 'compute', calledBy: ['conductor', 'client'] } as const;

export const HostGet = defineRequest({ ...host('get'), mutating: false, body: Empty, reply: AnyObject, ...served });
export const HostSpawn = defineRequest({ ...host('spawn'), mutating: true, body: SpawnRequestSchema, reply: GuestReplySchema, ...served });
export const HostDestroy = defineRequest({ ...host('destroy'), mutating: true, body: DestroyRequestSchema, reply: Empty, ...served });
export const HostPower = defineRequest({ ...host('power'), mutating: true, body: PowerRequestSchema, reply: GuestReplySchema, ...served });

const verb = <B extends TSchema, R extends TSchema>(name: string, body: B, reply: R) =>
  defineRequest({ ...host(name), mutating: true, body, reply, ...served });
const readVerb = <B extends TSchema, R extends TSchema>(name: string, body: B, reply: R) =>
  defineRequest({ ...host(name), mutating: false, body, reply, ...served });

export const HostConsole = readVerb('console', ConsoleRequestSchema, ConsoleReplySchema);
export const HostDiagnostics = readVerb('diagnostics', Uuid1, DiagnosticsReplySchema);
export const HostCrashDump = verb('crash-dump', Uuid1, Empty);
export const HostSetPassword = verb('set-password', SetPasswordRequestSchema, Empty);
export const HostRescue = verb('rescue', RescueRequestSchema, GuestReplySchema);
export const HostUnrescue = verb('unrescue', Uuid1, GuestReplySchema);
export const HostRebuild = verb('rebuild', RebuildRequestSchema, GuestReplySchema);
export const HostMigrateOut = verb('migrate-out', MigrateOutRequestSchema, GuestReplySchema);
export const HostFinishMigration = verb('finish-migration', FinishMigrationRequestSchema, GuestReplySchema);
export const HostConfirmMigration = verb('confirm-migration', Uuid1, Empty);
export const HostRevertMigration = verb('revert-migration', Uuid1, Empty);
export const HostFinishRevert = verb('finish-revert', FinishRevertRequestSchema, GuestReplySchema);
export const HostPrepareIncoming = verb('prepare-incoming', PrepareIncomingRequestSchema, Empty);
export const HostLiveMigrate = verb('live-migrate', LiveMigrateRequestSchema, Empty);
export const HostAbortLiveMigration = verb('abort-live-migration', Uuid1, Empty);
export const HostFinishIncoming = verb('finish-incoming', Uuid1, GuestReplySchema);
export const HostAbortIncoming = verb('abort-incoming', Uuid1, Empty);
export const HostSnapshot = verb('snapshot', SnapshotRequestSchema, Empty);

export const HostVerbs = defineFamily('host', (s) => `${s.root}.host.*.*`, [
  HostGet, HostSpawn, HostDestroy, HostPower, HostConsole, HostDiagnostics, HostCrashDump, HostSetPassword, HostRescue,
  HostUnrescue, HostRebuild, HostMigrateOut, HostFinishMigration, HostConfirmMigration, HostRevertMigration, HostFinishRevert,
  HostPrepareIncoming, HostLiveMigrate, HostAbortLiveMigration, HostFinishIncoming, HostAbortIncoming, HostSnapshot,
]);

/** `<root>.compute.hosts`: the hosts one compute process runs. */
export const ComputeHosts = defineRequest({
  verb: 'hosts', pattern: (s) => `${s.root}.compute.hosts`, mutating: false, body: Empty,
  reply: Type.Object({ hosts: Type.Array(Type.String()) }), servedBy: 'compute', calledBy: ['client'],
});
