/**
 * M3: one bad report (or one transient DB error) in a batch does not drop the inventory writes of
 * the other hosts in it, memory never offers what the ledger lacks, and a failed write is retried
 * or written by the next identical report; the conductor's compute-node upserts isolate bad rows
 * the same way.
 */
import t from 'tap';
import { waitFor } from '../harness/poll.js';
import type { CapacityReport } from '../../protocols/resources.js';
import { startTestCluster } from '../harness/cluster.js';

const { cluster } = await startTestCluster(t, { hosts: 1, logLevel: 'silent' });
const { client, subjects } = cluster;
const scheduler = cluster.scheduler!;
const knex = cluster.orm!.em.getConnection().getKnex();

const report = (host: string, over: Partial<CapacityReport> = {}): CapacityReport => ({
  host, node: host, hypervisorType: 'fake', hypervisorVersion: 1, cpuArch: 'x86_64', availabilityZone: null,
  vcpus: 8, memoryMb: 16_384, diskGb: 100, vcpusUsed: 0, memoryMbUsed: 0, diskGbUsed: 0, runningVms: 0, seq: 1, sentAt: Date.now(), ...over,
});
const ledgerMemory = async (hosts: string[]): Promise<Map<string, number>> => {
  const r = await knex.raw(`select provider, total from inventories where resource_class = 'MEMORY_MB' and provider = any(?)`, [hosts]);
  return new Map((r.rows as { provider: string; total: number }[]).map((x) => [x.provider, x.total]));
};

t.test('a poisoned report in a burst: every other host\'s inventory reaches the ledger', async (t) => {
  const good = Array.from({ length: 30 }, (_, i) => `good-${i + 1}`);
  // Past PostgreSQL's int range: the statement for the whole batch fails on this one row.
  const burst = [...good.slice(0, 15).map((h) => report(h)), report('poisoned', { memoryMb: 3_000_000_000 }), ...good.slice(15).map((h) => report(h))];
  for (const r of burst) client.bridge.publish(subjects.report(r.host, 'capacity'), r);
  await client.bridge.nc.flush();
  await waitFor('the good inventories', async () => (await ledgerMemory(good)).size === good.length);
  await scheduler.inventoriesWritten();
  const inLedger = await ledgerMemory(good);
  t.equal(inLedger.size, good.length, 'all 30 good hosts are in the ledger');
  t.ok([...inLedger.values()].every((m) => m > 0), 'with their capacity');
  t.equal((await ledgerMemory(['poisoned'])).size, 0, 'the bad row alone was refused');
  t.equal(scheduler.states.get('poisoned')?.inventory.MEMORY_MB.total ?? 0, 0, 'memory offers no capacity the ledger lacks');
});

t.test('a transient write failure is retried, and a cleared host is written by its next identical report', async (t) => {
  const ledger = cluster.ledger!;
  const real = ledger.setInventories.bind(ledger);
  let failing = 1_000;
  ledger.setInventories = async (items) => {
    if (failing > 0 && items.some((i) => i.provider === 'flaky')) {
      failing--;
      throw Object.assign(new Error('injected: connection reset'), { code: 'ECONNRESET' });
    }
    return real(items);
  };
  t.teardown(() => void (ledger.setInventories = real));

  // Fails a few times, then works: the writer's retries land it.
  failing = 2;
  client.bridge.publish(subjects.report('flaky', 'capacity'), report('flaky'));
  await waitFor('the retried write', async () => (await ledgerMemory(['flaky'])).size === 1);
  t.equal(scheduler.states.get('flaky')?.inventory.MEMORY_MB.total, (await ledgerMemory(['flaky'])).get('flaky'), 'memory = ledger');

  // Fails past the retries: memory is cleared, and the next *identical* report is written again.
  failing = 1_000;
  const bigger = report('flaky', { memoryMb: 32_768, seq: 2 });
  client.bridge.publish(subjects.report('flaky', 'capacity'), bigger);
  await waitFor('the cleared host', () => (scheduler.states.get('flaky')?.inventory.MEMORY_MB.total ?? -1) === 0);
  t.ok(((await ledgerMemory(['flaky'])).get('flaky') ?? 0) < 32_768, 'the ledger does not have the new capacity');
  failing = 0;
  client.bridge.publish(subjects.report('flaky', 'capacity'), { ...bigger, seq: 3 });
  await waitFor('the rewrite', async () => ((await ledgerMemory(['flaky'])).get('flaky') ?? 0) >= 32_768);
  t.equal(scheduler.states.get('flaky')?.inventory.MEMORY_MB.total, (await ledgerMemory(['flaky'])).get('flaky'), 'memory = ledger again');
});

t.test('compute-node upserts: one bad row does not drop the others of its flush', async (t) => {
  const hosts = ['node-a', 'node-b', 'node-c'];
  const nodes = cluster.conductor!.computeNodes;
  nodes.report(report('node-a'), Date.now());
  nodes.report(report('node-bad', { vcpus: 9_000_000_000 }), Date.now());
  nodes.report(report('node-b'), Date.now());
  nodes.report(report('node-nan'), Number.NaN); // a receive time that is no date
  nodes.report(report('node-c'), Date.now());
  await nodes.flush();
  const r = await knex.raw(`select host from compute_nodes where host = any(?) order by host`, [[...hosts, 'node-bad', 'node-nan']]);
  t.same((r.rows as { host: string }[]).map((x) => x.host), hosts, 'the good hosts are written, the bad rows alone dropped');
});
