/**
 * Glance's interoperable import over HTTP, against a cluster with three stores: `glance-direct`
 * (stage, then import into chosen stores), `copy-image` (an admin's), and `web-download` from a
 * local HTTP server the test runs — refused unless the allow-list permits the URL, and failing
 * cleanly (back to `queued`, `os_glance_failed_import`) on a redirect to a host off the list, on
 * data over the size cap and on a server that never finishes. Statuses, bodies, and isolation.
 */
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import { startApiCluster } from '../harness/api-http.js';
import { waitFor } from '../harness/poll.js';

const PAYLOAD = Buffer.from('novact image data '.repeat(4096));
const BIG = Buffer.alloc(256 * 1024, 7);
const web = createServer((req, res) => {
  const port = (web.address() as AddressInfo).port;
  if (req.url === '/image.raw') return res.end(PAYLOAD);
  if (req.url === '/hop') return res.writeHead(302, { location: '/image.raw' }).end();
  // `localhost` is not on the allow-list (only 127.0.0.1:<port> is).
  if (req.url === '/away') return res.writeHead(302, { location: `http://localhost:${port}/image.raw` }).end();
  if (req.url === '/big') return res.end(BIG);
  if (req.url === '/slow') return res.write('a little, then nothing');
  res.writeHead(404).end();
});
await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
t.teardown(() => new Promise<void>((r) => { web.closeAllConnections(); web.close(() => r()); }));
const base = `http://127.0.0.1:${(web.address() as AddressInfo).port}`;

const { http, admin } = await startApiCluster(t, {
  hosts: 1,
  image: {
    stores: [{ id: 'local', description: 'the default' }, { id: 'fast', description: 'fast disks' }, { id: 'cheap' }],
    import: { webDownloadAllow: [new URL(base).host], webDownloadTimeoutMs: 1500 },
    upload: { sizeCapBytes: 128 * 1024 },
  },
});
const owner = await http.member(admin, 'imp-owner', 'ivan', 'member');
const other = await http.member(admin, 'imp-other', 'olga2', 'member');
const OCTET = { 'Content-Type': 'application/octet-stream' };
const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

const create = async (name: string, token = owner.token) => {
  const r = await http.post('/image/v2/images', { token, body: { name, disk_format: 'raw', container_format: 'bare' } });
  if (r.status !== 201) throw new Error(`create: ${r.status} ${r.text}`);
  return r;
};
const show = async (id: string, token = owner.token) => (await http.get(`/image/v2/images/${id}`, { token })).body;
const importIt = (id: string, body: unknown, token = owner.token) => http.post(`/image/v2/images/${id}/import`, { token, body });
const settled = (id: string, want: (img: any) => boolean) => waitFor(`image ${id}`, async () => want(await show(id, admin)));

t.test('info: the import methods and the stores', async (t) => {
  const imp = await http.get('/image/v2/info/import', { token: owner.token });
  t.equal(imp.status, 200);
  t.same(imp.body['import-methods'].value, ['glance-direct', 'web-download', 'copy-image']);
  const stores = await http.get('/image/v2/info/stores', { token: owner.token });
  t.same(stores.body.stores, [{ id: 'local', description: 'the default', default: true }, { id: 'fast', description: 'fast disks' }, { id: 'cheap', description: 'cheap' }]);
  const created = await create('headers');
  t.equal(created.headers.get('openstack-image-import-methods'), 'glance-direct,web-download,copy-image');
  t.equal(created.headers.get('openstack-image-store-ids'), 'local,fast,cheap');
});

t.test('glance-direct: stage (queued → uploading), import into two stores (→ active), data intact', async (t) => {
  const id = (await create('direct')).body.id as string;
  t.equal((await importIt(id, { method: { name: 'glance-direct' } })).status, 409, 'nothing staged yet');
  const staged = await http.put(`/image/v2/images/${id}/stage`, { token: owner.token, raw: PAYLOAD, headers: OCTET });
  t.equal(staged.status, 204, staged.text);
  const mid = await show(id);
  t.equal(mid.status, 'uploading');
  t.equal(mid.size, null, 'no size until imported');
  t.equal((await http.put(`/image/v2/images/${id}/stage`, { token: owner.token, raw: PAYLOAD, headers: OCTET })).status, 409, 'staged once');
  t.equal((await http.put(`/image/v2/images/${id}/file`, { token: owner.token, raw: PAYLOAD, headers: OCTET })).status, 409, 'no upload while uploading');
  t.equal((await importIt(id, { method: { name: 'glance-direct' } }, other.token)).status, 404, 'another project does not see it');
  t.equal((await importIt(id, { method: { name: 'glance-direct' }, stores: ['nowhere'] })).status, 409, 'unknown store');
  t.equal((await importIt(id, { method: { name: 'glance-direct', uri: `${base}/x` } })).status, 400, 'a uri only for web-download');
  t.equal((await importIt(id, { method: { name: 'glance-direct' }, stores: ['fast'], all_stores: true })).status, 400);
  t.equal((await importIt(id, { method: { name: 'teleport' } })).status, 400);

  const r = await importIt(id, { method: { name: 'glance-direct' }, stores: ['fast', 'cheap'] });
  t.equal(r.status, 202, r.text);
  await settled(id, (img) => img.status === 'active');
  const img = await show(id);
  t.equal(img.stores, 'fast,cheap');
  t.equal(img.size, PAYLOAD.length);
  t.equal(img.checksum, md5(PAYLOAD));
  t.notOk('os_glance_importing_to_stores' in img, 'no import in progress');
  const down = await http.get(`/image/v2/images/${id}/file`, { token: owner.token });
  t.equal(down.text, PAYLOAD.toString(), 'the data, as staged');
  t.equal((await importIt(id, { method: { name: 'glance-direct' } })).status, 409, 'an active image takes no import');
});

t.test('copy-image: admins copy active data into more stores', async (t) => {
  const id = (await create('copy')).body.id as string;
  t.equal((await http.put(`/image/v2/images/${id}/file`, { token: owner.token, raw: PAYLOAD, headers: OCTET })).status, 204);
  t.equal((await show(id)).stores, 'local', 'an upload goes to the default store');
  t.equal((await importIt(id, { method: { name: 'copy-image' }, stores: ['cheap'] })).status, 403, 'not the owner’s call');
  t.equal((await importIt(id, { method: { name: 'copy-image' }, stores: ['local'] }, admin)).status, 400, 'already there');
  t.equal((await importIt(id, { method: { name: 'copy-image' }, stores: ['cheap'] }, admin)).status, 202);
  await settled(id, (img) => img.stores === 'local,cheap' && !img.os_glance_importing_to_stores);
  t.equal((await show(id)).status, 'active', 'active throughout');
  t.equal((await importIt(id, { method: { name: 'copy-image' }, all_stores: true }, admin)).status, 202);
  await settled(id, (img) => img.stores === 'local,cheap,fast');
  const queued = (await create('copy-queued')).body.id as string;
  t.equal((await importIt(queued, { method: { name: 'copy-image' }, stores: ['fast'] }, admin)).status, 409, 'only active images are copied');
  t.equal((await http.delete(`/image/v2/images/${id}`, { token: owner.token })).status, 204, 'deleted from every store');
});

t.test('web-download: only allow-listed http(s) URLs, failures back to queued', async (t) => {
  const refused = async (uri: string) => {
    const id = (await create('refused')).body.id as string;
    const r = await importIt(id, { method: { name: 'web-download', uri } });
    t.equal(r.status, 400, uri);
    t.match(r.text, /does not pass filtering/);
    t.equal((await show(id)).status, 'queued', 'nothing changed');
  };
  await refused(`http://localhost:${new URL(base).port}/image.raw`);
  await refused(`http://127.0.0.1:1/image.raw`);
  await refused('file:///etc/passwd');
  await refused(`ftp://${new URL(base).host}/image.raw`);
  await refused(`http://user:pw@${new URL(base).host}/image.raw`);
  const noUri = (await create('no-uri')).body.id as string;
  t.equal((await importIt(noUri, { method: { name: 'web-download' } })).status, 400);

  const ok = (await create('fetched')).body.id as string;
  t.equal((await importIt(ok, { method: { name: 'web-download', uri: `${base}/hop` } })).status, 202, 'allowed, with a redirect on the same host');
  t.equal((await importIt(ok, { method: { name: 'web-download', uri: `${base}/hop` } })).status, 409, 'one import at a time');
  await settled(ok, (img) => img.status === 'active');
  t.match(await show(ok), { size: PAYLOAD.length, checksum: md5(PAYLOAD), stores: 'local' });

  for (const [path, why] of <[string, string][]>[['/away', 'a redirect off the list'], ['/big', 'over the size cap'], ['/slow', 'a server that never finishes'], ['/missing', 'a 404']]) {
    const id = (await create(`fails-${path}`)).body.id as string;
    t.equal((await importIt(id, { method: { name: 'web-download', uri: `${base}${path}` } })).status, 202, why);
    await settled(id, (img) => img.status !== 'importing');
    const img = await show(id);
    t.equal(img.status, 'queued', `${why}: back to queued`);
    t.equal(img.os_glance_failed_import, 'local', `${why}: the failed store named`);
  }
});
