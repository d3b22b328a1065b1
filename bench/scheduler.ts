/**
 * Decision benchmark: the scheduler's filter + weigh step (`selectHosts`) alone, over 1k/10k/100k
 * in-memory host states built the way the scheduler builds them (`HostStates.applyReport` from
 * synthetic capacity reports, `claim` for usage). Decisions run back to back and each one's claim is
 * applied at once, as the scheduler actor does, so hosts fill up as they would. Timed exactly as the
 * actor times `decisionUs` (the `selectHosts` call only). Prints one JSON line; asserts nothing.
 */
import { DEFAULT_SCHEDULER_CONFIG } from '../actors/scheduler/config.js';
import { DEFAULT_FILTERS, filtersByName } from '../actors/scheduler/filters/index.js';
import { DEFAULT_CAPACITY_POLICY, HostStates } from '../actors/scheduler/host-states.js';
import { selectHosts } from '../actors/scheduler/select.js';
import type { FilterContext, HostWeigher, RequestSpec } from '../actors/scheduler/types.js';
import { RAMWeigher } from '../actors/scheduler/weighers/RAMWeigher.js';
import { defaultWeighers } from '../actors/scheduler/weighers/index.js';
import type { CapacityReport, Resources } from '../protocols/resources.js';
import { percentiles } from './percentiles.js';
import { mulberry32 } from '../hosts/fake/fault-plan.js';

export interface DecideBenchOptions {
  hosts: number[];
  decisions: number;
}



// Nova's m1.* flavors; requests cycle through them weighted towards the small ones.
const FLAVORS = [
  { id: '1', name: 'm1.tiny', r: { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 } },
  { id: '2', name: 'm1.small', r: { VCPU: 1, MEMORY_MB: 2048, DISK_GB: 20 } },
  { id: '3', name: 'm1.medium', r: { VCPU: 2, MEMORY_MB: 4096, DISK_GB: 40 } },
  { id: '4', name: 'm1.large', r: { VCPU: 4, MEMORY_MB: 8192, DISK_GB: 80 } },
  { id: '5', name: 'm1.xlarge', r: { VCPU: 8, MEMORY_MB: 16384, DISK_GB: 160 } },
] as const;
const FLAVOR_MIX = [0, 0, 1, 1, 1, 2, 2, 3, 3, 4];
// Host shapes: [vcpus, memoryMb, diskGb].
const SHAPES: [number, number, number][] = [
  [32, 131_072, 2_048],
  [64, 262_144, 4_096],
  [128, 524_288, 8_192],
];
const ZONES = ['az1', 'az2', 'az3', 'az4'];
const uuidOf = (n: number) => `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

interface Cluster {
  states: HostStates;
  nextConsumer: number;
}

/**
 * H hosts in 3 shapes and 4 zones, 1% down (last report older than service_down_time), 0.5%
 * disabled, each already 0–85% full (RAM) with m1.small/medium guests claimed through `claim`.
 * Built in the order the scheduler builds its states (every host first, as `load` and the first
 * round of reports do, then the allocations), which keeps each host's hot objects close together
 * in the heap; interleaving the guests' allocations between hosts made row-wise decisions ~5×
 * slower at 10k hosts (cache misses), see the note in the report.
 */
function buildCluster(h: number, now: number): Cluster {
  const states = new HostStates(DEFAULT_CAPACITY_POLICY);
  const rand = mulberry32(h);
  let nextConsumer = 1;
  for (let i = 0; i < h; i++) {
    const [vcpus, memoryMb, diskGb] = SHAPES[i % SHAPES.length]!;
    const host = `compute-${i + 1}`;
    const down = rand() < 0.01;
    const report: CapacityReport = {
      host,
      node: host,
      hypervisorType: 'QEMU',
      hypervisorVersion: 8_002_000,
      cpuArch: 'x86_64',
      availabilityZone: ZONES[i % ZONES.length]!,
      vcpus,
      memoryMb,
      diskGb,
      vcpusUsed: 0,
      memoryMbUsed: 0,
      diskGbUsed: 0,
      runningVms: 0,
      failedBuilds: rand() < 0.002 ? 1 : 0,
      seq: 1,
      sentAt: down ? now - 10 * 60_000 : now - Math.floor(rand() * 30_000),
    };
    states.applyReport(report, report.sentAt);
    if (rand() < 0.005) states.setEnabled(host, false);
  }
  for (let i = 0; i < h; i++) {
    const [, memoryMb] = SHAPES[i % SHAPES.length]!;
    const host = `compute-${i + 1}`;
    // Fill to a random share of usable RAM with small/medium guests (usable = (mem - 512) * 1.5).
    const target = rand() * 0.85 * (memoryMb - 512) * 1.5;
    let used = 0;
    while (true) {
      const f = FLAVORS[rand() < 0.5 ? 1 : 2]!;
      if (used + f.r.MEMORY_MB > target) break;
      states.claim(uuidOf(nextConsumer++), host, { ...f.r });
      used += f.r.MEMORY_MB;
    }
  }
  return { states, nextConsumer };
}

function makeSpec(n: number, rand: () => number): RequestSpec {
  const f = FLAVORS[FLAVOR_MIX[Math.floor(rand() * FLAVOR_MIX.length)]!]!;
  const resources: Resources = { ...f.r };
  const x = rand();
  return {
    instanceUuid: uuidOf(n),
    projectId: 'bench',
    resources,
    flavor: { id: f.id, name: f.name, extraSpecs: {} },
    // 10% of images pin an architecture (ImagePropertiesFilter then applies), 10% of requests name a zone.
    image: { id: 'img', properties: x < 0.1 ? { hw_architecture: 'x86_64' } : {} },
    availabilityZone: x >= 0.1 && x < 0.2 ? ZONES[Math.floor(rand() * ZONES.length)]! : null,
    ignoreHosts: [],
    schedulerHints: {},
  };
}

interface VariantResult {
  hosts: number;
  weighers: string;
  /** Nova's max_placement_results; 0 = every host filtered and weighed. */
  maxCandidates: number;
  decisionUs: Record<string, number>;
  maxUs: number;
  meanUs: number;
  decisionsPerSec: number;
  placed: number;
  noValidHost: number;
  buildMs: number;
}

function runVariant(h: number, decisions: number, variant: string, weighers: HostWeigher[], maxCandidates: number): VariantResult {
  const now = Date.now();
  const b0 = performance.now();
  const cluster = buildCluster(h, now);
  const buildMs = performance.now() - b0;
  const filters = filtersByName(DEFAULT_FILTERS);
  const ctx: FilterContext = { now, serviceDownTimeMs: 60_000, maxInstancesPerHost: 50 };
  const rand = mulberry32(h * 7 + 1);
  const list = cluster.states.columns();
  const decide = (spec: RequestSpec): boolean => {
    const sel = selectHosts(list, spec, filters, weighers, ctx, { count: 3, hostSubsetSize: 1, maxCandidates });
    const chosen = sel.hosts[0];
    if (!chosen) return false;
    cluster.states.claim(spec.instanceUuid, chosen.host, spec.resources);
    return true;
  };
  // Warm-up (JIT) on the same states; these claims stay, as they would in a running scheduler.
  const warm = Math.min(200, decisions);
  for (let i = 0; i < warm; i++) decide(makeSpec(cluster.nextConsumer++, rand));

  const specs = Array.from({ length: decisions }, () => makeSpec(cluster.nextConsumer++, rand));
  const us = new Float64Array(decisions);
  let placed = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < decisions; i++) {
    const spec = specs[i]!;
    const s = process.hrtime.bigint();
    const sel = selectHosts(list, spec, filters, weighers, ctx, { count: 3, hostSubsetSize: 1, maxCandidates });
    us[i] = Number(process.hrtime.bigint() - s) / 1000;
    const chosen = sel.hosts[0];
    if (chosen) {
      cluster.states.claim(spec.instanceUuid, chosen.host, spec.resources);
      placed++;
    }
  }
  const totalUs = Number(process.hrtime.bigint() - t0) / 1000;
  const sample = Array.from(us);
  let max = 0;
  let sum = 0;
  for (const v of sample) {
    if (v > max) max = v;
    sum += v;
  }
  return {
    hosts: h,
    weighers: variant,
    maxCandidates,
    decisionUs: percentiles(sample, [50, 99]),
    maxUs: Math.round(max * 10) / 10,
    meanUs: Math.round((sum / decisions) * 10) / 10,
    // Decide + claim, back to back, as one scheduler actor would run them.
    decisionsPerSec: Math.round(decisions / (totalUs / 1e6)),
    placed,
    noValidHost: decisions - placed,
    buildMs: Math.round(buildMs),
  };
}

export async function decideBench(o: DecideBenchOptions): Promise<Record<string, unknown>> {
  const results: VariantResult[] = [];
  for (const h of o.hosts) {
    // The scheduler's own default is RAMWeigher only; `defaultWeighers()` is Nova's full set.
    // Every host filtered and weighed, then the scheduler's default cap (Nova's max_placement_results).
    for (const cap of [0, DEFAULT_SCHEDULER_CONFIG.maxPlacementResults]) {
      results.push(runVariant(h, o.decisions, 'default', defaultWeighers(), cap));
      results.push(runVariant(h, o.decisions, 'RAMWeigher', [RAMWeigher()], cap));
    }
  }
  return {
    bench: 'decide',
    decisions: o.decisions,
    filters: DEFAULT_FILTERS.length,
    targetsP99Us: { 1000: 100, 10000: 500, 100000: 3000 },
    results,
    node: process.version,
  };
}
