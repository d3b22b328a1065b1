/**
 * The hypervisor driver interface: the one pluggable unit a host actor wraps (Nova's
 * `nova.virt.driver.ComputeDriver`, cut down to what novact drives). Implementations: `FakeDriver`
 * (hosts/fake/, in-memory, first-class for simulation and chaos) and `LibvirtDriver` (hosts/libvirt/).
 * `hosts/contract.ts` is the suite every implementation must pass.
 *
 * Failure contract, in Nova's terms:
 * - `spawn` is idempotent on `uuid`: a second spawn of a running guest returns it; a failed spawn
 *   cleans up its partial work before it rejects, so a retry elsewhere leaves nothing behind.
 * - `destroy` of an absent guest succeeds (deletes must converge), and a destroy during a spawn of
 *   the same guest wins: afterwards no guest exists, whatever the spawn answered.
 * - operations on an absent guest reject with `DriverError` kind `not-found`.
 * - every rejection is a `DriverError`; `retryable` says whether the same call may succeed later.
 * - every operation takes `CallOptions`: past `deadlineMs` it rejects with kind `timeout`, on
 *   `signal` with kind `aborted`, and after `close()` with kind `closed`. A real driver's work may
 *   still land after a timeout, so every operation converges when retried (noted per method).
 */
import type { DriverEvent, GuestInfo, GuestSpec, HostInfo, HostUsage } from '../protocols/host.js';

// The wire types live in protocols/ (the host verbs carry them); re-exported for existing importers.
export type { DriverEvent, GuestInfo, GuestSpec, HostInfo, HostUsage } from '../protocols/host.js';

/** Bounds on one call. The host actor derives them from the request envelope's deadline. */
export interface CallOptions {
  /** How long the call may take, from the moment it is made; then it rejects with `timeout`. */
  deadlineMs?: number;
  /** Aborting rejects the call with `aborted` (the caller gave up, e.g. the request was cancelled). */
  signal?: AbortSignal;
}

/** Where a migration goes: the destination host's name and, for a real hypervisor, its URI. */
export interface MigrationTarget {
  host: string;
  uri?: string;
}

/**
 * Where snapshot bytes go (an image's data, uploaded as it is produced). `write` resolves when the
 * chunk is accepted (back-pressure); `finish` when the image holds all of it; `abort` on failure.
 */
export interface ImageDataSink {
  write(chunk: Uint8Array): Promise<void>;
  finish(): Promise<void>;
  abort(reason: string): Promise<void>;
}

/** What a host knows of an image's bytes, checked as they arrive (`GuestImage`'s integrity fields). */
export interface ImageExpectation {
  sizeBytes?: number;
  checksum?: string | null;
  osHashAlgo?: string | null;
  osHashValue?: string | null;
}

/**
 * Where a driver gets image bytes (Nova: the image service's download): the compute role gives
 * one per host over NATS (actors/compute/image-source.ts). `fetch` calls `onChunk` with each piece
 * in order and resolves once the size and hashes matched; a mismatch rejects (the bytes must not
 * be used).
 */
export interface ImageFetcher {
  fetch(imageId: string, onChunk: (chunk: Uint8Array) => void | Promise<void>, expected?: ImageExpectation, opts?: CallOptions): Promise<{ sizeBytes: number }>;
}

/** What the compute role hands a driver before `init` (`HypervisorDriver.attach`). */
export interface HostServices {
  images: ImageFetcher;
}

/** Nova's server diagnostics, v2.48 shape (`GET /servers/{id}/diagnostics`). */
export interface GuestDiagnostics {
  state: 'pending' | 'running' | 'paused' | 'shutdown' | 'crashed' | 'suspended';
  driver: string;
  hypervisor: string;
  hypervisor_os: string;
  /** Seconds since the guest was last started. */
  uptime: number;
  config_drive: boolean;
  num_cpus: number;
  num_disks: number;
  num_nics: number;
  memory_details: { maximum: number; used: number };
  cpu_details: { id: number; time: number; utilisation: number }[];
  disk_details: { read_bytes: number; read_requests: number; write_bytes: number; write_requests: number; errors_count: number }[];
  nic_details: {
    mac_address: string; rx_octets: number; rx_errors: number; rx_drop: number; rx_packets: number; rx_rate: number | null;
    tx_octets: number; tx_errors: number; tx_drop: number; tx_packets: number; tx_rate: number | null;
  }[];
}

/** Whether the driver can reach its hypervisor now (a libvirt connection drops and reconnects). */
export interface DriverHealth {
  state: 'up' | 'down' | 'closed';
  detail?: string;
}

/** Every operation a fault plan can target (hosts/fake/fault-plan.ts). */
export const DRIVER_OPS = [
  'spawn', 'destroy', 'powerOff', 'powerOn', 'reboot', 'pause', 'unpause', 'suspend', 'resume', 'consoleOutput',
  'migrateOut', 'finishMigration', 'confirmMigration', 'revertMigration', 'finishRevertMigration',
  'prepareIncoming', 'liveMigrate', 'abortLiveMigration', 'finishIncoming', 'abortIncoming',
  'snapshot', 'rescue', 'unrescue', 'rebuild', 'setAdminPassword', 'triggerCrashDump', 'diagnostics',
] as const;
export type DriverOp = (typeof DRIVER_OPS)[number];

export interface DriverCapabilities {
  supportsPause: boolean;
  supportsSuspend: boolean;
  /** `snapshot` works. */
  supportsSnapshot: boolean;
  /** The cold migration ops (`migrateOut` … `finishRevertMigration`) work. */
  supportsMigration: boolean;
  /** The live migration ops (`prepareIncoming` … `abortIncoming`) work. */
  supportsLiveMigration: boolean;
  /** `rescue`, `unrescue`. */
  supportsRescue: boolean;
  /** The driver emits `DriverEvent`s (otherwise the host actor's periodic listing is all there is). */
  emitsEvents: boolean;
}

export type DriverErrorKind =
  | 'not-found' | 'invalid-state' | 'insufficient-resources' | 'failed' | 'closed' | 'timeout' | 'aborted' | 'unsupported';

export class DriverError extends Error {
  constructor(
    readonly kind: DriverErrorKind,
    message: string,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'DriverError';
  }
}

type O = CallOptions;

export interface HypervisorDriver {
  readonly capabilities: DriverCapabilities;

  /** Takes the host's services (image downloads); called once, before `init`. Drivers that need none omit it. */
  attach?(services: HostServices): void;
  /** Connects to the hypervisor; idempotent. A driver may reject calls made before it with `closed`. */
  init(opts?: O): Promise<void>;
  /** Never rejects: a closed driver says `closed`, a lost connection `down`. */
  health(): Promise<DriverHealth>;

  hostInfo(): Promise<HostInfo>;
  usage(): Promise<HostUsage>;
  /** Every guest with its power state as the hypervisor sees it now (the power sync reads this). */
  listGuests(): Promise<GuestInfo[]>;
  /** `undefined` when the hypervisor has no such guest. */
  getGuest(uuid: string): Promise<GuestInfo | undefined>;

  /** Creates and starts the guest (RUNNING). Idempotent on uuid. */
  spawn(spec: GuestSpec, opts?: O): Promise<GuestInfo>;
  /** Removes the guest and its disks, also any kept for a revert. Absent guests succeed. */
  destroy(uuid: string, opts?: O): Promise<void>;
  /** Stops the guest (SHUTDOWN), from any state; idempotent. */
  powerOff(uuid: string, opts?: O): Promise<GuestInfo>;
  /** Starts the guest (RUNNING), from any state; idempotent. */
  powerOn(uuid: string, opts?: O): Promise<GuestInfo>;
  /** Soft: RUNNING only. Hard: from any state. Lands RUNNING. */
  reboot(uuid: string, hard: boolean, opts?: O): Promise<GuestInfo>;
  /** RUNNING → PAUSED. */
  pause(uuid: string, opts?: O): Promise<GuestInfo>;
  /** PAUSED → RUNNING. */
  unpause(uuid: string, opts?: O): Promise<GuestInfo>;
  /** RUNNING → SUSPENDED. */
  suspend(uuid: string, opts?: O): Promise<GuestInfo>;
  /** SUSPENDED → RUNNING. */
  resume(uuid: string, opts?: O): Promise<GuestInfo>;
  /** The last `lines` lines of the guest's console (all when omitted). */
  consoleOutput(uuid: string, lines?: number, opts?: O): Promise<string>;
  /** Nova's v2.48 diagnostics. */
  diagnostics(uuid: string, opts?: O): Promise<GuestDiagnostics>;

  // Cold migration and resize (Nova: migrate_disk_and_power_off, finish_migration, confirm_migration,
  // finish_revert_migration; the revert's destination half is a destroy there, `revertMigration` here).

  /** Source: powers the guest off and copies its disks to `dest`, keeping its own for a revert. Idempotent. */
  migrateOut(uuid: string, dest: MigrationTarget, opts?: O): Promise<GuestInfo>;
  /** Destination: creates the guest from the migrated disks with `spec`'s (new) flavor; RUNNING when `powerOn`, else SHUTDOWN. Idempotent. */
  finishMigration(spec: GuestSpec, powerOn: boolean, opts?: O): Promise<GuestInfo>;
  /** Source: drops what `migrateOut` kept. Succeeds when nothing is kept. */
  confirmMigration(uuid: string, opts?: O): Promise<void>;
  /** Destination: destroys the migrated guest and its disks. Succeeds when absent. */
  revertMigration(uuid: string, opts?: O): Promise<void>;
  /** Source: restores the kept guest (old flavor); RUNNING when `powerOn`, else SHUTDOWN. Idempotent. */
  finishRevertMigration(uuid: string, powerOn: boolean, opts?: O): Promise<GuestInfo>;

  // Live migration (Nova: pre_live_migration, live_migration, post_live_migration_at_destination,
  // rollback_live_migration_at_destination, live_migration_abort).

  /** Destination: makes ready to receive `spec`'s guest. Idempotent. */
  prepareIncoming(spec: GuestSpec, opts?: O): Promise<void>;
  /** Source: moves the running guest to `dest` (prepared); afterwards the source has no such guest. */
  liveMigrate(uuid: string, dest: MigrationTarget, opts?: O): Promise<void>;
  /** Source: stops a running `liveMigrate` (it rejects with `aborted`); the guest stays here. */
  abortLiveMigration(uuid: string, opts?: O): Promise<void>;
  /** Destination: the guest has arrived; returns it (its power state as on the source). Idempotent. */
  finishIncoming(uuid: string, opts?: O): Promise<GuestInfo>;
  /** Destination: drops a preparation or a half-arrived guest. Succeeds when nothing is there. */
  abortIncoming(uuid: string, opts?: O): Promise<void>;

  /** Writes the guest's root disk into `sink` and finishes it; the power state is unchanged. */
  snapshot(uuid: string, sink: ImageDataSink, opts?: O): Promise<void>;
  /** Boots the guest from `rescueImage` with its own disk attached (RUNNING). Idempotent. */
  rescue(uuid: string, rescueImage: string, adminPass: string, opts?: O): Promise<GuestInfo>;
  /** Boots the guest from its own disk again (RUNNING). A guest not in rescue is returned as is. */
  unrescue(uuid: string, opts?: O): Promise<GuestInfo>;
  /** Same uuid, `spec.image`: the disks are destroyed and created again, the guest lands RUNNING. */
  rebuild(spec: GuestSpec, opts?: O): Promise<GuestInfo>;
  /** Sets the guest's admin password through its agent; the guest must be RUNNING. */
  setAdminPassword(uuid: string, password: string, opts?: O): Promise<void>;
  /** Injects an NMI (the guest's kernel dumps); RUNNING or PAUSED. */
  triggerCrashDump(uuid: string, opts?: O): Promise<void>;

  /** Subscribe to hypervisor-side events; returns the unsubscribe function. */
  onEvent(listener: (e: DriverEvent) => void): () => void;
  /** Release resources; pending (hung) operations reject with kind `closed`. */
  close(): Promise<void>;
}
