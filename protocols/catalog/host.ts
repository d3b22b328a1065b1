/** Host actors (`<root>.host.<host>.<verb>`), answered by the compute role that runs the host. */
import { Type, type Static } from '@sinclair/typebox';
import { defineFamily, defineRequest } from './define.js';
import { AnyObject, Closed, Empty, Int, MAX_DISK_GB, MAX_MEMORY_MB, MAX_VCPUS, Name, NonEmptyName, Opt, StringMap } from './common.js';
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
  image: Closed({ id: NonEmptyName(64), diskFormat: Opt(Name(64)), properties: Opt(StringMap(256, 255, 65_535)) }),
});
export const SpawnRequestSchema = Closed({ guest: GuestSpecSchema });
export interface SpawnRequest { guest: GuestSpec }
export const GuestReplySchema = Type.Object({ guest: GuestInfoSchema });
export interface GuestReply { guest: GuestInfo }
export const DestroyRequestSchema = Closed({ uuid: GuestId });
export type DestroyRequest = Static<typeof DestroyRequestSchema>;
const POWER_OPS = ['stop', 'start', 'reboot_soft', 'reboot_hard', 'pause', 'unpause', 'suspend', 'resume'] as const satisfies readonly PowerOp[];
export const PowerRequestSchema = Closed({ uuid: GuestId, op: Type.Union(POWER_OPS.map((o) => Type.Literal(o))) });
export interface PowerRequest { uuid: string; op: PowerOp }

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

export const HostVerbs = defineFamily('host', (s) => `${s.root}.host.*.*`, [HostGet, HostSpawn, HostDestroy, HostPower]);

/** `<root>.compute.hosts`: the hosts one compute process runs. */
export const ComputeHosts = defineRequest({
  verb: 'hosts', pattern: (s) => `${s.root}.compute.hosts`, mutating: false, body: Empty,
  reply: Type.Object({ hosts: Type.Array(Type.String()) }), servedBy: 'compute', calledBy: ['client'],
});
