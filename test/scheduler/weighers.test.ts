import t from 'tap';
import type { HostState, HostWeigher, RequestSpec } from '../../actors/scheduler/types.js';
import { selectHosts } from '../../actors/scheduler/select.js';
import { AllHostsFilter } from '../../actors/scheduler/filters/AllHostsFilter.js';
import { BuildFailureWeigher } from '../../actors/scheduler/weighers/BuildFailureWeigher.js';
import { CPUWeigher } from '../../actors/scheduler/weighers/CPUWeigher.js';
import { DiskWeigher } from '../../actors/scheduler/weighers/DiskWeigher.js';
import { NumInstancesWeigher } from '../../actors/scheduler/weighers/NumInstancesWeigher.js';
import { RAMWeigher } from '../../actors/scheduler/weighers/RAMWeigher.js';
import { ServerGroupSoftAffinityWeigher } from '../../actors/scheduler/weighers/ServerGroupSoftAffinityWeigher.js';
import { ServerGroupSoftAntiAffinityWeigher } from '../../actors/scheduler/weighers/ServerGroupSoftAntiAffinityWeigher.js';
import { DEFAULT_WEIGHER_MULTIPLIERS, builtinWeighers, defaultWeighers } from '../../actors/scheduler/weighers/index.js';
import { CTX, inv, makeHost, makeSpec } from './host-fixture.js';

/** Host names best first, as the runner orders them. */
function order(hosts: HostState[], weighers: HostWeigher[], spec: RequestSpec = makeSpec()): string[] {
  return selectHosts(hosts, spec, [AllHostsFilter], weighers, CTX, { count: hosts.length }).hosts.map((h) => h.host);
}

t.test('registry and Nova default multipliers', async (t) => {
  t.same(DEFAULT_WEIGHER_MULTIPLIERS, {
    RAMWeigher: 1,
    CPUWeigher: 1,
    DiskWeigher: 1,
    NumInstancesWeigher: 0,
    BuildFailureWeigher: 1000000,
    ServerGroupSoftAffinityWeigher: 1,
    ServerGroupSoftAntiAffinityWeigher: 1,
  });
  for (const [key, make] of Object.entries(builtinWeighers)) t.equal(make().name, key);
  const ws = defaultWeighers({ RAMWeigher: -1 });
  t.equal(ws.find((w) => w.name === 'RAMWeigher')?.multiplier, -1, 'override');
  t.equal(ws.find((w) => w.name === 'CPUWeigher')?.multiplier, 1, 'default kept');
  t.throws(() => defaultWeighers({ NoSuchWeigher: 1 }), /unknown scheduler weigher/);
});

t.test('raw weights', async (t) => {
  const spec = makeSpec();
  const h = makeHost({
    inventory: { MEMORY_MB: inv(8192, { reserved: 512, allocationRatio: 1.5 }), VCPU: inv(8, { allocationRatio: 4 }), DISK_GB: inv(100, { reserved: 10 }) },
    used: { MEMORY_MB: 1000, VCPU: 5, DISK_GB: 30 },
    numInstances: 7,
    failedBuilds: 2,
  });
  t.equal(RAMWeigher().weigh(h, spec), Math.floor(7680 * 1.5) - 1000, 'free usable RAM');
  t.equal(CPUWeigher().weigh(h, spec), 32 - 5, 'free usable VCPU');
  t.equal(DiskWeigher().weigh(h, spec), 90 - 30, 'free usable disk');
  t.equal(NumInstancesWeigher().weigh(h, spec), 7);
  t.equal(NumInstancesWeigher().multiplier, 0, 'off by default');
  t.equal(BuildFailureWeigher().weigh(h, spec), -2);
  t.equal(BuildFailureWeigher().multiplier, 1000000);
});

t.test('server group soft weighers count members on the host, for their policy only', async (t) => {
  const h = makeHost({ host: 'a' });
  const spec = (policy: NonNullable<RequestSpec['group']>['policy']) => makeSpec({ group: { id: 'g', policy, hosts: ['a', 'b', 'a'] } });
  t.equal(ServerGroupSoftAffinityWeigher().weigh(h, spec('soft-affinity')), 2);
  t.equal(ServerGroupSoftAffinityWeigher().weigh(h, spec('soft-anti-affinity')), 0);
  t.equal(ServerGroupSoftAffinityWeigher().weigh(h, makeSpec()), 0, 'no group');
  t.equal(ServerGroupSoftAntiAffinityWeigher().weigh(h, spec('soft-anti-affinity')), -2);
  t.equal(ServerGroupSoftAntiAffinityWeigher().weigh(h, spec('affinity')), 0);
  t.ok(ServerGroupSoftAffinityWeigher().appliesTo?.(spec('soft-affinity')));
  t.notOk(ServerGroupSoftAffinityWeigher().appliesTo?.(makeSpec()), 'skipped without a soft-affinity group');
  t.ok(ServerGroupSoftAntiAffinityWeigher().appliesTo?.(spec('soft-anti-affinity')));
  t.notOk(ServerGroupSoftAntiAffinityWeigher().appliesTo?.(spec('anti-affinity')));
  const hosts = ['a', 'b', 'c'].map((host) => makeHost({ host }));
  t.same(order(hosts, [ServerGroupSoftAffinityWeigher()], spec('soft-affinity')), ['a', 'b', 'c']);
  t.same(order(hosts, [ServerGroupSoftAntiAffinityWeigher()], spec('soft-anti-affinity')), ['c', 'b', 'a']);
});

t.test('RAMWeigher spreads; a negative multiplier stacks', async (t) => {
  const hosts = [
    makeHost({ host: 'half', used: { MEMORY_MB: 32000 } }),
    makeHost({ host: 'empty' }),
    makeHost({ host: 'full', used: { MEMORY_MB: 60000 } }),
  ];
  t.same(order(hosts, [RAMWeigher()]), ['empty', 'half', 'full']);
  t.same(order(hosts, [RAMWeigher(-1)]), ['full', 'half', 'empty']);
  t.same(order(hosts, [CPUWeigher(-1), RAMWeigher(-1)]), ['full', 'half', 'empty'], 'equal CPU adds nothing');
});

t.test('normalisation: each weigher counts on [0,1] before its multiplier', async (t) => {
  // RAM differs by megabytes, instances by a handful; normalised, a 2x multiplier on the small
  // range outweighs the large raw range.
  const hosts = [
    makeHost({ host: 'ram', used: { MEMORY_MB: 0 }, numInstances: 10 }),
    makeHost({ host: 'few', used: { MEMORY_MB: 30000 }, numInstances: 0 }),
  ];
  t.same(order(hosts, [RAMWeigher(1), NumInstancesWeigher(-2)]), ['few', 'ram']);
  t.same(order(hosts, [RAMWeigher(3), NumInstancesWeigher(-2)]), ['ram', 'few']);
  // All equal raw weights normalise to 0: the order is the input order.
  const same = ['x', 'y', 'z'].map((host) => makeHost({ host }));
  t.same(order(same, [RAMWeigher(), CPUWeigher(), DiskWeigher()]), ['x', 'y', 'z']);
});

t.test('BuildFailureWeigher outweighs resource weighers', async (t) => {
  const hosts = [
    makeHost({ host: 'roomy-but-failing', failedBuilds: 1 }),
    makeHost({ host: 'tight', used: { MEMORY_MB: 60000, VCPU: 60, DISK_GB: 900 } }),
  ];
  t.same(order(hosts, defaultWeighers()), ['tight', 'roomy-but-failing']);
  t.same(order(hosts, [RAMWeigher(), CPUWeigher(), DiskWeigher()]), ['roomy-but-failing', 'tight']);
});

t.test('negative multipliers stack in the best host', async (t) => {
  // Packing: the fullest host (least free RAM, most instances) wins every round.
  const hosts = [
    makeHost({ host: 'a', used: { MEMORY_MB: 10000 }, numInstances: 2 }),
    makeHost({ host: 'b', used: { MEMORY_MB: 40000 }, numInstances: 8 }),
    makeHost({ host: 'c', used: { MEMORY_MB: 20000 }, numInstances: 4 }),
  ];
  t.same(order(hosts, [RAMWeigher(-1), NumInstancesWeigher(1)]), ['b', 'c', 'a']);
});
