/**
 * The compute API's image proxy (`/v2.1/images…`, up to microversion 2.35, 404 above), answered
 * from the image role in Nova's image view; its metadata calls (owner only, within
 * `metadata_items`). Also two of issue 11's small gaps: every API takes `Content-Type:
 * application/json` with an empty body on GET/DELETE/PUT-without-body (what Tempest's client
 * sends), and key pairs keep their `type` (2.2; `x509` imports a PEM certificate or generates one).
 */
import t from 'tap';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { fault, startApiCluster } from '../harness/api-http.js';

const { cluster, http, admin } = await startApiCluster(t, { hosts: 1 });
const pub = (await cluster.client.listImages())[0]!;
const alice = await http.member(admin, 'img-a', 'alice', 'member');
const bob = await http.member(admin, 'img-b', 'bob', 'member');
const mv = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });
/** What Tempest's REST client sends on a call without a body. */
const EMPTY_JSON = { raw: '', headers: { 'Content-Type': 'application/json' } };

const own = (await http.post('/image/v2/images', { token: alice.token, body: { name: 'alices', disk_format: 'raw', container_format: 'bare', colour: 'blue' } })).body;
const meta = `/v2.1/images/${own.id}/metadata`;

t.test('list, detail and show in Nova’s image view', async (t) => {
  const brief = await http.get('/v2.1/images', { token: alice.token });
  t.equal(brief.status, 200);
  const b = brief.body.images.find((i: { id: string }) => i.id === pub.id);
  t.same(Object.keys(b).sort(), ['id', 'links', 'name']);
  t.same(b.links.map((l: { rel: string }) => l.rel), ['self', 'bookmark', 'alternate']);
  t.equal(b.links[0].href, `${cluster.apiUrl}/v2.1/images/${pub.id}`);
  t.equal(b.links[2].href, `${cluster.apiUrl}/image/images/${pub.id}`);

  const detail = (await http.get('/v2.1/images/detail', { token: alice.token })).body.images;
  const d = detail.find((i: { id: string }) => i.id === pub.id);
  t.equal(d.status, 'ACTIVE');
  t.equal(d.progress, 100);
  t.equal(d.minDisk, pub.minDiskGb);
  t.equal(d.minRam, pub.minRamMb);
  t.equal(d['OS-EXT-IMG-SIZE:size'], pub.sizeBytes);
  t.match(d.created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const mine = detail.find((i: { id: string }) => i.id === own.id);
  t.equal(mine.status, 'SAVING', 'a queued image is SAVING');
  t.equal(mine.progress, 25);
  t.same(mine.metadata, { colour: 'blue' });
  t.notOk((await http.get('/v2.1/images/detail', { token: bob.token })).body.images.some((i: { id: string }) => i.id === own.id), 'another project’s private image is not listed');

  const shown = await http.get(`/v2.1/images/${pub.id}`, { token: alice.token });
  t.equal(shown.status, 200);
  t.equal(shown.body.image.id, pub.id);
  const missing = await http.get('/v2.1/images/5d9f8f50-6f0b-4b0e-9f57-1d3a4e9e2b11', { token: alice.token });
  t.equal(missing.status, 404);
  t.equal(fault(missing)?.name, 'itemNotFound');
  t.equal((await http.get(`/v2.1/images/${own.id}`, { token: bob.token })).status, 404);
  t.equal((await http.get(`/v2.1/images/${pub.id}`, { token: alice.token, headers: mv('2.35') })).status, 200);
  t.equal((await http.get(`/v2.1/images/${pub.id}`, { token: alice.token, headers: mv('2.36') })).status, 404, 'gone above 2.35');
  t.equal((await http.get('/v2.1/images', { token: alice.token, headers: mv('2.36') })).status, 404);
});

t.test('image metadata: read, replace, merge, one key; owner only; within metadata_items', async (t) => {
  t.same((await http.get(meta, { token: alice.token })).body, { metadata: { colour: 'blue' } });
  t.same((await http.put(meta, { token: alice.token, body: { metadata: { a: '1', b: '2' } } })).body, { metadata: { a: '1', b: '2' } }, 'replace drops colour');
  t.same((await http.post(meta, { token: alice.token, body: { metadata: { c: '3' } } })).body, { metadata: { a: '1', b: '2', c: '3' } });
  t.same((await http.get(`${meta}/b`, { token: alice.token })).body, { meta: { b: '2' } });
  t.equal((await http.get(`${meta}/zz`, { token: alice.token })).status, 404);
  t.same((await http.put(`${meta}/b`, { token: alice.token, body: { meta: { b: '20' } } })).body, { meta: { b: '20' } });
  t.equal((await http.put(`${meta}/b`, { token: alice.token, body: { meta: { x: '1' } } })).status, 400, 'URI and body must agree');
  t.equal((await http.delete(`${meta}/a`, { token: alice.token, ...EMPTY_JSON })).status, 204);
  t.equal((await http.delete(`${meta}/a`, { token: alice.token })).status, 404);
  t.same((await http.get(meta, { token: alice.token })).body.metadata, { b: '20', c: '3' });
  t.same((await http.get(`/image/v2/images/${own.id}`, { token: alice.token })).body.c, '3', 'Glance sees the same properties');

  const theirs = await http.post(`/v2.1/images/${pub.id}/metadata`, { token: alice.token, body: { metadata: { x: '1' } } });
  t.equal(theirs.status, 403, 'a public image is not the member’s to change');
  t.equal((await http.post(meta, { token: bob.token, body: { metadata: { x: '1' } } })).status, 404, 'another project’s image is not there');

  await http.put(`/v2.1/os-quota-sets/${alice.projectId}`, { token: admin, body: { quota_set: { metadata_items: 3 } } });
  const over = await http.post(meta, { token: alice.token, body: { metadata: { d: '4', e: '5' } } });
  t.equal(over.status, 403);
  t.match(fault(over)?.message, /metadata_items/);
  t.same((await http.get(meta, { token: alice.token })).body.metadata, { b: '20', c: '3' }, 'nothing was written');
});

t.test('delete: owner only, 204, then 404', async (t) => {
  t.equal((await http.delete(`/v2.1/images/${pub.id}`, { token: alice.token })).status, 403);
  const gone = await http.delete(`/v2.1/images/${own.id}`, { token: alice.token, ...EMPTY_JSON });
  t.equal(gone.status, 204, gone.text);
  t.equal((await http.get(`/v2.1/images/${own.id}`, { token: alice.token })).status, 404);
});

t.test('an empty image id is a 404 fault, not the list\'s 405; the list still answers with a trailing slash', async (t) => {
  const blank = await http.delete('/v2.1/images/', { token: alice.token });
  t.equal(blank.status, 404, blank.text);
  t.equal(fault(blank)?.name, 'itemNotFound');
  const list = await http.get('/v2.1/images/', { token: alice.token });
  t.equal(list.status, 200, 'GET of the collection with a trailing slash is unchanged');
  t.ok(Array.isArray(list.body.images));
});

t.test('an empty JSON body is no body, on every API', async (t) => {
  const k = await http.post('/v2.1/os-keypairs', { token: alice.token, headers: mv('2.2'), body: { keypair: { name: 'k-empty' } } });
  t.equal(k.status, 201);
  const calls: [string, string, number][] = [
    ['GET', '/v2.1/servers', 200],
    ['DELETE', '/v2.1/os-keypairs/k-empty', 202],
    ['GET', '/v3/projects', 200],
    ['GET', '/image/v2/images', 200],
  ];
  for (const [method, path, status] of calls) {
    // fetch sends no body at all with a GET; a DELETE carries the empty one (Content-Length: 0).
    const empty = method === 'GET' ? { headers: EMPTY_JSON.headers } : EMPTY_JSON;
    const a = await http.call(method, path, { token: path.startsWith('/v3') ? admin : alice.token, ...empty });
    t.equal(a.status, status, `${method} ${path}: ${a.text.slice(0, 120)}`);
  }
  const img = (await http.post('/image/v2/images', { token: alice.token, body: { name: 'to-delete' } })).body;
  t.equal((await http.delete(`/image/v2/images/${img.id}`, { token: alice.token, ...EMPTY_JSON })).status, 204, 'Glance DELETE');
  const token = await http.token('alice', alice.password, 'img-a');
  t.equal((await http.delete('/v3/auth/tokens', { token: admin, raw: '', headers: { 'Content-Type': 'application/json', 'X-Subject-Token': token } })).status, 204, 'Keystone DELETE');
  const body = await http.post('/v2.1/os-keypairs', { token: alice.token, ...EMPTY_JSON });
  t.equal(body.status, 400, 'a route that needs a body still refuses none');
  t.equal(fault(body)?.name, 'badRequest');
});

const CERT = `-----BEGIN CERTIFICATE-----
MIIBgzCCASmgAwIBAgIUE5TCRAzVejA4WDO9cWUrwcGBYt4wCgYIKoZIzj0EAwIw
FjEUMBIGA1UEAwwLbm92YWN0LXRlc3QwIBcNMjYxMjAxMTI0ODQ4WhgPMjEyNjEx
MDcxMjQ4NDhaMBYxFDASBgNVBAMMC25vdmFjdC10ZXN0MFkwEwYHKoZIzj0CAQYI
KoZIzj0DAQcDQgAEyPe39i+kTpfDL3aUtYhSjBfDFpdz7dekyBVtaayUBu/ql1pL
sqMZYNNxRojK6GVY4h3iuTYzjDmZ5XPGx6AVWqNTMFEwHQYDVR0OBBYEFFTZY89g
NLreP5eFiiyudKEzLUZtMB8GA1UdIwQYMBaAFFTZY89gNLreP5eFiiyudKEzLUZt
MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSAAwRQIgAhUtNEt1WZw83oSy
eBW8QUSovi97o4lsaIGr3YeeHg4CIQDEX4eQoFrkmyLAwvlXkyJuZv2gF8J+lksi
wzPoAzsXRQ==
-----END CERTIFICATE-----
`;

t.test('key pair type (2.2): x509 certificates are imported and keep their type', async (t) => {
  const v22 = mv('2.2');
  const a = await http.post('/v2.1/os-keypairs', { token: alice.token, headers: v22, body: { keypair: { name: 'cert', type: 'x509', public_key: CERT } } });
  t.equal(a.status, 201, a.text);
  t.equal(a.body.keypair.type, 'x509');
  t.equal(a.body.keypair.fingerprint, '96:2c:aa:37:1d:9f:c6:70:ed:fb:3e:f1:67:1d:96:35:6a:64:0d:7c', 'SHA-1 of the certificate');
  t.equal((await http.get('/v2.1/os-keypairs/cert', { token: alice.token, headers: v22 })).body.keypair.type, 'x509');
  const listed = (await http.get('/v2.1/os-keypairs', { token: alice.token, headers: v22 })).body.keypairs.map((k: { keypair: { name: string; type: string } }) => k.keypair);
  t.same(listed.find((k: { name: string }) => k.name === 'cert')?.type, 'x509');
  t.equal((await http.post('/v2.1/os-keypairs', { token: alice.token, headers: v22, body: { keypair: { name: 'bad', type: 'x509', public_key: 'ssh-rsa AAAA' } } })).status, 400, 'not a certificate');
  const gen = await http.post('/v2.1/os-keypairs', { token: alice.token, headers: v22, body: { keypair: { name: 'gen', type: 'x509' } } });
  t.equal(gen.status, 201, 'an x509 pair is generated when no certificate is given');
  const cert = new X509Certificate(gen.body.keypair.public_key);
  t.equal(cert.subject, `CN=${alice.userId}`, "for the user, as Nova's WinRM certificates are");
  t.match(cert.subjectAltName, `${alice.userId}@localhost`);
  t.ok(cert.checkPrivateKey(createPrivateKey(gen.body.keypair.private_key)), 'the private key is the certificate\'s');
  t.equal(gen.body.keypair.fingerprint, cert.fingerprint.toLowerCase(), 'fingerprinted as an imported one');
  t.equal((await http.get('/v2.1/os-keypairs/gen', { token: alice.token, headers: v22 })).body.keypair.public_key, gen.body.keypair.public_key);
  t.notOk('private_key' in (await http.get('/v2.1/os-keypairs/gen', { token: alice.token, headers: v22 })).body.keypair, 'the private key is shown once');
  t.equal((await http.post('/v2.1/os-keypairs', { token: alice.token, body: { keypair: { name: 'old', type: 'ssh' } } })).status, 400, 'type needs 2.2');
  t.notOk('type' in (await http.get('/v2.1/os-keypairs/cert', { token: alice.token })).body.keypair, 'no type shown at 2.1');
});
