/**
 * The hypervisor driver interface: the one pluggable unit a host actor wraps (Nova's
 * `nova.virt.driver.ComputeDriver`, cut down to what novact drives). Implementations: `FakeDriver`
 * (hosts/fake/, in-memory, first-class for simulation and chaos) and a libvirt driver (later).
 *
 * Failure contract, in Nova's terms:
 * - `spawn` is idempotent on `uuid`: a second spawn of a running guest returns it; a failed spawn
 *   cleans up its partial work before it rejects, so a retry elsewhere leaves nothing behind.
 * - `destroy` of an absent guest succeeds (deletes must converge).
 * - power operations on an absent guest reject with `DriverError` kind `not-found`.
 * - every rejection is a `DriverError`; `retryable` says whether the same call may succeed later.
 */
import type { DriverEvent, GuestInfo, GuestSpec, HostInfo, HostUsage } from '../protocols/host.js';

// The wire types live in protocols/ (the host verbs carry them); re-exported for existing importers.
export type { DriverEvent, GuestInfo, GuestSpec, HostInfo, HostUsage } from '../protocols/host.js';

export type DriverOp =
  | 'spawn' | 'destroy' | 'powerOff' | 'powerOn' | 'reboot' | 'pause' | 'unpause'
  | 'suspend' | 'resume' | 'consoleOutput';

export interface DriverCapabilities {
  supportsPause: boolean;
  supportsSuspend: boolean;
  supportsSnapshot: boolean;
  supportsLiveMigration: boolean;
  /** The driver emits `DriverEvent`s (otherwise the host actor polls `listGuests`). */
  emitsEvents: boolean;
}

export type DriverErrorKind = 'not-found' | 'invalid-state' | 'insufficient-resources' | 'failed' | 'closed';

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

export interface HypervisorDriver {
  readonly capabilities: DriverCapabilities;

  hostInfo(): Promise<HostInfo>;
  usage(): Promise<HostUsage>;
  listGuests(): Promise<GuestInfo[]>;
  /** `undefined` when the hypervisor has no such guest. */
  getGuest(uuid: string): Promise<GuestInfo | undefined>;

  spawn(spec: GuestSpec): Promise<GuestInfo>;
  destroy(uuid: string): Promise<void>;
  powerOff(uuid: string): Promise<GuestInfo>;
  powerOn(uuid: string): Promise<GuestInfo>;
  reboot(uuid: string, hard: boolean): Promise<GuestInfo>;
  pause(uuid: string): Promise<GuestInfo>;
  unpause(uuid: string): Promise<GuestInfo>;
  suspend(uuid: string): Promise<GuestInfo>;
  resume(uuid: string): Promise<GuestInfo>;
  consoleOutput(uuid: string, lines?: number): Promise<string>;

  /** Subscribe to hypervisor-side events; returns the unsubscribe function. */
  onEvent(listener: (e: DriverEvent) => void): () => void;
  /** Release resources; pending (hung) operations reject with kind `closed`. */
  close(): Promise<void>;
}
