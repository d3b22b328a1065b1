import t from 'tap';
import { randomUUID } from 'node:crypto';
import { Instance, InstanceAction } from '../../runtime/db/entities/index.js';
import type { FakeDriver } from '../../hosts/fake/fake-driver.js';
import { startTestCluster, waitAll, settled, idle } from '../harness/cluster.js';

const { cluster } = await startTestCluster(t, { hosts: 5 });
const { client } = cluster;
const image = (await client.listImages())[0]!;

t.test('50 boots over 5 hosts: all ACTIVE, the ledger holds exactly the flavors, deletes give it all back', async (t) => {
  const events: string[] = [];
  const sub = client.bridge.nc.subscribe(cluster.subjects.allEvents, { callback: (_e, m) => events.push(m.subject) });
  const flavors = ['m1.tiny', 'm1.small'];
  const created = await Promise.all(
    Array.from({ length: 50 }, (_, i) => client.createServer({ name: `vm-${i}`, flavorRef: flavors[i % 2]!, imageRef: image.id })),
  );
  t.equal(new Set(created.map((s) => s.id)).size, 50, '50 distinct instances');
  t.ok(created.every((s) => s.status === 'BUILD'), 'accepted in BUILD');

  const done = await waitAll(cluster, created.map((s) => s.id), settled);
  t.same(done.filter((s) => s.status !== 'ACTIVE').map((s) => s.fault), [], 'every instance ACTIVE');
  t.equal(new Set(done.map((s) => s.host)).size, 5, 'spread over all 5 hosts');

  const want = { VCPU: 50, MEMORY_MB: 25 * 512 + 25 * 2048, DISK_GB: 25 * 1 + 25 * 20 };
  const totals = await cluster.ledger!.totals();
  t.same({ VCPU: totals.VCPU, MEMORY_MB: totals.MEMORY_MB, DISK_GB: totals.DISK_GB }, want, 'inventory usage = sum of flavors');
  t.same(totals.allocations, want, 'allocations = sum of flavors');

  // Every host's hypervisor holds exactly the guests the database places on it.
  for (const [name, { driver }] of cluster.compute!.hosts) {
    const guests = (await driver.listGuests()).map((g) => g.uuid).sort();
    const placed = done.filter((s) => s.host === name).map((s) => s.id).sort();
    t.same(guests, placed, `${name} runs what the DB says`);
  }

  await Promise.all(created.map((s) => client.deleteServer(s.id)));
  const gone = await waitAll(cluster, created.map((s) => s.id), (s) => s.status === 'DELETED');
  t.equal(gone.length, 50);
  const after = await cluster.ledger!.totals();
  t.same(after, { VCPU: 0, MEMORY_MB: 0, DISK_GB: 0, allocations: { VCPU: 0, MEMORY_MB: 0, DISK_GB: 0 } }, 'capacity back to zero');
  for (const [name, { driver }] of cluster.compute!.hosts) t.same(await (driver as FakeDriver).listGuests(), [], `${name} has no guests left`);

  const em = cluster.orm!.em.fork();
  t.equal(await em.count(Instance, { deletedAt: null }), 0, 'no live instance rows');
  const actions = await em.find(InstanceAction, { action: { $in: ['create', 'delete'] } });
  t.equal(actions.length, 100, 'a create and a delete action per instance');
  t.ok(actions.every((a) => a.result === 'Success' && a.finishTime !== null), 'all actions finished with Success');
  await client.bridge.nc.flush();
  sub.unsubscribe();
  t.equal(events.filter((s) => s.endsWith('.create.end')).length, 50, 'create.end published per instance');
  t.equal(events.filter((s) => s.endsWith('.delete.end')).length, 50, 'delete.end published per instance');
});

t.test('a retried build with the same idempotency key returns the same instance', async (t) => {
  const key = randomUUID();
  const a = await client.createServer({ name: 'idem', flavorRef: 'm1.tiny', imageRef: image.id }, { idempotencyKey: key });
  const b = await client.createServer({ name: 'idem', flavorRef: 'm1.tiny', imageRef: image.id }, { idempotencyKey: key });
  t.equal(b.id, a.id);
  t.equal(await cluster.orm!.em.fork().count(Instance, { name: 'idem' }), 1, 'one row');
  await client.waitForServer(a.id, settled);
  await client.deleteServer(a.id);
  await client.waitForServer(a.id, (s) => s.status === 'DELETED');
});

t.test('stop, start, reboot follow Nova states; wrong-state actions are 409 and change nothing', async (t) => {
  const s = await client.createServer({ name: 'life', flavorRef: 'm1.tiny', imageRef: image.id });
  t.equal((await client.waitForServer(s.id, settled)).status, 'ACTIVE');
  const driver = cluster.compute!.hosts.get((await client.getServer(s.id)).host!)!.driver;

  await t.rejects(client.serverAction(s.id, 'start'), { code: 409, message: `Cannot 'start' instance ${s.id} while it is in vm_state active` });

  const stopping = await client.serverAction(s.id, 'stop');
  t.equal(stopping.taskState, 'powering-off');
  const stopped = await client.waitForServer(s.id, idle);
  t.match(stopped, { status: 'SHUTOFF', vmState: 'stopped', powerState: 4 });
  t.equal((await driver.getGuest(s.id))?.powerState, 4, 'guest is shut down on the hypervisor');
  await t.rejects(client.serverAction(s.id, 'reboot', { type: 'SOFT' }), { code: 409 }, 'soft reboot of a stopped server');

  await client.serverAction(s.id, 'start');
  t.match(await client.waitForServer(s.id, idle), { status: 'ACTIVE', powerState: 1 });
  const rebooting = await client.serverAction(s.id, 'reboot', { type: 'HARD' });
  t.equal(rebooting.status, 'HARD_REBOOT');
  t.match(await client.waitForServer(s.id, idle), { status: 'ACTIVE', powerState: 1 });
  await t.rejects(client.serverAction(s.id, 'reboot', { type: 'WARM' }), { code: 400 }, 'unknown reboot type');

  const actions = (await client.serverActions(s.id)).map((a) => a.action);
  t.same(actions, ['reboot', 'start', 'stop', 'create'], 'instance actions, newest first');

  await client.deleteServer(s.id);
  await client.waitForServer(s.id, (x) => x.status === 'DELETED');
  await t.rejects(client.getServer(s.id), { code: 404 }, 'deleted instances are not found');
});

t.test('notifications are kept in a JetStream stream', async (t) => {
  const jsm = await client.bridge.nc.jetstreamManager();
  const info = await jsm.streams.info('NOVACT_EVENTS');
  t.same(info.config.subjects, ['novact.evt.>']);
  t.ok(info.state.messages >= 100, `holds the notifications published so far (${info.state.messages})`);
});
