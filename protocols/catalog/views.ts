/** The shapes replies carry (server, compute node, action, flavor, image views). Pure schemas. */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { ApiStatus, PowerState, TaskState, VmState } from '../states.js';
import type { ImageStatus } from '../resources.js';

/** A string (or number) whose TypeScript type is narrower than what the schema checks. */
const As = <T>(schema: TSchema) => Type.Unsafe<T>(schema);
const Str = Type.String();
const NullableStr = Type.Union([Type.String(), Type.Null()]);
const Num = Type.Number();

export const ServerViewSchema = Type.Object({
  id: Str,
  name: Str,
  status: As<ApiStatus>(Str),
  vmState: As<VmState>(Str),
  taskState: As<TaskState | null>(NullableStr),
  powerState: As<PowerState>(Num),
  host: NullableStr,
  projectId: Str,
  userId: Str,
  flavor: Type.Object({ id: Str, name: Str, vcpus: Num, ram: Num, disk: Num, ephemeral: Num, swap: Num }),
  imageId: Str,
  availabilityZone: NullableStr,
  metadata: Type.Record(Str, Str),
  /** The key pair named at create (Nova keeps the name; the key itself is the API's). */
  keyName: NullableStr,
  /** Nova's `user_data` (base64 as given; an admin's view from 2.3) and whether the guest has a config drive. */
  userData: NullableStr,
  configDrive: Type.Boolean(),
  /** Nova's server tags (2.26), user-set description (2.19), hostname (2.90) and access addresses. */
  tags: Type.Array(Str),
  description: NullableStr,
  hostname: Str,
  accessIPv4: Str,
  accessIPv6: Str,
  fault: Type.Union([Type.Object({ code: Num, message: Str }), Type.Null()]),
  createdAt: Str,
  updatedAt: Str,
  launchedAt: NullableStr,
  locked: Type.Optional(Type.Boolean()),
  lockedReason: Type.Optional(NullableStr),
});
export type ServerView = Static<typeof ServerViewSchema>;

export const ComputeNodeViewSchema = Type.Object({
  host: Str,
  node: Str,
  state: Type.Union([Type.Literal('up'), Type.Literal('down')]),
  status: Type.Union([Type.Literal('enabled'), Type.Literal('disabled')]),
  hypervisorType: Str,
  vcpus: Num,
  vcpusUsed: Num,
  memoryMb: Num,
  memoryMbUsed: Num,
  localGb: Num,
  localGbUsed: Num,
  runningVms: Num,
  lastSeenAt: Str,
});
export type ComputeNodeView = Static<typeof ComputeNodeViewSchema>;

export const ServiceViewSchema = Type.Composite([
  ComputeNodeViewSchema,
  Type.Object({
    disabledReason: NullableStr, forcedDown: Type.Boolean(), availabilityZone: NullableStr, hypervisorVersion: Num, cpuArch: Str, createdAt: Str,
    diskAvailableLeast: Type.Union([Num, Type.Null()]), uptime: NullableStr, hostIp: NullableStr, currentWorkload: Num,
  }),
]);

export const InstanceActionViewSchema = Type.Object({
  action: Str,
  requestId: Str,
  projectId: Type.Optional(Str),
  userId: Type.Optional(Str),
  startTime: Str,
  finishTime: NullableStr,
  result: NullableStr,
  message: NullableStr,
});
export type InstanceActionView = Static<typeof InstanceActionViewSchema>;

export const FlavorSchema = Type.Object({
  id: Str,
  name: Str,
  vcpus: Num,
  memoryMb: Num,
  diskGb: Num,
  ephemeralGb: Num,
  swapMb: Num,
  isPublic: Type.Boolean(),
  extraSpecs: Type.Record(Str, Str),
  description: Type.Optional(Type.Union([Str, Type.Null()])),
  projects: Type.Optional(Type.Array(Str)),
});

export const ImageMetaSchema = Type.Object({
  id: Str,
  name: Str,
  status: As<ImageStatus>(Str),
  diskFormat: Str,
  containerFormat: Str,
  sizeBytes: Num,
  minDiskGb: Num,
  minRamMb: Num,
  visibility: Type.Union([Type.Literal('public'), Type.Literal('private'), Type.Literal('shared'), Type.Literal('community')]),
  ownerProjectId: NullableStr,
  properties: Type.Record(Str, Str),
  checksum: Type.Optional(NullableStr),
  osHashAlgo: Type.Optional(NullableStr),
  osHashValue: Type.Optional(NullableStr),
  tags: Type.Optional(Type.Array(Str)),
  protected: Type.Optional(Type.Boolean()),
  osHidden: Type.Optional(Type.Boolean()),
  stores: Type.Optional(Type.Array(Str)),
  createdAt: Str,
  updatedAt: Str,
});

export const GuestInfoSchema = Type.Object({
  uuid: Str, name: Str, powerState: As<PowerState>(Num), vcpus: Num, memoryMb: Num, diskGb: Num,
});
