/**
 * createImage and createBackup over REST: 202 with `{image_id}` (2.45) or a `Location` (2.1); the
 * image becomes active, owned by the project, with Nova's snapshot properties and the checksum of
 * the fake guest's disk; a new server boots from it; backup rotation keeps `rotation` backups; a
 * wrong state is a 409; a host failure during the snapshot deletes the image and leaves the server
 * ACTIVE with the instance action in error.
 */
import { createHash } from 'node:crypto';
import t from 'tap';
import { FakeDriver } from '../../hosts/fake/fake-driver.js';
import { FAKE_SNAPSHOT_CHUNKS, fakeDiskBytes } from '../../hosts/fake/fake-guest-ops.js';
import { startApiCluster } from '../harness/api-http.js';

const drivers = [new FakeDriver({ hostname: 'compute-1' }), new FakeDriver({ hostname: 'compute-2' })];
const { cluster, http, admin } = await startApiCluster(t, { hosts: drivers.map((driver) => ({ name: driver.hostname, driver })) });
const base = (await cluster.client.listImages())[0]!;
const alice = await http.member(admin, 'project-snap', 'alice', 'member');
const mv = (n: number) => ({ 'OpenStack-API-Version': `compute 2.${n}` });

const idle = (id: string, status = 'ACTIVE') => cluster.client.waitForServer(id, (s) => s.status === status && s.taskState === null);
const boot = async (name: string, imageRef = base.id) => {
  const r = await http.post('/v2.1/servers', { token: alice.token, body: { server: { name, flavorRef: '1', imageRef } } });
  if (r.status !== 202) throw new Error(`boot ${name}: ${r.status} ${r.text}`);
  return idle(r.body.server.id as string);
};
const action = (id: string, body: unknown, headers: Record<string, string> = {}) =>
  http.post(`/v2.1/servers/${id}/action`, { token: alice.token, body, headers });
const image = async (id: string) => (await http.get(`/image/v2/images/${id}`, { token: alice.token }));
const records = async (id: string) =>
  (await http.get(`/v2.1/servers/${id}/os-instance-actions`, { token: alice.token })).body.instanceActions as { action: string; request_id: string }[];
const driverOf = (host: string) => drivers.find((d) => d.hostname === host)!;
/** What the fake guest's disk holds, as Glance's checksum (MD5) of it. */
const diskChecksum = (uuid: string, imageId: string) => {
  const md5 = createHash('md5');
  for (let i = 0; i < FAKE_SNAPSHOT_CHUNKS; i++) md5.update(fakeDiskBytes(uuid, imageId, i));
  return md5.digest('hex');
};

t.test('createImage (2.45): image_id, the image goes active with Nova\'s properties, and boots', async (t) => {
  const s = await boot('snapped');
  const r = await action(s.id, { createImage: { name: 'snap-1', metadata: { purpose: 'e2e' } } }, mv(45));
  t.equal(r.status, 202);
  const imageId = r.body?.image_id as string;
  t.match(imageId, /^[0-9a-f-]{36}$/, 'the body names the image');
  t.notOk(r.headers.get('location'), 'no Location from 2.45');
  await idle(s.id);
  const img = await image(imageId);
  t.equal(img.status, 200);
  t.match(img.body, {
    id: imageId, name: 'snap-1', status: 'active', owner: alice.projectId, visibility: 'private',
    image_type: 'snapshot', instance_uuid: s.id, base_image_ref: base.id, user_id: alice.userId, purpose: 'e2e',
  });
  t.equal(img.body.checksum, diskChecksum(s.id, base.id), 'the bytes are the guest\'s disk');
  const after = (await http.get(`/v2.1/servers/${s.id}`, { token: alice.token })).body.server;
  t.same([after.status, after['OS-EXT-STS:task_state'] ?? null], ['ACTIVE', null]);
  t.equal((await records(s.id))[0]!.action, 'createImage');

  const clone = await boot('from-snapshot', imageId);
  t.equal(clone.status, 'ACTIVE', 'a new server boots from the snapshot');
  t.equal(clone.imageId, imageId);
});

t.test('createImage: the request\'s metadata wins over Nova\'s own keys (image_type), as Nova applies it last', async (t) => {
  const s = await boot('typed');
  const r = await action(s.id, { createImage: { name: 'snap-typed', metadata: { image_type: 'test' } } }, mv(45));
  t.equal(r.status, 202);
  const imageId = r.body?.image_id as string;
  await idle(s.id);
  const img = await image(imageId);
  t.match(img.body, { image_type: 'test', instance_uuid: s.id, base_image_ref: base.id }, 'Glance shows the request\'s image_type, Nova\'s other keys kept');
  const nova = await http.get(`/v2.1/images/${imageId}`, { token: alice.token });
  t.equal(nova.body.image.metadata.image_type, 'test', 'so does Nova\'s image proxy');
});

t.test('createImage (2.1): a Location header names the image; a stopped server may be snapshotted', async (t) => {
  const s = await boot('stopped-snap');
  t.equal((await action(s.id, { 'os-stop': null })).status, 202);
  await idle(s.id, 'SHUTOFF');
  const r = await action(s.id, { createImage: { name: 'snap-2' } });
  t.equal(r.status, 202);
  t.equal(r.text, '', 'no body before 2.45');
  const location = r.headers.get('location') ?? '';
  t.match(location, /\/v2\.1\/images\/[0-9a-f-]{36}$/);
  await idle(s.id, 'SHUTOFF');
  const id = location.split('/').pop()!;
  t.equal((await image(id)).body.status, 'active');
  t.equal((await http.get(`/v2.1/images/${id}`, { token: alice.token })).status, 200, 'the Location resolves');
});

t.test('createBackup with rotation 2, three times, keeps the newest 2', async (t) => {
  const s = await boot('backed-up');
  const made: string[] = [];
  for (const n of [1, 2, 3]) {
    const r = await action(s.id, { createBackup: { name: `nightly-${n}`, backup_type: 'daily', rotation: 2 } }, mv(45));
    t.equal(r.status, 202, `backup ${n} accepted`);
    made.push(r.body.image_id as string);
    await idle(s.id);
  }
  const all = (await http.get('/image/v2/images', { token: alice.token })).body.images as Record<string, string>[];
  const backups = all.filter((i) => i.instance_uuid === s.id && i.image_type === 'backup');
  t.same(backups.map((i) => i.id).sort(), made.slice(1).sort(), 'the oldest was rotated away');
  t.ok(backups.every((i) => i.backup_type === 'daily' && i.status === 'active'));
  t.equal((await image(made[0]!)).status, 404, 'the rotated backup is gone');
  t.same((await records(s.id)).slice(0, 3).map((a) => a.action), ['createBackup', 'createBackup', 'createBackup']);
});

t.test('refusals: a wrong vm state is a 409, a bad body a 400', async (t) => {
  const s = await boot('errored');
  t.equal((await http.post(`/v2.1/servers/${s.id}/action`, { token: admin, body: { 'os-resetState': { state: 'error' } } })).status, 202);
  const r = await action(s.id, { createImage: { name: 'nope' } });
  t.equal(r.status, 409);
  t.same(r.body, { conflictingRequest: { code: 409, message: `Cannot 'createImage' instance ${s.id} while it is in vm_state error` } });
  t.equal((await action(s.id, { createImage: {} })).status, 400, 'name is required');
  t.equal((await action(s.id, { createBackup: { name: 'b', backup_type: 'daily', rotation: -1 } })).status, 400, 'rotation is non-negative');
  t.equal((await action(s.id, { createImage: { name: 'x', imageId: base.id } })).status, 400, 'no fields beyond Nova\'s');
});

t.test('a host failure during the snapshot deletes the image; the server stays ACTIVE, the action records the error', async (t) => {
  const s = await boot('failing-snap');
  driverOf(s.host!).faults.addRule({ op: 'snapshot', action: 'fail', times: 1, message: 'injected snapshot failure' });
  const r = await action(s.id, { createImage: { name: 'doomed' } }, mv(45));
  t.equal(r.status, 202);
  const id = r.body.image_id as string;
  const after = await idle(s.id);
  t.same([after.status, after.fault ?? null], ['ACTIVE', null], 'back to ACTIVE, no fault shown');
  t.equal((await image(id)).status, 404, 'the image was deleted');
  const rec = (await records(s.id))[0]!;
  t.equal(rec.action, 'createImage');
  const detail = (await http.get(`/v2.1/servers/${s.id}/os-instance-actions/${rec.request_id}`, { token: admin })).body.instanceAction;
  t.match(detail.message, /injected snapshot failure/, 'the instance action says why');
  t.match(detail.events, [{ result: 'Error' }]);
  // The server is fine: the next snapshot works.
  const again = await action(s.id, { createImage: { name: 'retry' } }, mv(45));
  await idle(s.id);
  t.equal((await image(again.body.image_id as string)).body.status, 'active');
});
