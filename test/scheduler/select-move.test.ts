/**
 * The scheduler's move verbs over the bus: `select` with a `move` (fits, does not fit, same host,
 * target host), its idempotent retry, `move-claim` onto an alternate, `revert-move` and
 * `confirm-move`, with the replica's host states matching the ledger after each; and the server
 * group members quota holding when two boots race into a group with one free slot.
 */
import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { ConfirmMove, MoveClaim, RevertMove, Select } from '../../protocols/catalog/scheduler.js';
import type { SelectRequestBody } from '../../protocols/catalog/scheduler.js';
import { startTestCluster } from '../harness/cluster.js';
import { NoValidHostError } from '../../protocols/errors.js';

const { cluster } = await startTestCluster(t, {
  roles: ['scheduler', 'compute'],
  hosts: 3,
  fakeHost: { vcpus: 16, memoryMb: 8192, diskGb: 200 },
  api: { quotaDefaults: { server_group_members: 2 } },
});
const bridge = cluster.client.bridge;
const scheduler = cluster.scheduler!;
const ledger = cluster.ledger!;
const opts = () => ({ timeoutMs: 5_000, idempotencyKey: randomUUID() });
const small = { VCPU: 1, MEMORY_MB: 1024, DISK_GB: 10 };
const big = { VCPU: 2, MEMORY_MB: 4096, DISK_GB: 20 };

const request = (instanceUuid: string, resources = small, extra: Partial<SelectRequestBody> = {}): SelectRequestBody => ({
  instanceUuid, projectId: 'p1', resources, flavor: { id: 'f', name: 'f' }, image: { id: 'i' }, ...extra,
});
const boot = async (instanceUuid = randomUUID(), extra: Partial<SelectRequestBody> = {}) => {
  const r = await bridge.call(Select, [], request(instanceUuid, small, extra), opts());
  return { instanceUuid, host: r.host };
};
/** The ledger's allocation of a consumer, and the replica's memory of it: they must agree. */
async function heldBy(consumer: string): Promise<string | undefined> {
  const inLedger = (await ledger.allocations()).find((a) => a.consumer === consumer)?.provider;
  const inMemory = scheduler.states.allocationOf(consumer)?.host;
  if (inLedger !== inMemory) throw new Error(`${consumer}: ledger says ${inLedger}, memory says ${inMemory}`);
  return inLedger;
}
async function memoryMatchesLedger(t: Test) {
  for (const p of await ledger.snapshot()) t.same(scheduler.states.get(p.provider)?.used, p.used, `${p.provider}: memory usage is the ledger's`);
}

t.test('a resize is placed off the source, retried idempotently and confirmed', async (t) => {
  const { instanceUuid, host: source } = await boot();
  const migrationUuid = randomUUID();
  const move = { migrationUuid, sourceHost: source };
  const r = await bridge.call(Select, [], request(instanceUuid, big, { move }), opts());
  t.not(r.host, source, 'not on the source by default');
  t.equal(await heldBy(instanceUuid), r.host, 'the instance holds the destination');
  t.equal(await heldBy(migrationUuid), source, 'the migration holds the source');
  const again = await bridge.call(Select, [], request(instanceUuid, big, { move }), opts());
  t.equal(again.host, r.host, 'a retry answers the same destination');
  t.same((await ledger.totals()).allocations, { VCPU: 3, MEMORY_MB: 5120, DISK_GB: 30 }, 'charged once');
  await memoryMatchesLedger(t);
  t.same(await bridge.call(ConfirmMove, [], { migrationUuid }, opts()), { released: 1 });
  t.equal(await heldBy(migrationUuid), undefined, 'confirm frees the source');
  t.same(await bridge.call(ConfirmMove, [], { migrationUuid }, opts()), { released: 0 }, 'twice is a no-op');
  await memoryMatchesLedger(t);
  await ledger.release([instanceUuid]);
  scheduler.states.unclaim(instanceUuid);
});

t.test('same host when allowed, a target host, and a move that does not fit', async (t) => {
  const { instanceUuid, host: source } = await boot();
  const refusedSame = bridge.call(Select, [], request(instanceUuid, big, { move: { migrationUuid: randomUUID(), sourceHost: source, targetHost: source } }), opts());
  await t.rejects(refusedSame, NoValidHostError, 'the source as target needs allowSameHost');
  const tooBig = bridge.call(Select, [], request(instanceUuid, { VCPU: 1, MEMORY_MB: 100_000, DISK_GB: 1 }, { move: { migrationUuid: randomUUID(), sourceHost: source } }), opts());
  await t.rejects(tooBig, NoValidHostError, 'no host takes the new flavor');
  t.equal(await heldBy(instanceUuid), source, 'a refused move leaves the instance where it was');

  const migrationUuid = randomUUID();
  const same = await bridge.call(Select, [], request(instanceUuid, big, { move: { migrationUuid, sourceHost: source, allowSameHost: true, targetHost: source } }), opts());
  t.equal(same.host, source, 'same host, allowed and asked for');
  t.equal(await heldBy(migrationUuid), source);
  t.same(await bridge.call(RevertMove, [], { instanceUuid, migrationUuid }, opts()), { host: source }, 'revert');
  t.same((await ledger.allocations()).filter((a) => a.consumer === instanceUuid), [{ consumer: instanceUuid, provider: source, resources: small }], 'back to the old flavor');
  t.same(await bridge.call(RevertMove, [], { instanceUuid, migrationUuid }, opts()), { host: source }, 'reverting twice is a no-op');

  const other = scheduler.states.all().map((h) => h.host).find((h) => h !== source)!;
  const m2 = randomUUID();
  const target = await bridge.call(Select, [], request(instanceUuid, small, { move: { migrationUuid: m2, sourceHost: source, targetHost: other } }), opts());
  t.same(target, { host: other, alternates: [] }, 'a target host is the destination');
  const third = scheduler.states.all().map((h) => h.host).find((h) => h !== source && h !== other)!;
  t.same(await bridge.call(MoveClaim, [], { instanceUuid, migrationUuid: m2, projectId: 'p1', host: third, resources: small }, opts()), { host: third }, 'move-claim onto an alternate');
  t.equal(await heldBy(instanceUuid), third);
  t.equal(await heldBy(m2), source, 'the source stays with the migration');
  await t.rejects(bridge.call(MoveClaim, [], { instanceUuid, migrationUuid: m2, projectId: 'p1', host: other, resources: { VCPU: 1, MEMORY_MB: 100_000, DISK_GB: 1 } }, opts()), NoValidHostError);
  t.equal(await heldBy(instanceUuid), third, 'a refused move-claim keeps the destination');
  await memoryMatchesLedger(t);
  // Evacuate's cleanup: releasing the migration consumer frees the source.
  t.match(await bridge.call(ConfirmMove, [], { migrationUuid: m2 }, opts()), { released: 1 });
  await memoryMatchesLedger(t);
});

t.test('two concurrent boots into a group with one free slot: one is refused (403)', async (t) => {
  const group = await scheduler.catalog.createGroup({ name: 'g', policy: 'affinity', maxServerPerHost: null, projectId: 'p1', userId: 'u' }, new Date());
  const hints = { schedulerHints: { group: group.id } };
  await boot(randomUUID(), hints);
  const results = await Promise.allSettled([boot(randomUUID(), hints), boot(randomUUID(), hints)]);
  t.equal(results.filter((r) => r.status === 'fulfilled').length, 1, 'one boot is placed');
  const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  t.match(refused.reason, { code: 403, message: /too many servers in group/ });
  const members = await ledger.orm.em.getConnection().getKnex().raw(`select count(*)::int as n from server_group_members where group_uuid = ?`, [group.id]);
  t.equal(members.rows[0].n, 2, 'the group holds its quota of two');
  t.equal(scheduler.catalog.group(group.id)!.members.size, 2, 'and so does the replica\'s memory');
  await memoryMatchesLedger(t);
});
