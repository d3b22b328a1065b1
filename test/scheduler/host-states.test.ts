import t from 'tap';
import { DEFAULT_CAPACITY_POLICY, HostStates, ratiosFor } from '../../actors/scheduler/host-states.js';
import type { CapacityReport } from '../../protocols/resources.js';

const report = (host: string, over: Partial<CapacityReport> = {}): CapacityReport => ({
  host, node: host, hypervisorType: 'fake', hypervisorVersion: 1000, cpuArch: 'x86_64', availabilityZone: null,
  vcpus: 8, memoryMb: 16_384, diskGb: 100, vcpusUsed: 0, memoryMbUsed: 0, diskGbUsed: 0, runningVms: 0, seq: 1, sentAt: 1_000, ...over,
});

t.test('ratios: aggregate metadata (lowest) over per-host over global', async (t) => {
  const p = { ...DEFAULT_CAPACITY_POLICY, perHost: { h1: { cpuAllocationRatio: 8 } } };
  t.same(ratiosFor('h2', [], p), { cpuAllocationRatio: 16, ramAllocationRatio: 1.5, diskAllocationRatio: 1 });
  t.equal(ratiosFor('h1', [], p).cpuAllocationRatio, 8, 'per host');
  const aggs: { id: string; metadata: Record<string, string> }[] = [
    { id: '1', metadata: { cpu_allocation_ratio: '4' } },
    { id: '2', metadata: { cpu_allocation_ratio: '2', ram_allocation_ratio: '1.0' } },
    { id: '3', metadata: { cpu_allocation_ratio: 'lots', disk_allocation_ratio: '-1' } },
  ];
  t.same(ratiosFor('h1', aggs, p), { cpuAllocationRatio: 2, ramAllocationRatio: 1, diskAllocationRatio: 1 }, 'lowest valid aggregate value wins; junk ignored');
});

t.test('reports become inventories; only changes are returned; deltas move usage', async (t) => {
  const zones = new Map([['h1', 'az1']]);
  const s = new HostStates(DEFAULT_CAPACITY_POLICY, (h, reported) => ({ aggregates: [], zone: zones.get(h) ?? reported ?? 'nova' }));
  const inv = s.applyReport(report('h1'), 1_000);
  t.match(inv, { VCPU: { total: 8, allocationRatio: 16 }, MEMORY_MB: { total: 16_384, reserved: 512, allocationRatio: 1.5 } });
  t.equal(s.applyReport(report('h1', { seq: 2, sentAt: 2_000 }), 2_000), undefined, 'same capacity: nothing to write');
  t.equal(s.get('h1')?.lastSeenAt, 2_000);
  t.equal(s.get('h1')?.availabilityZone, 'az1', 'zone from the catalog');
  s.applyReport(report('h2', { availabilityZone: 'edge' }), 1_000);
  t.equal(s.get('h2')?.availabilityZone, 'edge', 'else the reported zone');

  s.claim('i1', 'h1', { VCPU: 2, MEMORY_MB: 1024, DISK_GB: 10 });
  t.same(s.get('h1')?.used, { VCPU: 2, MEMORY_MB: 1024, DISK_GB: 10 });
  s.claim('i1', 'h2', { VCPU: 2, MEMORY_MB: 1024, DISK_GB: 10 });
  t.same(s.get('h1')?.used, { VCPU: 0, MEMORY_MB: 0, DISK_GB: 0 }, 'a claim moves, never doubles');
  t.equal(s.allocationOf('i1')?.host, 'h2');
  s.unclaim('i1');
  t.same(s.get('h2')?.used, { VCPU: 0, MEMORY_MB: 0, DISK_GB: 0 });
  t.equal(s.get('h2')?.numInstances, 0);

  zones.set('h1', 'az2');
  s.refreshPlacement(['h1']);
  t.equal(s.get('h1')?.availabilityZone, 'az2', 'placement refreshes on demand');
});
