/**
 * Removing a host from the scheduler's memory (a deleted compute service): the decision columns of
 * every remaining host are exactly what columns built afresh from the remaining hosts say, whatever
 * was removed (the last slot moves into the hole), and a host with allocations is not forgotten.
 */
import t, { type Test } from 'tap';
import { HostColumns } from '../../actors/scheduler/host-columns.js';
import { DEFAULT_CAPACITY_POLICY, HostStates } from '../../actors/scheduler/host-states.js';
import { RESOURCE_CLASSES } from '../../protocols/resources.js';
import { makeHost } from './host-fixture.js';

const fleet = () => Array.from({ length: 12 }, (_, i) => makeHost({
  host: `h${i}`, enabled: i % 3 !== 0, failedBuilds: i % 4 === 0 ? 2 : 0, numInstances: i, availabilityZone: i % 2 ? 'az1' : 'nova',
  cpuArch: i % 5 ? 'x86_64' : 'aarch64',
}));

function sameColumns(t: Test, a: HostColumns, b: HostColumns): void {
  t.equal(a.size, b.size, 'size');
  t.equal(a.failingHosts, b.failingHosts, 'failing hosts');
  for (const h of b.hosts) {
    const x = a.slotOf(h.host);
    const y = b.slotOf(h.host)!;
    t.ok(x !== undefined, `${h.host} present`);
    if (x === undefined) continue;
    t.equal(a.hosts[x]!.host, h.host);
    for (const rc of RESOURCE_CLASSES) t.equal(a.resources[rc].free[x], b.resources[rc].free[y], `${h.host} ${rc}`);
    t.equal(a.enabled[x], b.enabled[y]);
    t.equal(a.numInstances[x], b.numInstances[y]);
    t.equal(a.failedBuilds[x], b.failedBuilds[y]);
    t.same(a.platforms[a.platform[x]!], b.platforms[b.platform[y]!]);
  }
}


t.test('removing the first, a middle, the last and finally every host keeps the columns exact', async (t) => {
  const hosts = fleet();
  const cols = HostColumns.of(hosts);
  let left = [...hosts];
  for (const name of ['h0', 'h5', 'h11', 'h4', 'h8']) {
    t.ok(cols.remove(name));
    left = left.filter((h) => h.host !== name);
    t.equal(cols.slotOf(name), undefined);
    sameColumns(t, cols, HostColumns.of(left));
  }
  t.notOk(cols.remove('h0'), 'twice is a no-op');
  for (const h of left) cols.remove(h.host);
  t.equal(cols.size, 0);
  t.equal(cols.failingHosts, 0);
  t.equal(cols.cursor, 0);
});

t.test('HostStates.forget refuses a host with allocations and forgets one without', async (t) => {
  const states = new HostStates(DEFAULT_CAPACITY_POLICY);
  const report = (host: string) => ({
    host, node: host, hypervisorType: 'fake', hypervisorVersion: 1, cpuArch: 'x86_64', availabilityZone: null,
    vcpus: 8, memoryMb: 16384, diskGb: 100, vcpusUsed: 0, memoryMbUsed: 0, diskGbUsed: 0, runningVms: 0, seq: 1, sentAt: 1,
  });
  states.applyReport(report('a'), 1);
  states.applyReport(report('b'), 1);
  states.claim('c1', 'a', { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 });
  t.notOk(states.forget('a'), 'a has an allocation');
  t.ok(states.get('a'));
  t.ok(states.forget('b'));
  t.equal(states.get('b'), undefined);
  t.same(states.all().map((h) => h.host), ['a']);
  states.unclaim('c1');
  t.ok(states.forget('a'));
  t.equal(states.size, 0);
});
