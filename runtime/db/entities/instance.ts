import { ArrayType, EntitySchema } from '@mikro-orm/core';
import type { TaskState, VmState } from '../../../protocols/states.js';
import type { TaskContext } from '../../../protocols/lifecycle.js';

/** An instance row. Only its instance actor writes `vm_state`/`task_state`, by compare-and-swap on `version`. */
export interface InstanceRow {
  uuid: string;
  name: string;
  projectId: string;
  userId: string;
  flavorId: string;
  flavorName: string;
  vcpus: number;
  memoryMb: number;
  rootGb: number;
  ephemeralGb: number;
  /** The flavor's swap, MiB (0: none). */
  swapMb: number;
  imageRef: string;
  vmState: VmState;
  taskState: TaskState | null;
  powerState: number;
  host: string | null;
  node: string | null;
  alternates: string[];
  availabilityZone: string | null;
  metadata: Record<string, string>;
  keyName: string | null;
  /** The key pair's public key and type as they were at boot (or the last rebuild naming a key). */
  keyData: string | null;
  keyType: string | null;
  /** Base64 as the API took it (Nova's `user_data`); null: none. */
  userData: string | null;
  configDrive: boolean;
  /** Nova's server tags (2.26): at most 50, each 1–60 characters without `/` or `,`. */
  tags: string[];
  /** User-set (2.19); null when never set. */
  description: string | null;
  /** The guest's hostname (2.90); null: derived from the name (protocols/hostname.ts). */
  hostname: string | null;
  accessIpV4: string | null;
  accessIpV6: string | null;
  /** Scheduler hints of the build (`group`, `same_host`, `different_host`), kept for reschedules. */
  schedulerHints: Record<string, string | string[]>;
  fault: { code: number; message: string } | null;
  /** What the running task's steps need (the lifecycle's program-counter data); `{attempt}` when idle. */
  taskContext: TaskContext;
  lockedBy: 'owner' | 'admin' | null;
  lockedReason: string | null;
  /** The build request's idempotency key: a retried build finds the instance it already made. */
  idempotencyKey: string | null;
  launchedAt: Date | null;
  terminatedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  deletedAt: Date | null;
  version: number;
}

export const Instance = new EntitySchema<InstanceRow>({
  name: 'Instance',
  tableName: 'instances',
  indexes: [{ properties: ['projectId', 'createdAt'] }, { properties: ['host'] }, { properties: ['vmState', 'taskState'] }],
  uniques: [{ properties: ['idempotencyKey'] }],
  properties: {
    uuid: { type: 'uuid', primary: true },
    name: { type: 'string', length: 255 },
    projectId: { type: 'string', length: 64 },
    userId: { type: 'string', length: 64 },
    flavorId: { type: 'string', length: 64 },
    flavorName: { type: 'string', length: 255 },
    vcpus: { type: 'integer' },
    memoryMb: { type: 'integer' },
    rootGb: { type: 'integer' },
    ephemeralGb: { type: 'integer' },
    swapMb: { type: 'integer', default: 0 },
    imageRef: { type: 'string', length: 64 },
    vmState: { type: 'string', length: 32 },
    taskState: { type: 'string', length: 32, nullable: true },
    powerState: { type: 'smallint' },
    host: { type: 'string', length: 255, nullable: true },
    node: { type: 'string', length: 255, nullable: true },
    alternates: { type: 'json' },
    availabilityZone: { type: 'string', length: 255, nullable: true },
    metadata: { type: 'json' },
    keyName: { type: 'string', length: 255, nullable: true },
    keyData: { type: 'text', nullable: true },
    keyType: { type: 'string', length: 16, nullable: true },
    userData: { type: 'text', nullable: true },
    configDrive: { type: 'boolean', default: false },
    tags: { type: ArrayType, default: '{}' },
    description: { type: 'string', length: 255, nullable: true },
    hostname: { type: 'string', length: 255, nullable: true },
    accessIpV4: { type: 'string', length: 64, nullable: true, fieldName: 'access_ip_v4' },
    accessIpV6: { type: 'string', length: 64, nullable: true, fieldName: 'access_ip_v6' },
    schedulerHints: { type: 'json', default: '{}' },
    fault: { type: 'json', nullable: true },
    taskContext: { type: 'json', default: '{"attempt":0}' },
    lockedBy: { type: 'string', length: 16, nullable: true },
    lockedReason: { type: 'string', length: 255, nullable: true },
    idempotencyKey: { type: 'string', length: 128, nullable: true },
    launchedAt: { type: 'datetime', nullable: true },
    terminatedAt: { type: 'datetime', nullable: true },
    createdAt: { type: 'datetime' },
    updatedAt: { type: 'datetime' },
    deletedAt: { type: 'datetime', nullable: true },
    version: { type: 'integer' },
  },
});
