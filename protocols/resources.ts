/** Resource shapes shared by every role: flavors, images, host capacity. Pure data. */

/** Placement's standard resource classes. */
export type ResourceClass = 'VCPU' | 'MEMORY_MB' | 'DISK_GB';
export const RESOURCE_CLASSES: readonly ResourceClass[] = ['VCPU', 'MEMORY_MB', 'DISK_GB'];

/** An amount of each resource class (a request, a usage, a capacity). */
export type Resources = Record<ResourceClass, number>;

export interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  memoryMb: number;
  /** Root disk. */
  diskGb: number;
  /** Ephemeral disk, also charged as DISK_GB. */
  ephemeralGb: number;
  /** Swap, MiB: charged as DISK_GB rounded up to whole GiB (Nova's `resources_from_flavor`). */
  swapMb: number;
  isPublic: boolean;
  extraSpecs: Record<string, string>;
  /** Nova 2.55's free text (null or absent: none). */
  description?: string | null;
  /** Who may see and boot a private flavor (`os-flavor-access`); empty for a public one. */
  projects?: string[];
}

export function flavorResources(f: Pick<Flavor, 'vcpus' | 'memoryMb' | 'diskGb' | 'ephemeralGb'> & { swapMb?: number }): Resources {
  return { VCPU: f.vcpus, MEMORY_MB: f.memoryMb, DISK_GB: f.diskGb + f.ephemeralGb + Math.ceil((f.swapMb ?? 0) / 1024) };
}

/** Glance's image statuses. */
export type ImageStatus = 'queued' | 'saving' | 'uploading' | 'importing' | 'active' | 'killed' | 'deleted' | 'deactivated';

export interface ImageMeta {
  id: string;
  name: string;
  status: ImageStatus;
  diskFormat: string;
  containerFormat: string;
  sizeBytes: number;
  minDiskGb: number;
  minRamMb: number;
  visibility: 'public' | 'private' | 'shared' | 'community';
  ownerProjectId: string | null;
  /** Free-form properties (`hw_architecture`, `img_hv_type`, …). */
  properties: Record<string, string>;
  /** Glance's integrity fields (MD5 `checksum`, `os_hash_algo`/`os_hash_value`), set once data is uploaded. */
  checksum?: string | null;
  osHashAlgo?: string | null;
  osHashValue?: string | null;
  tags?: string[];
  protected?: boolean;
  osHidden?: boolean;
  /** Glance's multi-store: the stores holding the image's data (none listed: the default store). */
  stores?: string[];
  createdAt: string;
  updatedAt: string;
}

/** One inventory record, as Placement keeps it. Usable = floor((total - reserved) * allocationRatio). */
export interface Inventory {
  total: number;
  reserved: number;
  minUnit: number;
  maxUnit: number;
  stepSize: number;
  allocationRatio: number;
}

export function usableCapacity(inv: Inventory): number {
  return Math.floor((inv.total - inv.reserved) * inv.allocationRatio);
}

/** What a host actor publishes on `<root>.report.host.<host>.<kind>` (schemas in catalog/reports.ts). */
export type { CapacityReport, HeartbeatReport } from './catalog/reports.js';
