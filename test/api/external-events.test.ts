/**
 * `os-server-external-events`: each event answered on its own (200 accepted, 404 no such server,
 * 422 not on a host or a bad power-update tag), the reply 200 / 207 / 404 as Nova's; names by
 * microversion; admins only; hostile bodies refused.
 */
import t from 'tap';
import { fault, startApiCluster, waitForServer } from '../harness/api-http.js';

const { cluster, http, admin } = await startApiCluster(t, { hosts: 1 });
const image = (await cluster.client.listImages())[0]!;
const alice = await http.member(admin, 'ev-a', 'alice', 'member');
const mv = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });
const post = (events: unknown, version = '2.90', token = admin) => http.post('/v2.1/os-server-external-events', { token, headers: mv(version), body: { events } });
const MISSING = '00000000-0000-4000-8000-000000000000';

const booted = await http.post('/v2.1/servers', { token: alice.token, body: { server: { name: 'ev', flavorRef: '1', imageRef: image.id, networks: 'none' } } });
const id = booted.body.server.id as string;
await waitForServer(cluster, id, (s) => s.status === 'ACTIVE');
// No host can take this flavor: the server stays unplaced (ERROR, no host).
const unplaced = await http.post('/v2.1/servers', { token: alice.token, body: { server: { name: 'nowhere', flavorRef: '5', imageRef: image.id, networks: 'none', availability_zone: 'nowhere' } } });
await waitForServer(cluster, unplaced.body.server.id, (s) => s.status === 'ERROR');

t.test('every event accepted: 200, each with its code and status', async (t) => {
  const r = await post([{ name: 'network-changed', server_uuid: id }, { name: 'network-vif-plugged', server_uuid: id, tag: 'port-1', status: 'completed' }]);
  t.equal(r.status, 200, r.text);
  t.same(r.body.events, [
    { name: 'network-changed', server_uuid: id, status: 'completed', code: 200 },
    { name: 'network-vif-plugged', server_uuid: id, tag: 'port-1', status: 'completed', code: 200 },
  ]);
});

t.test('some accepted: 207, the others failed with their reason as a code', async (t) => {
  const r = await post([
    { name: 'network-changed', server_uuid: id },
    { name: 'network-changed', server_uuid: MISSING },
    { name: 'network-vif-deleted', server_uuid: unplaced.body.server.id },
    { name: 'power-update', server_uuid: id, tag: 'SIDEWAYS' },
    { name: 'power-update', server_uuid: id, tag: 'POWER_OFF' },
  ]);
  t.equal(r.status, 207);
  t.same(r.body.events.map((e: { code: number; status: string }) => [e.code, e.status]), [[200, 'completed'], [404, 'failed'], [422, 'failed'], [422, 'failed'], [200, 'completed']]);
});

t.test('none accepted: 404', async (t) => {
  const r = await post([{ name: 'network-changed', server_uuid: MISSING }]);
  t.equal(r.status, 404);
  t.equal(fault(r)?.message, 'No instances found for any event');
});

t.test('names by microversion, hostile bodies, members', async (t) => {
  t.equal((await post([{ name: 'power-update', server_uuid: id, tag: 'POWER_ON' }], '2.75')).status, 400, 'power-update needs 2.76');
  t.equal((await post([{ name: 'volume-reimaged', server_uuid: id }], '2.90')).status, 400, 'volume-reimaged needs 2.93 (past this API)');
  for (const events of [[], [{ name: 'network-changed' }], [{ name: 'reboot-now', server_uuid: id }], [{ name: 'network-changed', server_uuid: 'not-a-uuid' }],
    [{ name: 'network-changed', server_uuid: id, extra: 1 }], [{ name: 'network-changed', server_uuid: id, status: 'maybe' }], [{ name: 'network-changed', server_uuid: id, tag: 'x'.repeat(256) }],
    Array.from({ length: 1001 }, () => ({ name: 'network-changed', server_uuid: id })), 'events']) {
    t.equal((await post(events)).status, 400, `${JSON.stringify(events).slice(0, 80)} is a 400`);
  }
  t.equal((await post([{ name: 'network-changed', server_uuid: id }], '2.90', alice.token)).status, 403, 'members may not send events');
});
