import t from 'tap';
import { DEFAULT_SCHEDULER_CONFIG } from '../../actors/scheduler/config.js';
import { filtersByName } from '../../actors/scheduler/filters/index.js';
import { DEFAULT_CAPACITY_POLICY, HostStates } from '../../actors/scheduler/host-states.js';
import { Placer } from '../../actors/scheduler/placer.js';
import type { SchedulingCatalog } from '../../actors/scheduler/catalog.js';
import { RAMWeigher } from '../../actors/scheduler/weighers/RAMWeigher.js';
import { NoValidHostError } from '../../protocols/errors.js';
import { ManualClock } from '../../runtime/clock.js';

// No aggregates or groups here: the catalog is only asked about groups.
const catalog = { group: () => undefined, join: () => undefined, leave: () => undefined } as unknown as SchedulingCatalog;
const clock = new ManualClock(1_000_000);

function hosts(memory: number[]): HostStates {
  const s = new HostStates({ ...DEFAULT_CAPACITY_POLICY, ramAllocationRatio: 1, reservedHostMemoryMb: 0 });
  memory.forEach((memoryMb, i) => s.applyReport({
    host: `h${i + 1}`, node: `h${i + 1}`, hypervisorType: 'fake', hypervisorVersion: 1, cpuArch: 'x86_64', availabilityZone: null,
    vcpus: 64, memoryMb, diskGb: 1000, vcpusUsed: 0, memoryMbUsed: 0, diskGbUsed: 0, runningVms: 0, seq: 1, sentAt: clock.now(),
  }, clock.now()));
  return s;
}

let n = 0;
const request = () => ({
  instanceUuid: `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`, projectId: 'p', resources: { VCPU: 1, MEMORY_MB: 1024, DISK_GB: 1 },
  flavor: { id: '1', name: 'f', extraSpecs: {} }, image: { id: 'i', properties: {} }, availabilityZone: null, ignoreHosts: [],
});

t.test('filter driver: the roomiest host first, alternates after, deltas applied at once', async (t) => {
  const states = hosts([4096, 8192, 2048]);
  const stats = { decisions: 0, noValidHost: 0, lostClaims: 0, decisionUs: [] };
  const placer = new Placer({ states, catalog, filters: filtersByName(['ComputeFilter', 'RamFilter']), weighers: [RAMWeigher()], cfg: DEFAULT_SCHEDULER_CONFIG, clock, stats });
  const first = placer.place(request());
  t.notOk(first instanceof NoValidHostError);
  if (first instanceof NoValidHostError) return;
  t.same(first.answer, { host: 'h2', alternates: ['h1', 'h3'] });
  t.equal(states.get('h2')?.used.MEMORY_MB, 1024, 'the claim is in memory before the ledger sees it');
  const placed = [first];
  for (let i = 0; i < 13; i++) placed.push(placer.place(request()) as typeof first);
  const full = placer.place(request());
  t.ok(full instanceof NoValidHostError, '14 GiB hold exactly 14 requests of 1 GiB');
  t.match((full as NoValidHostError).message, /RamFilter removed 3/);
  t.equal(stats.decisions, 15);
  t.equal(stats.noValidHost, 1);
  placer.unplace(placed[0]!.claim);
  t.notOk(placer.place(request()) instanceof NoValidHostError, 'unplace gives the room back');
});

t.test('chance driver: any passing host, not the best one every time', async (t) => {
  const states = hosts([65536, 65536, 65536, 65536, 1024]);
  const stats = { decisions: 0, noValidHost: 0, lostClaims: 0, decisionUs: [] };
  const cfg = { ...DEFAULT_SCHEDULER_CONFIG, driver: 'chance' as const };
  const placer = new Placer({ states, catalog, filters: filtersByName(['RamFilter']), weighers: [], cfg, clock, stats });
  const chosen = new Set<string>();
  for (let i = 0; i < 60; i++) {
    const p = placer.place({ ...request(), resources: { VCPU: 1, MEMORY_MB: 2048, DISK_GB: 1 } });
    if (p instanceof NoValidHostError) throw p;
    chosen.add(p.answer.host);
  }
  t.ok(chosen.size >= 2, `spread at random (${[...chosen].join(', ')})`);
  t.notOk(chosen.has('h5'), 'never a host the filters removed');
});
