/**
 * Typed request and reply bodies for every NATS verb novact serves (inside the envelope of
 * envelope.ts). Pure types: the validators that check incoming bodies live with their handlers.
 */
import type { ApiStatus, PowerState, TaskState, VmState } from './states.js';
import type { CapacityReport, Flavor, ImageMeta, Resources } from './resources.js';
import type { PowerOp } from './lifecycle.js';
import type { GuestInfo, GuestSpec, HostInfo, HostUsage } from '../hosts/driver.js';

/** An instance as every reader sees it (NATS `get`, CLI, later the REST API). */
export interface ServerView {
  id: string;
  name: string;
  status: ApiStatus;
  vmState: VmState;
  taskState: TaskState | null;
  powerState: PowerState;
  host: string | null;
  projectId: string;
  userId: string;
  flavor: { id: string; name: string; vcpus: number; ram: number; disk: number; ephemeral: number };
  imageId: string;
  availabilityZone: string | null;
  metadata: Record<string, string>;
  /** The key pair named at create (Nova keeps the name; the key itself is the API's). */
  keyName: string | null;
  fault: { code: number; message: string } | null;
  createdAt: string;
  updatedAt: string;
  launchedAt: string | null;
}

// --- conductor: <root>.conductor.<verb> ---

/** `build`: create one instance (the envelope's idempotency key makes a retried build return the same). */
export interface BuildRequest {
  name: string;
  flavorRef: string;
  imageRef: string;
  projectId?: string;
  userId?: string;
  availabilityZone?: string;
  metadata?: Record<string, string>;
  keyName?: string;
  schedulerHints?: Record<string, string | string[]>;
  /** Multi-create: `maxCount` instances (named `<name>-<n>`), placed all or nothing; at most 100. */
  minCount?: number;
  maxCount?: number;
}
/** `server` is the first instance; `servers` every instance of a multi-create. */
/** `sharedMetadata`: every server has `server.metadata` (one request made them); `servers` do not repeat it. */
export interface BuildReply { server: ServerView; servers: ServerView[]; sharedMetadata?: boolean }

export interface ListRequest {
  projectId?: string;
  name?: string;
  status?: string;
  host?: string;
  limit?: number;
  marker?: string;
}
/** `more`: the reply stopped early (at its byte budget): continue with the last server as marker. */
export interface ListReply { servers: ServerView[]; more?: boolean }

export interface ComputeNodeView {
  host: string;
  node: string;
  state: 'up' | 'down';
  status: 'enabled' | 'disabled';
  hypervisorType: string;
  vcpus: number;
  vcpusUsed: number;
  memoryMb: number;
  memoryMbUsed: number;
  localGb: number;
  localGbUsed: number;
  runningVms: number;
  lastSeenAt: string;
}
/** A page in host order; `next` (a host) to continue from when more may follow. */
export interface HostsReply { hosts: ComputeNodeView[]; next?: string }
export interface HostsRequest { limit?: number; marker?: string }

// --- instance actors: <root>.instance.<uuid>.<verb> ---

export interface RebootRequest { type?: 'SOFT' | 'HARD' }
/** Actions answer once the action is accepted (Nova's 202), with the instance as it is then. */
export interface ServerReply { server: ServerView }

export interface InstanceActionView {
  action: string;
  requestId: string;
  projectId?: string;
  userId?: string;
  startTime: string;
  finishTime: string | null;
  result: string | null;
  message: string | null;
}
/** Newest first, at most `limit` (1000); `more` when older ones follow (continue with the last as marker). */
export interface ActionsReply { actions: InstanceActionView[]; more?: boolean }
export interface ActionsRequest { limit?: number; marker?: string; requestId?: string }

// --- flavors: <root>.flavor.<verb> ---
export interface FlavorListReply { flavors: Flavor[] }
export interface FlavorGetRequest { id: string }
export interface FlavorReply { flavor: Flavor }

// --- images: <root>.image.<verb>, <root>.image.<uuid>.<verb> ---
export interface ImageCreateRequest {
  name: string;
  diskFormat?: string;
  containerFormat?: string;
  minDiskGb?: number;
  minRamMb?: number;
  visibility?: ImageMeta['visibility'];
  properties?: Record<string, string>;
  /** Register metadata for data that already exists elsewhere: the image is `active` at once. */
  sizeBytes?: number;
  id?: string;
}
export interface ImageReply { image: ImageMeta }
/** `more`: the reply stopped early (at its byte budget): continue with the last image as marker. */
export interface ImageListReply { images: ImageMeta[]; more?: boolean }

// --- scheduler: <root>.scheduler.<verb> ---

export interface SelectRequest {
  instanceUuid: string;
  projectId: string;
  resources: Resources;
  flavor: { id: string; name: string; extraSpecs: Record<string, string> };
  image: { id: string; properties: Record<string, string> };
  availabilityZone: string | null;
  ignoreHosts: string[];
  /** Nova's scheduler hints: `group` (server group uuid), `same_host`, `different_host`. */
  schedulerHints?: Record<string, string | string[]>;
  /** Chosen host plus alternates (Nova: max_attempts). */
  count?: number;
}
export interface SelectReply { host: string; alternates: string[] }
/** `select-batch`: one placement per request, in order; all placed or the whole batch fails. */
export interface SelectBatchRequest { requests: SelectRequest[] }
export interface SelectBatchReply { placements: SelectReply[] }

/** Move (or create) the instance's allocation onto `host`; fails if it does not fit. */
export interface ClaimRequest { instanceUuid: string; projectId: string; host: string; resources: Resources }
export interface ClaimReply { host: string }
export interface ReleaseRequest { instanceUuid: string }

// --- hosts: <root>.host.<host>.<verb> ---

export interface HostView {
  host: string;
  info: HostInfo;
  usage: HostUsage;
  guests: GuestInfo[];
  enabled: boolean;
  reportSeq: number;
}
export interface SpawnRequest { guest: GuestSpec }
export interface GuestReply { guest: GuestInfo }
export interface DestroyRequest { uuid: string }
export interface PowerRequest { uuid: string; op: PowerOp }

export type { CapacityReport };
