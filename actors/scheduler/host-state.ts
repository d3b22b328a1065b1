/**
 * One host as the scheduler holds it in memory. Its own file because both the filter interface
 * (types.ts) and the columns (host-columns.ts) are built on it, and types.ts takes the columns.
 */
import type { Inventory, ResourceClass, Resources } from '../../protocols/resources.js';

export interface HostState {
  host: string;
  node: string;
  hypervisorType: string;
  hypervisorVersion: number;
  cpuArch: string;
  availabilityZone: string | null;
  /** Inventory per resource class (totals, reserved, ratios) as the ledger holds it. */
  inventory: Record<ResourceClass, Inventory>;
  /** Resources claimed in the ledger (by every scheduler replica, as far as this one knows). */
  used: Resources;
  numInstances: number;
  /** Service enabled by the operator (`os-services` disable clears it). */
  enabled: boolean;
  /** Epoch ms of the last heartbeat or capacity report. */
  lastSeenAt: number;
  /** Aggregates the host is in, with their metadata. */
  aggregates: { id: string; metadata: Record<string, string> }[];
  /** Capabilities for ComputeCapabilitiesFilter (`hypervisor_type`, `cpu_arch`, …). */
  capabilities: Record<string, string>;
  /** Instances on the host (uuids), for group policies and same/different-host hints. */
  instances: Set<string>;
  /** Recent build failures, for the build-failure weigher. */
  failedBuilds: number;
}
