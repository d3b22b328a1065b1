/**
 * The hot fields of every host state as typed-array columns, one slot per host (the host's position
 * in the dense list). Filters and weighers that have a columnar form scan these instead of chasing
 * pointers through 10k–100k HostState objects: a decision at 10k hosts reads a few contiguous
 * arrays rather than ~10 scattered objects per host, which is what bounded it before (cache misses).
 * `HostStates` keeps the columns in step with every change; `HostColumns.of` builds them for a
 * plain list (tests, embedders calling `selectHosts` directly).
 */
import { RESOURCE_CLASSES, usableCapacity, type ResourceClass } from '../../protocols/resources.js';
import type { HostState } from './host-state.js';

/** One resource class: free usable capacity (ratio and reserved applied, claims taken off) and unit rules. */
export interface ResourceColumn {
  free: Float64Array;
  minUnit: Float64Array;
  /** 0 when the host has no inventory of the class, so any positive request fails. */
  maxUnit: Float64Array;
  stepSize: Float64Array;
}

/** What ImagePropertiesFilter compares: as the host reports it (`vmMode` defaults to `hvm`). */
export interface Platform {
  cpuArch: string;
  hypervisorType: string;
  vmMode: string;
}

function resourceColumn(n: number): ResourceColumn {
  return { free: new Float64Array(n), minUnit: new Float64Array(n), maxUnit: new Float64Array(n), stepSize: new Float64Array(n) };
}

function grown<T extends Float64Array | Int32Array | Uint8Array>(a: T, n: number): T {
  const b = new (a.constructor as new (n: number) => T)(n);
  b.set(a);
  return b;
}

export class HostColumns {
  /** The host states, by slot; row-wise filters and weighers read these. */
  readonly hosts: HostState[] = [];
  private capacity: number;
  resources: Record<ResourceClass, ResourceColumn>;
  lastSeenAt: Float64Array;
  enabled: Uint8Array;
  numInstances: Int32Array;
  failedBuilds: Int32Array;
  /** Hosts with at least one recent failed build (when 0, BuildFailureWeigher cannot tell hosts apart). */
  failingHosts = 0;
  /** Availability zone as an interned id (see `zoneId`); -1 for none. */
  zone: Int32Array;
  /**
   * The host's platform (cpu arch, hypervisor type, vm mode) as an interned id into `platforms`:
   * a fleet has a handful, so a filter on them decides each platform once, then reads one column.
   */
  platform: Int32Array;
  readonly platforms: Platform[] = [];
  private readonly platformIds = new Map<string, number>();
  /** Where the next capped scan starts (see `SelectOptions.maxCandidates`). */
  cursor = 0;
  private readonly zoneIds = new Map<string, number>();
  private readonly slots = new Map<string, number>();

  constructor(capacity = 1024) {
    this.capacity = capacity;
    this.resources = { VCPU: resourceColumn(capacity), MEMORY_MB: resourceColumn(capacity), DISK_GB: resourceColumn(capacity) };
    this.lastSeenAt = new Float64Array(capacity);
    this.enabled = new Uint8Array(capacity);
    this.numInstances = new Int32Array(capacity);
    this.failedBuilds = new Int32Array(capacity);
    this.zone = new Int32Array(capacity);
    this.platform = new Int32Array(capacity);
  }

  /** Columns for a plain list of host states (a snapshot: later changes to the states are not seen). */
  static of(list: readonly HostState[]): HostColumns {
    const c = new HostColumns(Math.max(1, list.length));
    for (const h of list) c.add(h);
    return c;
  }

  get size(): number {
    return this.hosts.length;
  }

  slotOf(host: string): number | undefined {
    return this.slots.get(host);
  }

  /** The interned id of a zone name (-1 for none); ids are stable for the columns' lifetime. */
  zoneId(zone: string | null): number {
    if (zone === null) return -1;
    let id = this.zoneIds.get(zone);
    if (id === undefined) {
      id = this.zoneIds.size;
      this.zoneIds.set(zone, id);
    }
    return id;
  }

  /** Appends a host and returns its slot. */
  add(h: HostState): number {
    const slot = this.hosts.length;
    if (slot === this.capacity) this.grow();
    this.hosts.push(h);
    this.slots.set(h.host, slot);
    this.sync(slot);
    return slot;
  }

  /** Removes a host (a deleted compute service): the last slot moves into its place. */
  remove(host: string): boolean {
    const slot = this.slots.get(host);
    if (slot === undefined) return false;
    const last = this.hosts.length - 1;
    if (this.failedBuilds[slot]! > 0) this.failingHosts--;
    this.failedBuilds[slot] = 0;
    this.slots.delete(host);
    const moved = this.hosts.pop()!;
    if (slot !== last) {
      // sync() counts failing hosts by difference with the slot's old value: take the mover's out first.
      if (this.failedBuilds[last]! > 0) this.failingHosts--;
      this.failedBuilds[last] = 0;
      this.hosts[slot] = moved;
      this.slots.set(moved.host, slot);
      this.sync(slot);
    }
    if (this.cursor >= this.hosts.length) this.cursor = 0;
    return true;
  }

  /** Rewrites a slot's columns from its host state (after any change to it). */
  sync(slot: number): void {
    const h = this.hosts[slot]!;
    for (const rc of RESOURCE_CLASSES) {
      const col = this.resources[rc];
      const inv = h.inventory[rc] as HostState['inventory'][ResourceClass] | undefined;
      col.free[slot] = inv === undefined ? 0 : usableCapacity(inv) - (h.used[rc] ?? 0);
      col.minUnit[slot] = inv?.minUnit ?? 0;
      col.maxUnit[slot] = inv?.maxUnit ?? 0;
      col.stepSize[slot] = inv?.stepSize ?? 1;
    }
    this.lastSeenAt[slot] = h.lastSeenAt;
    this.enabled[slot] = h.enabled ? 1 : 0;
    this.numInstances[slot] = h.numInstances;
    this.failingHosts += (h.failedBuilds > 0 ? 1 : 0) - (this.failedBuilds[slot]! > 0 ? 1 : 0);
    this.failedBuilds[slot] = h.failedBuilds;
    this.zone[slot] = this.zoneId(h.availabilityZone);
    this.platform[slot] = this.platformId(slot, h);
  }

  private platformId(slot: number, h: HostState): number {
    const vm: unknown = h.capabilities['vm_mode'];
    const vmMode = typeof vm === 'string' ? vm : 'hvm';
    // Claims and releases re-sync a slot many times; its platform rarely changes.
    const cur = this.platforms[this.platform[slot]!];
    if (cur !== undefined && cur.cpuArch === h.cpuArch && cur.hypervisorType === h.hypervisorType && cur.vmMode === vmMode) return this.platform[slot]!;
    const p: Platform = { cpuArch: h.cpuArch, hypervisorType: h.hypervisorType, vmMode };
    const key = `${p.cpuArch}\u0000${p.hypervisorType}\u0000${p.vmMode}`;
    let id = this.platformIds.get(key);
    if (id === undefined) {
      id = this.platforms.length;
      this.platforms.push(p);
      this.platformIds.set(key, id);
    }
    return id;
  }

  private grow(): void {
    const n = this.capacity * 2;
    for (const rc of RESOURCE_CLASSES) {
      const c = this.resources[rc];
      this.resources[rc] = { free: grown(c.free, n), minUnit: grown(c.minUnit, n), maxUnit: grown(c.maxUnit, n), stepSize: grown(c.stepSize, n) };
    }
    this.lastSeenAt = grown(this.lastSeenAt, n);
    this.enabled = grown(this.enabled, n);
    this.numInstances = grown(this.numInstances, n);
    this.failedBuilds = grown(this.failedBuilds, n);
    this.zone = grown(this.zone, n);
    this.platform = grown(this.platform, n);
    this.capacity = n;
  }
}
