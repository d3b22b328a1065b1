/**
 * The scheduler's in-memory host states: warmed once from the ledger, refreshed by capacity reports
 * and heartbeats, and changed by deltas as claims and releases happen, so back-to-back decisions
 * never collide and no decision reads the database.
 */
import { RESOURCE_CLASSES, type CapacityReport, type Inventory, type ResourceClass, type Resources } from '../../protocols/resources.js';
import { HostColumns } from './host-columns.js';
import type { ProviderSnapshot } from './ledger.js';
import type { HostState } from './types.js';

export interface AllocationRatios {
  cpuAllocationRatio: number;
  ramAllocationRatio: number;
  diskAllocationRatio: number;
}

export interface CapacityPolicy extends AllocationRatios {
  reservedHostMemoryMb: number;
  reservedHostDiskGb: number;
  reservedHostCpus: number;
  /** Ratios for particular hosts, over the global ones. */
  perHost?: Record<string, Partial<AllocationRatios>>;
}

/** Aggregate metadata keys that set a ratio for the aggregate's hosts (the lowest wins, as in Nova). */
const AGGREGATE_RATIO_KEYS: Record<keyof AllocationRatios, string> = {
  cpuAllocationRatio: 'cpu_allocation_ratio',
  ramAllocationRatio: 'ram_allocation_ratio',
  diskAllocationRatio: 'disk_allocation_ratio',
};

/** Effective ratios for a host: aggregate metadata, else the per-host setting, else the global one. */
export function ratiosFor(host: string, aggregates: HostState['aggregates'], p: CapacityPolicy): AllocationRatios {
  const out: AllocationRatios = { cpuAllocationRatio: p.cpuAllocationRatio, ramAllocationRatio: p.ramAllocationRatio, diskAllocationRatio: p.diskAllocationRatio, ...p.perHost?.[host] };
  for (const key of Object.keys(AGGREGATE_RATIO_KEYS) as (keyof AllocationRatios)[]) {
    let lowest: number | undefined;
    for (const a of aggregates) {
      const v = Number(a.metadata[AGGREGATE_RATIO_KEYS[key]]);
      if (a.metadata[AGGREGATE_RATIO_KEYS[key]] !== undefined && Number.isFinite(v) && v > 0) lowest = Math.min(lowest ?? v, v);
    }
    if (lowest !== undefined) out[key] = lowest;
  }
  return out;
}

/** Nova's historic defaults (16.0 / 1.5 / 1.0) and reserved_host_memory_mb 512. */
export const DEFAULT_CAPACITY_POLICY: CapacityPolicy = {
  cpuAllocationRatio: 16.0,
  ramAllocationRatio: 1.5,
  diskAllocationRatio: 1.0,
  reservedHostMemoryMb: 512,
  reservedHostDiskGb: 0,
  reservedHostCpus: 0,
};

function inventoryRecord(total: number, reserved: number, ratio: number): Inventory {
  return { total, reserved: Math.min(reserved, total), minUnit: 1, maxUnit: total, stepSize: 1, allocationRatio: ratio };
}

/** The inventory a host's capacity report implies under the policy and ratios. */
export function inventoryFromReport(r: CapacityReport, p: CapacityPolicy, ratios: AllocationRatios = p): Record<ResourceClass, Inventory> {
  return {
    VCPU: inventoryRecord(r.vcpus, p.reservedHostCpus, ratios.cpuAllocationRatio),
    MEMORY_MB: inventoryRecord(r.memoryMb, p.reservedHostMemoryMb, ratios.ramAllocationRatio),
    DISK_GB: inventoryRecord(r.diskGb, p.reservedHostDiskGb, ratios.diskAllocationRatio),
  };
}

function sameInventory(a: Partial<Record<ResourceClass, Inventory>>, b: Record<ResourceClass, Inventory>): boolean {
  return RESOURCE_CLASSES.every((rc) => {
    const x = a[rc];
    const y = b[rc];
    return x !== undefined && x.total === y.total && x.reserved === y.reserved && x.allocationRatio === y.allocationRatio && x.maxUnit === y.maxUnit;
  });
}

const EMPTY_INVENTORY = (): Record<ResourceClass, Inventory> => ({
  VCPU: inventoryRecord(0, 0, 1),
  MEMORY_MB: inventoryRecord(0, 0, 1),
  DISK_GB: inventoryRecord(0, 0, 1),
});

/** Where a host sits: its aggregates and availability zone (from the scheduling catalog). */
export type PlacementOf = (host: string, reportedZone: string | null) => { aggregates: HostState['aggregates']; zone: string };

export class HostStates {
  private readonly byName = new Map<string, HostState>();
  private readonly reportedZone = new Map<string, string | null>();
  private readonly lastReport = new Map<string, CapacityReport>();
  private readonly disabled = new Set<string>();
  /** Dense columns for the decision loop, kept in step with every change below. */
  private readonly cols = new HostColumns();
  private readonly consumers = new Map<string, { host: string; resources: Resources }>();

  constructor(
    private readonly policy: CapacityPolicy,
    private readonly placementOf: PlacementOf = (_h, zone) => ({ aggregates: [], zone: zone ?? 'nova' }),
  ) {}

  /** Re-reads aggregates and zone for these hosts (after an aggregate changed). */
  refreshPlacement(hosts: Iterable<string> = this.byName.keys()): void {
    for (const name of hosts) {
      const h = this.byName.get(name);
      if (!h) continue;
      const p = this.placementOf(name, this.reportedZone.get(name) ?? null);
      h.aggregates = p.aggregates;
      h.availabilityZone = p.zone;
      this.sync(h);
    }
  }

  get size(): number {
    return this.cols.size;
  }
  all(): readonly HostState[] {
    return this.cols.hosts;
  }
  /** What `selectHosts` scans. */
  columns(): HostColumns {
    return this.cols;
  }
  get(host: string): HostState | undefined {
    return this.byName.get(host);
  }
  allocationOf(consumer: string): { host: string; resources: Resources } | undefined {
    return this.consumers.get(consumer);
  }

  /** Warm from the ledger. Hosts stay down (lastSeenAt 0) until they report. */
  load(snapshot: ProviderSnapshot[], allocations: { consumer: string; provider: string; resources: Resources }[]): void {
    for (const s of snapshot) {
      const h = this.ensure(s.provider);
      h.inventory = { ...EMPTY_INVENTORY(), ...s.inventory };
      h.used = { ...s.used };
      h.numInstances = s.consumers;
      this.sync(h);
    }
    for (const a of allocations) {
      this.consumers.set(a.consumer, { host: a.provider, resources: a.resources });
      this.byName.get(a.provider)?.instances.add(a.consumer);
    }
  }

  /** Replaces every host's usage and every consumer with the ledger's (a role-level restart). */
  reload(snapshot: ProviderSnapshot[], allocations: { consumer: string; provider: string; resources: Resources }[]): void {
    this.consumers.clear();
    for (const h of this.byName.values()) {
      h.instances.clear();
      h.used = { VCPU: 0, MEMORY_MB: 0, DISK_GB: 0 };
      h.numInstances = 0;
      this.sync(h);
    }
    this.load(snapshot, allocations);
  }

  /**
   * Applies a capacity report received at `receivedAt` (the receiver's clock: a sender's `sentAt`
   * in the future must not keep a host up, C4); returns the inventory to write to the ledger if it
   * changed.
   */
  applyReport(r: CapacityReport, receivedAt: number): Record<ResourceClass, Inventory> | undefined {
    const h = this.ensure(r.host);
    h.node = r.node;
    h.hypervisorType = r.hypervisorType;
    h.hypervisorVersion = r.hypervisorVersion;
    h.cpuArch = r.cpuArch;
    if (this.reportedZone.get(r.host) !== r.availabilityZone) {
      this.reportedZone.set(r.host, r.availabilityZone);
      this.refreshPlacement([r.host]);
    }
    h.lastSeenAt = Math.max(h.lastSeenAt, receivedAt);
    h.capabilities = { hypervisor_type: r.hypervisorType, cpu_arch: r.cpuArch, vm_mode: 'hvm' };
    h.failedBuilds = r.failedBuilds ?? 0;
    this.lastReport.set(r.host, r);
    const changed = this.recompute(h);
    this.sync(h);
    return changed;
  }

  /**
   * Recomputes inventories after something other than a report changed them (an aggregate's ratio
   * metadata); returns the hosts whose inventory changed, for the ledger.
   */
  recomputeInventories(hosts: Iterable<string> = this.byName.keys()): [string, Record<ResourceClass, Inventory>][] {
    const changed: [string, Record<ResourceClass, Inventory>][] = [];
    for (const name of hosts) {
      const h = this.byName.get(name);
      const inv = h && this.recompute(h);
      if (inv) changed.push([name, inv]);
    }
    return changed;
  }

  private recompute(h: HostState): Record<ResourceClass, Inventory> | undefined {
    const r = this.lastReport.get(h.host);
    if (!r) return undefined;
    const inv = inventoryFromReport(r, this.policy, ratiosFor(h.host, h.aggregates, this.policy));
    if (sameInventory(h.inventory, inv)) return undefined;
    h.inventory = inv;
    this.sync(h);
    return inv;
  }

  /**
   * The ledger could not take `failed` for `host`: if memory still holds it, clear it (no capacity
   * offered that the ledger may lack; the next report is then written, never suppressed as
   * unchanged). Returns whether it was cleared (a newer inventory already replaced it otherwise).
   */
  forgetInventory(host: string, failed: Record<ResourceClass, Inventory>): boolean {
    const h = this.byName.get(host);
    if (!h || !sameInventory(h.inventory, failed)) return false;
    h.inventory = EMPTY_INVENTORY();
    this.sync(h);
    return true;
  }

  /** A heartbeat heard at `at`, the receiver's clock. */
  heartbeat(host: string, at: number): void {
    const h = this.byName.get(host);
    if (!h) return;
    h.lastSeenAt = Math.max(h.lastSeenAt, at);
    this.cols.lastSeenAt[this.cols.slotOf(host)!] = h.lastSeenAt;
  }

  /** The operator's switch (os-services); remembered for hosts that have not reported yet. */
  setEnabled(host: string, enabled: boolean): void {
    if (enabled) this.disabled.delete(host);
    else this.disabled.add(host);
    const h = this.byName.get(host);
    if (!h) return;
    h.enabled = enabled;
    this.sync(h);
  }

  /**
   * Forgets a host whose compute service was deleted; refused (false) while anything is allocated on
   * it here. A host that reports again comes back as new.
   */
  forget(host: string): boolean {
    const h = this.byName.get(host);
    if (h && h.instances.size > 0) return false;
    this.byName.delete(host);
    this.reportedZone.delete(host);
    this.lastReport.delete(host);
    this.disabled.delete(host);
    this.cols.remove(host);
    return true;
  }

  /** Records a claim (before the ledger confirms it, so the next decision already sees it). */
  claim(consumer: string, host: string, resources: Resources): void {
    this.unclaim(consumer);
    const h = this.byName.get(host);
    if (!h) return;
    for (const rc of RESOURCE_CLASSES) h.used[rc] += resources[rc];
    h.numInstances++;
    h.instances.add(consumer);
    this.sync(h);
    this.consumers.set(consumer, { host, resources });
  }

  /** Undoes a consumer's claim (release, failed ledger claim, or a move to another host). */
  unclaim(consumer: string): void {
    const prev = this.consumers.get(consumer);
    if (!prev) return;
    this.consumers.delete(consumer);
    const h = this.byName.get(prev.host);
    if (!h) return;
    for (const rc of RESOURCE_CLASSES) h.used[rc] = Math.max(0, h.used[rc] - prev.resources[rc]);
    h.numInstances = Math.max(0, h.numInstances - 1);
    h.instances.delete(consumer);
    this.sync(h);
  }

  /** Replaces a host's usage with the ledger's (after a lost race with another scheduler). */
  refreshUsed(host: string, used: Partial<Resources>): void {
    const h = this.byName.get(host);
    if (!h) return;
    h.used = { ...h.used, ...used };
    this.sync(h);
  }

  private sync(h: HostState): void {
    const slot = this.cols.slotOf(h.host);
    if (slot !== undefined) this.cols.sync(slot);
  }

  private ensure(host: string): HostState {
    let h = this.byName.get(host);
    if (!h) {
      h = {
        host,
        node: host,
        hypervisorType: 'unknown',
        hypervisorVersion: 0,
        cpuArch: 'x86_64',
        availabilityZone: null,
        inventory: EMPTY_INVENTORY(),
        used: { VCPU: 0, MEMORY_MB: 0, DISK_GB: 0 },
        numInstances: 0,
        enabled: !this.disabled.has(host),
        lastSeenAt: 0,
        aggregates: [],
        capabilities: {},
        instances: new Set(),
        failedBuilds: 0,
      };
      this.byName.set(host, h);
      this.cols.add(h);
      this.refreshPlacement([host]);
    }
    return h;
  }
}
