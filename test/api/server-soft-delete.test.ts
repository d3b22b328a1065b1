/**
 * Soft delete over HTTP (reclaim_instance_interval > 0): DELETE makes a server SOFT_DELETED with
 * its capacity kept, restore brings it back ACTIVE, forceDelete removes it, and the reclaim sweep
 * deletes one soft-deleted longer than the interval; Nova's 409s and the instance-action records.
 * The conductor reads its lifecycle settings live: the interval is shortened for the sweep's test.
 */
import t from 'tap';
import { DEFAULT_LIFECYCLE_CONFIG, type LifecycleConfig } from '../../protocols/lifecycle.js';
import { startApiCluster } from '../harness/api-http.js';
import { serverKit } from '../harness/server-kit.js';

const lifecycle: LifecycleConfig = { ...DEFAULT_LIFECYCLE_CONFIG, reclaimInstanceIntervalS: 3_600 };
const { cluster, http, admin } = await startApiCluster(t, { conductor: { lifecycle, sweepIntervalMs: 200 } });
const alice = await http.member(admin, 'project-d', 'alice', 'member');

const { settled, action, boot, allocationOf } = serverKit(cluster, http, alice.token);
const guestOn = async (host: string, id: string) => (await cluster.client.getHost(host)).guests.find((g) => g.uuid === id);
const records = async (id: string) =>
  ((await http.get(`/v2.1/servers/${id}/os-instance-actions`, { token: alice.token })).body.instanceActions as { action: string }[]).map((r) => r.action);
const gone = async (id: string) => {
  await cluster.client.waitForServer(id, (s) => s.status === 'DELETED', 30_000).catch(() => undefined);
  return (await http.get(`/v2.1/servers/${id}`, { token: alice.token })).status === 404;
};

t.test('delete is soft: SOFT_DELETED, powered off, capacity and guest kept; restore brings it back', async (t) => {
  const id = await boot('soft');
  const host = (await cluster.client.getServer(id)).host!;
  t.match(await action(id, { restore: null }), { status: 409, body: { conflictingRequest: { message: `Cannot 'restore' instance ${id} while it is in vm_state active` } } });
  t.equal((await http.delete(`/v2.1/servers/${id}`, { token: alice.token })).status, 204);
  const s = await settled(id, 'SOFT_DELETED');
  t.equal(s.powerState, 4, 'powered off');
  t.same(await allocationOf(id), [host], 'capacity kept');
  t.equal((await guestOn(host, id))?.powerState, 4, 'the guest is kept, shut down');
  t.equal((await http.get(`/v2.1/servers/${id}`, { token: alice.token })).body.server.status, 'SOFT_DELETED');
  t.equal((await action(id, { 'os-start': null })).status, 409, 'no other action');

  t.equal((await action(id, { restore: null })).status, 202);
  const back = await settled(id, 'ACTIVE');
  t.equal(back.powerState, 1);
  t.equal(back.host, host);
  t.same((await records(id)).slice(0, 2), ['restore', 'delete']);
});

t.test('forceDelete removes a soft-deleted server and frees its capacity', async (t) => {
  const id = await boot('forced');
  const host = (await cluster.client.getServer(id)).host!;
  t.equal((await http.delete(`/v2.1/servers/${id}`, { token: alice.token })).status, 204);
  await settled(id, 'SOFT_DELETED');
  t.equal((await action(id, { forceDelete: null })).status, 202);
  t.ok(await gone(id), 'gone');
  t.same(await allocationOf(id), [], 'released');
  t.equal(await guestOn(host, id), undefined, 'the guest destroyed');
});

t.test('a second DELETE of a soft-deleted server deletes it for good', async (t) => {
  const id = await boot('twice');
  t.equal((await http.delete(`/v2.1/servers/${id}`, { token: alice.token })).status, 204);
  await settled(id, 'SOFT_DELETED');
  t.equal((await http.delete(`/v2.1/servers/${id}`, { token: alice.token })).status, 204);
  t.ok(await gone(id));
  t.same(await allocationOf(id), []);
});

t.test('the reclaim sweep deletes a server soft-deleted longer than the interval', async (t) => {
  const id = await boot('reclaimed');
  t.equal((await http.delete(`/v2.1/servers/${id}`, { token: alice.token })).status, 204);
  await settled(id, 'SOFT_DELETED');
  lifecycle.reclaimInstanceIntervalS = 1;
  t.teardown(() => { lifecycle.reclaimInstanceIntervalS = 3_600; });
  t.ok(await gone(id), 'reclaimed');
  t.same(await allocationOf(id), [], 'released');
});
