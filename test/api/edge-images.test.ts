/**
 * Image storage cannot be exhausted by one project (review M8), and image creation races are typed
 * (review §6.3): Glance's `image_count_total` and `user_storage_quota` are enforced per project
 * (413, as Glance), also under concurrency; image data lives in its own private directory (0700,
 * files 0600); two `image.create` with one id give the loser a 409, not a 500; image property
 * values are bounded as Nova's metadata.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { FsImageStore } from '../../actors/image/image-store.js';
import { NovactError } from '../../protocols/errors.js';
import { fault, startApiCluster } from '../harness/api-http.js';

const MiB = 1024 * 1024;
const parent = await mkdtemp(join(tmpdir(), 'edge-images-'));
t.teardown(() => rm(parent, { recursive: true, force: true }));
const imageDataDir = join(parent, 'store');
const { cluster, http, admin } = await startApiCluster(t, {
  hosts: 1, imageDataDir, api: { imageQuotas: { imageCountTotal: 4, userStorageQuotaBytes: 1.5 * MiB } },
});
const alice = await http.member(admin, 'acme', 'alice', 'member');
const bob = await http.member(admin, 'beta', 'bob', 'member');
const carol = await http.member(admin, 'gamma', 'carol', 'member');
const OCTET = { 'Content-Type': 'application/octet-stream' };

const create = (token: string, name: string, extra: Record<string, unknown> = {}) =>
  http.post('/image/v2/images', { token, body: { name, disk_format: 'raw', container_format: 'bare', ...extra } });
const upload = (token: string, id: string, bytes: number) => http.put(`/image/v2/images/${id}/file`, { token, raw: randomBytes(bytes), headers: OCTET });
const status = async (id: string) => (await http.get(`/image/v2/images/${id}`, { token: admin })).body.status as string;

t.test('image_count_total: a project may own so many images, then 413', async (t) => {
  for (let i = 0; i < 4; i++) t.equal((await create(alice.token, `a${i}`)).status, 201);
  const over = await create(alice.token, 'a4');
  t.equal(over.status, 413);
  t.equal(fault(over)?.name, 'overLimit');
  t.match(fault(over)?.message, /image_count_total/);
  t.equal((await create(bob.token, 'b-first')).status, 201, "another project's count is its own");
});

t.test('image_count_total holds under concurrent creates', async (t) => {
  // bob owns one already; seven race for the three left.
  const answers = await Promise.all(Array.from({ length: 7 }, (_, i) => create(bob.token, `b${i}`)));
  t.equal(answers.filter((a) => a.status === 201).length, 3, 'exactly the room left');
  t.ok(answers.filter((a) => a.status !== 201).every((a) => a.status === 413), 'the rest are 413');
  const mine = (await http.get('/image/v2/images?visibility=shared', { token: bob.token })).body.images.filter((i: { owner: string }) => i.owner === bob.projectId);
  t.equal(mine.length, 4);
});

t.test('user_storage_quota: uploads beyond the project\'s bytes are 413 and leave the image queued', async (t) => {
  const a = (await create(carol.token, 'one')).body;
  t.equal((await upload(carol.token, a.id, MiB)).status, 204, 'the first MiB fits');
  const b = (await create(carol.token, 'two')).body;
  const over = await upload(carol.token, b.id, MiB);
  t.equal(over.status, 413, 'a second MiB does not');
  t.equal(fault(over)?.name, 'overLimit');
  t.match(fault(over)?.message, /exceeds the quota/);
  t.equal(await status(b.id), 'queued', 'the refused image is queued again');
  t.equal((await http.delete(`/image/v2/images/${a.id}`, { token: carol.token })).status, 204);
  t.equal((await upload(carol.token, b.id, MiB)).status, 204, 'deleting frees the room');
  t.equal(await status(b.id), 'active');
  await http.delete(`/image/v2/images/${b.id}`, { token: carol.token });
});

t.test('user_storage_quota holds under concurrent uploads (checked again as each completes)', async (t) => {
  const ids = await Promise.all(['c', 'd'].map(async (n) => (await create(carol.token, n)).body.id as string));
  const answers = await Promise.all(ids.map((id) => upload(carol.token, id, MiB)));
  t.same(answers.map((a) => a.status).sort(), [204, 413], 'one fits, the other is refused');
  const statuses = await Promise.all(ids.map(status));
  t.same(statuses.sort(), ['active', 'queued']);
  const active = (await http.get('/image/v2/images?status=active', { token: carol.token })).body.images.filter((i: { owner: string }) => i.owner === carol.projectId);
  t.ok(active.reduce((n: number, i: { size: number }) => n + i.size, 0) <= 1.5 * MiB, 'the project holds no more than its quota');
});

t.test('image data lives in its own private directory', async (t) => {
  t.equal((await stat(imageDataDir)).mode & 0o777, 0o700, 'the given directory is created 0700');
  const files = (await readdir(imageDataDir)).filter((f) => f !== 'staging' && f !== 'staged');
  t.equal((await stat(join(imageDataDir, 'staged'))).mode & 0o777, 0o700, 'the import staging area is private too');
  t.ok(files.length > 0, 'uploaded data is there');
  for (const f of files) t.equal((await stat(join(imageDataDir, f))).mode & 0o777, 0o600, `${f} is 0600`);
  const own = await FsImageStore.open();
  t.teardown(() => own.close());
  t.equal((await stat(own.dir)).mode & 0o777, 0o700, 'without a directory, a private temporary one');
});

t.test('two image.create with one id: the loser gets 409, not 500', async (t) => {
  const id = '6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b';
  const settled = await Promise.allSettled([0, 1, 2].map((i) => cluster.client.createImage({ id, name: `race-${i}`, sizeBytes: 1 })));
  t.equal(settled.filter((s) => s.status === 'fulfilled').length, 1, 'one create wins');
  for (const s of settled.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) {
    t.ok(s.reason instanceof NovactError && s.reason.code === 409, `the loser: ${String(s.reason?.code)} ${String(s.reason?.message)}`);
  }
  const rest = await Promise.all([0, 1].map(() => create(admin, 'rest-race', { id: '7f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b' })));
  t.same(rest.map((a) => a.status).sort(), [201, 409], 'the same through Glance\'s API');
});

t.test('image property values are bounded like Nova\'s metadata', async (t) => {
  const long = await create(admin, 'long', { note: 'x'.repeat(256) });
  t.equal(long.status, 400, 'a value over 255 characters');
  const img = (await create(admin, 'props')).body;
  const patch = await http.patch(`/image/v2/images/${img.id}`, {
    token: admin, raw: JSON.stringify([{ op: 'add', path: '/note', value: 'y'.repeat(256) }]),
    headers: { 'Content-Type': 'application/openstack-images-v2.1-json-patch' },
  });
  t.equal(patch.status, 400, 'also through a patch');
  t.equal((await create(admin, 'ok', { note: 'x'.repeat(255) })).status, 201, '255 characters are fine');
});

t.test("Glance's v2.0 patch media type is served (Tempest's image client sends it)", async (t) => {
  const img = (await create(admin, 'v20')).body;
  const patch = await http.patch(`/image/v2/images/${img.id}`, {
    token: admin, raw: JSON.stringify([{ replace: '/name', value: 'renamed' }, { add: '/os_distro', value: 'debian' }]),
    headers: { 'Content-Type': 'application/openstack-images-v2.0-json-patch' },
  });
  t.equal(patch.status, 200);
  t.equal(patch.body.name, 'renamed');
  t.equal(patch.body.os_distro, 'debian');
});
