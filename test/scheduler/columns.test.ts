import t from 'tap';
import { builtinFilters, DEFAULT_FILTERS, filtersByName } from '../../actors/scheduler/filters/index.js';
import { HostColumns } from '../../actors/scheduler/host-columns.js';
import { DEFAULT_CAPACITY_POLICY, HostStates } from '../../actors/scheduler/host-states.js';
import { selectHosts } from '../../actors/scheduler/select.js';
import type { HostState, RequestSpec } from '../../actors/scheduler/types.js';
import { defaultWeighers } from '../../actors/scheduler/weighers/index.js';
import { RAMWeigher } from '../../actors/scheduler/weighers/RAMWeigher.js';
import { mulberry32 } from '../../hosts/fake/fault-plan.js';
import { RESOURCE_CLASSES, type CapacityReport } from '../../protocols/resources.js';
import { CTX, NOW, inv, makeHost, makeSpec } from './host-fixture.js';

/** A fleet that exercises every column: down, disabled, zoned, full, odd units, failures, missing inventory. */
function variedFleet(n: number, seed: number): HostState[] {
  const rand = mulberry32(seed);
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
  return Array.from({ length: n }, (_, i) => {
    const h = makeHost({
      host: `h${i}`,
      enabled: rand() > 0.1,
      lastSeenAt: NOW - pick([0, 30_000, 60_000, 60_001, 1e9]),
      availabilityZone: pick(['nova', 'az1', 'az2']),
      cpuArch: pick(['x86_64', 'x86_64', 'aarch64', 'i686']),
      hypervisorType: pick(['QEMU', 'QEMU', 'xen']),
      capabilities: pick<Record<string, string>>([{}, {}, { vm_mode: 'xen' }]),
      numInstances: pick([0, 10, 49, 50, 51]),
      failedBuilds: pick([0, 0, 1, 3]),
      used: { VCPU: pick([0, 30, 62, 64]), MEMORY_MB: pick([0, 32_000, 60_000, 65_000]), DISK_GB: pick([0, 500, 990, 1000]) },
      inventory: {
        VCPU: inv(16, { allocationRatio: 4, maxUnit: pick([16, 1]), stepSize: pick([1, 1, 2]) }),
        MEMORY_MB: inv(65536, { reserved: 512, minUnit: pick([1, 8192]) }),
      },
    });
    if (rand() < 0.05) delete (h.inventory as Partial<HostState['inventory']>).DISK_GB;
    return h;
  });
}

const SPECS: RequestSpec[] = [
  makeSpec(),
  makeSpec({ resources: { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 } }),
  makeSpec({ resources: { VCPU: 3, MEMORY_MB: 16_384, DISK_GB: 0 }, availabilityZone: 'az1' }),
  makeSpec({ resources: { VCPU: 2, MEMORY_MB: 9000, DISK_GB: 10 }, availabilityZone: 'nowhere' }),
  makeSpec({ imageProperties: { hw_architecture: 'amd64' } }),
  makeSpec({ imageProperties: { hypervisor_type: 'qemu', hw_vm_mode: 'hvm' } }),
  makeSpec({ imageProperties: { architecture: 'i386', img_hv_type: 'xapi', vm_mode: 'pv' } }),
];

t.test('every columnar filter keeps exactly the hosts its passes() keeps, in order', async (t) => {
  const fleet = variedFleet(400, 7);
  const cols = HostColumns.of(fleet);
  const columnar = Object.values(builtinFilters).filter((f) => f.narrow !== undefined);
  t.ok(columnar.length >= 7, 'resource, compute, zone, image-property and instance-count filters are columnar');
  for (const f of columnar) {
    for (const spec of SPECS) {
      const slots = Int32Array.from(fleet.keys());
      const kept = Array.from(slots.subarray(0, f.narrow!(cols, slots, slots.length, spec, CTX)));
      const want = fleet.flatMap((h, i) => (f.passes(h, spec, CTX) ? [i] : []));
      t.same(kept, want, `${f.name} ${JSON.stringify(spec.resources)} zone=${spec.availabilityZone}`);
      // Where the filter applies to the request, the fleet must hold hosts on both sides of it.
      if (f.appliesTo?.(spec, CTX) !== false && spec.availabilityZone !== 'nowhere') t.ok(want.length > 0 && want.length < fleet.length, `${f.name}: both outcomes`);
    }
  }
});

t.test('every columnar weigher gives the raw weights its weigh() gives', async (t) => {
  const fleet = variedFleet(200, 11);
  const cols = HostColumns.of(fleet);
  const slots = Int32Array.from(fleet.keys()).reverse();
  for (const w of defaultWeighers({ NumInstancesWeigher: 1 }).filter((w) => w.weighAll !== undefined)) {
    const out = new Float64Array(slots.length);
    w.weighAll!(cols, slots, slots.length, SPECS[0]!, out);
    t.same(Array.from(out), Array.from(slots, (i) => w.weigh(fleet[i]!, SPECS[0]!)), w.name);
  }
});

t.test('BuildFailureWeigher is skipped while no host has failed builds', async (t) => {
  const w = defaultWeighers().find((x) => x.name === 'BuildFailureWeigher')!;
  const healthy = [makeHost({ host: 'a' }), makeHost({ host: 'b' })];
  t.equal(w.appliesTo!(SPECS[0]!, HostColumns.of(healthy)), false);
  t.equal(w.appliesTo!(SPECS[0]!, HostColumns.of([...healthy, makeHost({ host: 'c', failedBuilds: 2 })])), true);
  t.equal(w.appliesTo!(SPECS[0]!), true, 'without columns it cannot know: it applies');
});

const report = (host: string, over: Partial<CapacityReport> = {}): CapacityReport => ({
  host, node: host, hypervisorType: 'fake', hypervisorVersion: 1, cpuArch: 'x86_64', availabilityZone: null,
  vcpus: 8, memoryMb: 16_384, diskGb: 100, vcpusUsed: 0, memoryMbUsed: 0, diskGbUsed: 0, runningVms: 0, seq: 1, sentAt: 1_000, ...over,
});

t.test('HostStates keeps its columns equal to the states after every kind of change', async (t) => {
  const s = new HostStates(DEFAULT_CAPACITY_POLICY);
  const same = (what: string) => {
    const live = s.columns();
    const fresh = HostColumns.of(s.all());
    const n = live.size;
    const eq = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from({ length: n }, (_, i) => a[i]).join() === Array.from({ length: n }, (_, i) => b[i]).join();
    const ok =
      RESOURCE_CLASSES.every((rc) => (['free', 'minUnit', 'maxUnit', 'stepSize'] as const).every((k) => eq(live.resources[rc][k], fresh.resources[rc][k]))) &&
      eq(live.lastSeenAt, fresh.lastSeenAt) && eq(live.enabled, fresh.enabled) && eq(live.numInstances, fresh.numInstances) &&
      eq(live.failedBuilds, fresh.failedBuilds) && live.failingHosts === fresh.failingHosts &&
      s.all().every((h, i) => live.zone[i] === live.zoneId(h.availabilityZone));
    t.ok(ok, what);
  };
  // More hosts than the initial column capacity, so the columns grow.
  for (let i = 0; i < 1500; i++) s.applyReport(report(`h${i}`, { availabilityZone: i % 2 ? 'az1' : null }), 1_000);
  same('after first reports');
  s.claim('i1', 'h1', { VCPU: 2, MEMORY_MB: 1024, DISK_GB: 10 });
  s.claim('i2', 'h1400', { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 });
  same('after claims');
  s.claim('i1', 'h2', { VCPU: 2, MEMORY_MB: 1024, DISK_GB: 10 });
  s.unclaim('i2');
  same('after a move and a release');
  s.applyReport(report('h3', { seq: 2, sentAt: 5_000, memoryMb: 4096, failedBuilds: 2 }), 5_000);
  s.heartbeat('h4', 9_000);
  s.setEnabled('h5', false);
  s.refreshUsed('h6', { VCPU: 7 });
  same('after a changed report, a heartbeat, a disable and a ledger refresh');
  t.equal(s.columns().failingHosts, 1, 'one host reports failed builds');
  s.applyReport(report('h3', { seq: 3, sentAt: 6_000, memoryMb: 4096, failedBuilds: 0 }), 6_000);
  t.equal(s.columns().failingHosts, 0, 'and then none');
  t.equal(s.columns().lastSeenAt[s.columns().slotOf('h4')!], 9_000);
});

t.test('a candidate cap stops filtering early and moves on through the fleet', async (t) => {
  // 3,000 hosts; the roomiest is h2999. Uncapped, it always wins; capped at 1,000 the scan goes in
  // chunks from a cursor, so successive decisions pick the best of different parts of the fleet.
  const fleet = Array.from({ length: 3000 }, (_, i) => makeHost({ host: `h${i}`, used: { MEMORY_MB: 60_000 - i * 10 } }));
  const filters = filtersByName(DEFAULT_FILTERS);
  const full = selectHosts(fleet, makeSpec(), filters, [RAMWeigher()], CTX, { count: 3 });
  t.equal(full.hosts[0]?.host, 'h2999');
  t.equal(full.candidates, 3000);

  const cols = HostColumns.of(fleet);
  const picks: string[] = [];
  for (let d = 0; d < 3; d++) {
    const r = selectHosts(cols, makeSpec(), filters, [RAMWeigher()], CTX, { count: 3, maxCandidates: 1000 });
    t.ok(r.candidates >= 1000 && r.candidates < 3000, `decision ${d} weighed ${r.candidates} candidates`);
    picks.push(r.hosts[0]!.host);
  }
  t.equal(new Set(picks).size, 3, `three decisions, three parts of the fleet: ${picks.join(', ')}`);
  t.ok(picks.includes('h2999'), 'the globally best host is found when its part is scanned');

  // When few hosts pass, the whole fleet is still scanned and the blame is complete.
  const tight = fleet.map((h, i) => (i % 500 === 0 ? h : { ...h, enabled: false }));
  const r = selectHosts(HostColumns.of(tight), makeSpec({ ignoreHosts: ['h0'] }), filters, [RAMWeigher()], CTX, { count: 3, maxCandidates: 1000 });
  t.equal(r.candidates, 5, 'every enabled host but the ignored one');
  t.equal(r.removedBy.ComputeFilter, 2994);
  t.equal(r.removedBy.RetryFilter, 1);
  const none = selectHosts(HostColumns.of(tight), makeSpec({ resources: { MEMORY_MB: 1e7 } }), filters, [], CTX, { count: 3, maxCandidates: 1000 });
  t.same([none.hosts.length, none.removedBy.ComputeFilter, none.removedBy.RamFilter], [0, 2994, 6], 'NoValidHost counts span the fleet');
});
