/** Literal HostState / RequestSpec / FilterContext builders for the scheduler tests. */
import type { Inventory } from '../../protocols/resources.js';
import type { FilterContext, HostState, RequestSpec } from '../../actors/scheduler/types.js';

export const NOW = 1_700_000_000_000;

export const CTX: FilterContext = { now: NOW, serviceDownTimeMs: 60_000, maxInstancesPerHost: 50 };

export function inv(total: number, over: Partial<Inventory> = {}): Inventory {
  return { total, reserved: 0, minUnit: 1, maxUnit: total, stepSize: 1, allocationRatio: 1, ...over };
}

export type HostOverrides = Partial<Omit<HostState, 'inventory' | 'used'>> & {
  inventory?: Partial<HostState['inventory']>;
  used?: Partial<HostState['used']>;
};

/** 16 cores (ratio 4), 64 GiB (512 MiB reserved), 1 TB disk, nothing used, up and enabled. */
export function makeHost(over: HostOverrides = {}): HostState {
  const { inventory, used, ...rest } = over;
  return {
    host: 'compute-1',
    node: rest.host ?? 'compute-1',
    hypervisorType: 'QEMU',
    hypervisorVersion: 8002000,
    cpuArch: 'x86_64',
    availabilityZone: 'nova',
    numInstances: 0,
    enabled: true,
    lastSeenAt: NOW,
    aggregates: [],
    capabilities: {},
    instances: new Set(),
    failedBuilds: 0,
    ...rest,
    inventory: {
      VCPU: inv(16, { allocationRatio: 4 }),
      MEMORY_MB: inv(65536, { reserved: 512 }),
      DISK_GB: inv(1000),
      ...inventory,
    },
    used: { VCPU: 0, MEMORY_MB: 0, DISK_GB: 0, ...used },
  };
}

export type SpecOverrides = Partial<Omit<RequestSpec, 'resources' | 'flavor' | 'image'>> & {
  resources?: Partial<RequestSpec['resources']>;
  extraSpecs?: Record<string, string>;
  imageProperties?: Record<string, string>;
};

/** A 2 VCPU / 4 GiB / 20 GB boot with no hints, group, zone or extra specs. */
export function makeSpec(over: SpecOverrides = {}): RequestSpec {
  const { resources, extraSpecs, imageProperties, ...rest } = over;
  return {
    instanceUuid: 'inst-new',
    projectId: 'proj-a',
    availabilityZone: null,
    ignoreHosts: [],
    schedulerHints: {},
    ...rest,
    resources: { VCPU: 2, MEMORY_MB: 4096, DISK_GB: 20, ...resources },
    flavor: { id: 'f1', name: 'm1.medium', extraSpecs: extraSpecs ?? {} },
    image: { id: 'img1', properties: imageProperties ?? {} },
  };
}
