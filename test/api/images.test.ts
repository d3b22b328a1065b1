/**
 * Image v2 over HTTP: create, list (filters, sort keys, paging), show, JSON-patch, tags, data
 * upload and download with Glance's statuses and checksums, deactivate/reactivate, delete,
 * visibility between projects, and the size cap.
 */
import { createHash, randomBytes } from 'node:crypto';
import t from 'tap';
import { Image } from '../../runtime/db/entities/index.js';
import { fault, startApiCluster } from '../harness/api-http.js';

const CAP = 3 * 1024 * 1024;
const { cluster, http, admin } = await startApiCluster(t, { hosts: 1, api: { imageSizeCapBytes: CAP } });
const a = await http.member(admin, 'imgs-a', 'ann', 'member');
const b = await http.member(admin, 'imgs-b', 'ben', 'member');
const PATCH = { 'Content-Type': 'application/openstack-images-v2.1-json-patch' };
const OCTET = { 'Content-Type': 'application/octet-stream' };

const create = async (token: string, body: Record<string, unknown>) => {
  const r = await http.post('/image/v2/images', { token, body });
  if (r.status !== 201) throw new Error(`create: ${r.status} ${r.text}`);
  return r;
};

t.test('version discovery under /image', async (t) => {
  const r = await http.get('/image');
  t.equal(r.status, 300, 'Multiple Choices, as Glance');
  t.equal(r.body.versions[0].id, 'v2.9');
  t.equal(r.body.versions[0].links[0].href, `${cluster.apiUrl}/image/v2/`);
  t.equal((await http.get('/image/versions')).status, 200);
});

t.test('create: 201 queued, owned by the project, with Location and Glance’s fields', async (t) => {
  const r = await create(a.token, { name: 'ubuntu', disk_format: 'qcow2', container_format: 'bare', tags: ['lts', 'lts'], hw_architecture: 'x86_64', min_ram: 256 });
  const img = r.body;
  t.equal(img.status, 'queued');
  t.equal(img.owner, a.projectId);
  t.equal(img.visibility, 'shared', 'Glance’s default visibility');
  t.equal(img.size, null);
  t.equal(img.checksum, null);
  t.same(img.tags, ['lts'], 'tags deduplicated');
  t.equal(img.hw_architecture, 'x86_64', 'free-form properties at the top level');
  t.equal(img.self, `/v2/images/${img.id}`);
  t.equal(img.file, `/v2/images/${img.id}/file`);
  t.equal(r.headers.get('location'), `${cluster.apiUrl}/image/v2/images/${img.id}`);
  t.match(img.created_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const noFormats = await create(a.token, { name: 'later' });
  t.equal(noFormats.body.disk_format, null, 'formats may wait until the upload');
  t.equal((await http.post('/image/v2/images', { token: a.token, body: { name: 'pub', visibility: 'public' } })).status, 403, 'publicize_image is an admin’s');
  t.equal((await http.post('/image/v2/images', { token: a.token, body: { name: 'theirs', owner: b.projectId } })).status, 403);
});

t.test('upload and download: queued → active, size, md5 checksum, sha512 hash, streamed back intact', async (t) => {
  const img = (await create(a.token, { name: 'data', disk_format: 'raw', container_format: 'bare' })).body;
  const data = randomBytes(1_300_000);
  const up = await http.put(`/image/v2/images/${img.id}/file`, { token: a.token, raw: data, headers: OCTET });
  t.equal(up.status, 204);
  const after = (await http.get(`/image/v2/images/${img.id}`, { token: a.token })).body;
  t.equal(after.status, 'active');
  t.equal(after.size, data.length);
  t.equal(after.checksum, createHash('md5').update(data).digest('hex'));
  t.equal(after.os_hash_algo, 'sha512');
  t.equal(after.os_hash_value, createHash('sha512').update(data).digest('hex'));
  const down = await fetch(`${cluster.apiUrl}/image/v2/images/${img.id}/file`, { headers: { 'X-Auth-Token': a.token } });
  t.equal(down.status, 200);
  t.equal(down.headers.get('content-type'), 'application/octet-stream');
  t.equal(down.headers.get('content-md5'), after.checksum);
  t.equal(Number(down.headers.get('content-length')), data.length);
  const got = Buffer.from(await down.arrayBuffer());
  t.ok(got.equals(data), 'the same bytes come back');
  const again = await http.put(`/image/v2/images/${img.id}/file`, { token: a.token, raw: data, headers: OCTET });
  t.equal(again.status, 409, 'an active image takes no second upload');
  const empty = (await create(a.token, { name: 'nodata', disk_format: 'raw', container_format: 'bare' })).body;
  t.equal((await http.get(`/image/v2/images/${empty.id}/file`, { token: a.token })).status, 204, 'no data yet: 204');
  const seeded = (await cluster.client.listImages())[0]!;
  t.equal((await http.get(`/image/v2/images/${seeded.id}/file`, { token: a.token })).status, 204, 'a registered image without data: 204');
  t.equal((await http.put(`/image/v2/images/${img.id}/file`, { token: b.token, raw: data, headers: OCTET })).status, 404, 'another project’s image is not there');
});

t.test('an upload beyond the size cap is 413 and leaves the image queued', async (t) => {
  const img = (await create(a.token, { name: 'big', disk_format: 'raw', container_format: 'bare' })).body;
  const r = await http.put(`/image/v2/images/${img.id}/file`, { token: a.token, raw: randomBytes(CAP + 1), headers: OCTET });
  t.equal(r.status, 413);
  t.equal(r.body.overLimit.code, 413);
  t.equal((await http.get(`/image/v2/images/${img.id}`, { token: a.token })).body.status, 'queued');
  const fits = await http.put(`/image/v2/images/${img.id}/file`, { token: a.token, raw: randomBytes(1000), headers: OCTET });
  t.equal(fits.status, 204, 'and can be uploaded again');
});

t.test('JSON-patch updates and tags', async (t) => {
  const img = (await create(a.token, { name: 'p', disk_format: 'raw', container_format: 'bare', colour: 'blue' })).body;
  const r = await http.patch(`/image/v2/images/${img.id}`, {
    token: a.token, headers: PATCH,
    body: [
      { op: 'replace', path: '/name', value: 'patched' },
      { op: 'add', path: '/os_distro', value: 'debian' },
      { op: 'replace', path: '/colour', value: 'green' },
      { op: 'add', path: '/min_disk', value: 5 },
      { op: 'replace', path: '/disk_format', value: 'qcow2' },
    ],
  });
  t.equal(r.status, 200);
  t.equal(r.body.name, 'patched');
  t.equal(r.body.os_distro, 'debian');
  t.equal(r.body.colour, 'green');
  t.equal(r.body.min_disk, 5);
  t.equal(r.body.disk_format, 'qcow2');
  const removed = await http.patch(`/image/v2/images/${img.id}`, { token: a.token, headers: PATCH, body: [{ op: 'remove', path: '/colour' }] });
  t.notOk('colour' in removed.body);
  t.equal((await http.put(`/image/v2/images/${img.id}/tags/golden`, { token: a.token })).status, 204);
  t.equal((await http.put(`/image/v2/images/${img.id}/tags/golden`, { token: a.token })).status, 204, 'idempotent');
  t.same((await http.get(`/image/v2/images/${img.id}`, { token: a.token })).body.tags, ['golden']);
  t.equal((await http.delete(`/image/v2/images/${img.id}/tags/golden`, { token: a.token })).status, 204);
  t.equal((await http.delete(`/image/v2/images/${img.id}/tags/golden`, { token: a.token })).status, 404);
  t.equal((await http.patch(`/image/v2/images/${img.id}`, { token: a.token, headers: PATCH, body: [{ op: 'replace', path: '/visibility', value: 'public' }] })).status, 403);
  t.equal((await http.patch(`/image/v2/images/${img.id}`, { token: admin, headers: PATCH, body: [{ op: 'replace', path: '/visibility', value: 'public' }] })).body.visibility, 'public', 'an admin may publish');
  t.equal((await http.patch(`/image/v2/images/${img.id}`, { token: b.token, headers: PATCH, body: [{ op: 'replace', path: '/name', value: 'mine' }] })).status, 403, 'visible to B, but not B’s to change');
});

t.test('listing: visibility per project, filters, sort keys and paging', async (t) => {
  const names = (r: { body: { images: { name: string }[] } }) => r.body.images.map((i) => i.name);
  const ofA = names(await http.get('/image/v2/images?limit=100', { token: a.token }));
  const ofB = names(await http.get('/image/v2/images?limit=100', { token: b.token }));
  t.ok(ofA.includes('ubuntu') && !ofB.includes('ubuntu'), 'a project’s own images are its own');
  t.ok(ofB.includes('patched') && ofB.includes('cirros-0.6.2'), 'public images are everyone’s');
  const community = (await create(a.token, { name: 'comm', visibility: 'community' })).body;
  t.notOk(names(await http.get('/image/v2/images?limit=100', { token: b.token })).includes('comm'), 'community images are not listed by default');
  t.ok(names(await http.get('/image/v2/images?visibility=community', { token: b.token })).includes('comm'));
  t.equal((await http.get(`/image/v2/images/${community.id}`, { token: b.token })).status, 200, 'but are visible');
  const hidden = (await create(a.token, { name: 'hidden', os_hidden: true })).body;
  t.notOk(names(await http.get('/image/v2/images?limit=100', { token: a.token })).includes('hidden'), 'os_hidden images are left out');
  t.ok(names(await http.get('/image/v2/images?os_hidden=true', { token: a.token })).includes('hidden'));
  t.equal((await http.get(`/image/v2/images/${hidden.id}`, { token: a.token })).status, 200);

  t.same(names(await http.get('/image/v2/images?status=active&disk_format=raw', { token: a.token })).sort(), ['big', 'data']);
  t.same(names(await http.get('/image/v2/images?tag=lts', { token: a.token })), ['ubuntu']);
  t.same(names(await http.get('/image/v2/images?hw_architecture=x86_64', { token: a.token })), ['ubuntu'], 'unknown parameters filter on properties');
  t.same(names(await http.get('/image/v2/images?size_min=1000000&size_max=2000000', { token: a.token })), ['data']);
  const dataSize = (await http.get('/image/v2/images?name=data', { token: a.token })).body.images[0].size;
  t.same(names(await http.get(`/image/v2/images?size=${dataSize}`, { token: a.token })), ['data'], 'an exact size (Tempest lists by it)');
  t.same(names(await http.get(`/image/v2/images?size=${dataSize}&size_max=${dataSize - 1}`, { token: a.token })), [], 'within the other bounds');
  const byName = names(await http.get('/image/v2/images?sort_key=name&sort_dir=asc&limit=100', { token: a.token }));
  t.same(byName, [...byName].sort(), 'sort_key=name asc');
  const newSyntax = names(await http.get('/image/v2/images?sort=name:desc&limit=100', { token: a.token }));
  t.same(newSyntax, [...byName].reverse(), 'sort=name:desc');
  const seen: string[] = [];
  let next: string | undefined = '/v2/images?limit=2&sort_key=name&sort_dir=asc';
  while (next) {
    const page: { body: { images: { name: string }[]; next?: string } } = await http.get(`/image${next}`, { token: a.token });
    seen.push(...page.body.images.map((i) => i.name));
    next = page.body.next;
  }
  t.same(seen, byName, 'paging by marker visits each image once, in order');
});

t.test('an empty image id (GET or DELETE /v2/images/) is a 404, not the list', async (t) => {
  for (const method of ['get', 'delete'] as const) {
    const r = await http[method]('/image/v2/images/', { token: a.token });
    t.equal(r.status, 404, `${method}: ${r.text}`);
    t.equal(fault(r)?.code, 404);
  }
  const list = await http.get('/image/v2/images?limit=1', { token: a.token });
  t.equal(list.status, 200, 'the list without the slash is unchanged');
});

t.test('deactivate/reactivate (the owner or an admin) and delete', async (t) => {
  const img = (await create(a.token, { name: 'lifecycle', disk_format: 'raw', container_format: 'bare' })).body;
  await http.put(`/image/v2/images/${img.id}/file`, { token: a.token, raw: Buffer.from('tiny image'), headers: OCTET });
  t.equal((await http.post(`/image/v2/images/${img.id}/actions/deactivate`, { token: b.token })).status, 404, 'not B’s to see');
  t.equal((await http.post(`/image/v2/images/${img.id}/actions/deactivate`, { token: a.token })).status, 204, 'the owner may (Glance’s default)');
  t.equal((await http.get(`/image/v2/images/${img.id}`, { token: a.token })).body.status, 'deactivated');
  t.equal((await http.get(`/image/v2/images/${img.id}/file`, { token: a.token })).status, 403, 'no download while deactivated');
  t.equal((await http.get(`/image/v2/images/${img.id}/file`, { token: admin })).status, 200, 'except for an admin');
  t.equal((await http.post(`/image/v2/images/${img.id}/actions/reactivate`, { token: admin })).status, 204);
  t.equal((await http.get(`/image/v2/images/${img.id}`, { token: a.token })).body.status, 'active');
  t.equal((await http.delete(`/image/v2/images/${img.id}`, { token: b.token })).status, 404, 'not B’s to see');
  t.equal((await http.delete(`/image/v2/images/${img.id}`, { token: a.token })).status, 204);
  t.equal((await http.get(`/image/v2/images/${img.id}`, { token: a.token })).status, 404);
  t.equal((await http.delete(`/image/v2/images/${img.id}`, { token: a.token })).status, 404);
  const row = await cluster.orm!.em.fork().findOneOrFail(Image, { id: img.id });
  t.equal(row.status, 'deleted', 'the row says deleted');
});

t.test('a server boots from an uploaded image; another project’s private image is refused', async (t) => {
  const img = (await create(a.token, { name: 'bootable', disk_format: 'raw', container_format: 'bare' })).body;
  await http.put(`/image/v2/images/${img.id}/file`, { token: a.token, raw: randomBytes(4096), headers: OCTET });
  const mine = await http.post('/v2.1/servers', { token: a.token, body: { server: { name: 'from-upload', flavorRef: '1', imageRef: img.id } } });
  t.equal(mine.status, 202);
  await cluster.client.waitForServer(mine.body.server.id, (s) => s.status === 'ACTIVE');
  const theirs = await http.post('/v2.1/servers', { token: b.token, body: { server: { name: 'x', flavorRef: '1', imageRef: img.id } } });
  t.equal(theirs.status, 400);
  t.match(theirs.body.badRequest.message, /Image .* could not be found/);
  const queued = (await create(a.token, { name: 'unready', disk_format: 'raw', container_format: 'bare' })).body;
  t.equal((await http.post('/v2.1/servers', { token: a.token, body: { server: { name: 'x', flavorRef: '1', imageRef: queued.id } } })).status, 400, 'a queued image is not bootable');
});

t.test('schemas: image and images describe what the API answers', async (t) => {
  const image = await http.get('/image/v2/schemas/image', { token: a.token });
  t.equal(image.status, 200);
  t.equal(image.body.name, 'image');
  const shown = (await create(a.token, { name: 'schema-check' })).body;
  t.same(Object.keys(shown).filter((k) => !(k in image.body.properties)), [], 'every attribute of an image is in its schema');
  const images = await http.get('/image/v2/schemas/images', { token: a.token });
  t.equal(images.body.name, 'images');
  t.same(images.body.properties.images.items.properties, image.body.properties);
  t.equal((await http.get('/image/v2/schemas/image')).status, 401, 'a token is needed');
});
