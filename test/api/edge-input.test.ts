/**
 * The REST edge refuses hostile text once for every API (review L1, and C1's trigger): NUL, CR, LF,
 * other C0 and C1 controls, lone surrogates and invalid UTF-8 in a path segment, a query parameter
 * or a body string are a 400 fault body, never a 500, and the cluster keeps answering. And no
 * server-side failure tells a client its internals (M9): a 500 says "An unexpected error
 * occurred." with the request id (the detail is in the log under that id), and a server's fault
 * shows a non-admin no host names, subjects or driver text.
 */
import t, { type Test } from 'tap';
import { Backend } from '../../actors/api/backend.js';
import { generateRsaKeyPair } from '../../actors/api/compute/keypair-keys.js';
import { FakeDriver } from '../../hosts/fake/fake-driver.js';
import { InternalError, UnavailableError } from '../../protocols/errors.js';
import { createLogger } from '../../runtime/log/logger.js';
import { fault, startApiCluster, waitForServer, type Answer, type Http } from '../harness/api-http.js';

const logged: Record<string, unknown>[] = [];
const drivers = [new FakeDriver({ hostname: 'compute-1' }), new FakeDriver({ hostname: 'compute-2' })];
const { cluster, http, admin } = await startApiCluster(t, {
  hosts: drivers.map((driver, i) => ({ name: `compute-${i + 1}`, driver })),
  logger: createLogger('warn', (line) => logged.push(line)),
});
const image = (await cluster.client.listImages())[0]!;
const alice = await http.member(admin, 'acme', 'alice', 'member');

/** Hostile characters as they appear percent-encoded in a URL and as they appear in a JSON string. */
const HOSTILE: { what: string; url: string; json: string }[] = [
  { what: 'NUL', url: '%00', json: '\u0000' },
  { what: 'LF', url: '%0A', json: '\n' },
  { what: 'CR', url: '%0D', json: '\r' },
  { what: 'ESC (C0)', url: '%1B', json: '\u001b' },
  { what: 'DEL', url: '%7F', json: '\u007f' },
  { what: 'NEL (C1)', url: '%C2%85', json: '\u0085' },
  { what: 'a lone surrogate', url: '%ED%A0%80', json: '\ud800' },
];

function isBadRequest(t: Test, a: Answer, what: string, style: 'nova' | 'keystone' = 'nova'): void {
  t.equal(a.status, 400, `${what}: 400 (got ${a.status} ${a.text.slice(0, 120)})`);
  if (style === 'keystone') t.equal(a.body?.error?.code, 400, `${what}: Keystone error body`);
  else t.equal(fault(a)?.name, 'badRequest', `${what}: badRequest fault body`);
}

async function stillAnswers(t: Test, h: Http): Promise<void> {
  t.equal((await h.get('/v2.1/servers', { token: admin })).status, 200, 'compute still answers');
  t.equal((await h.get('/image/v2/images', { token: admin })).status, 200, 'image still answers');
  t.equal((await h.get('/v3/projects', { token: admin })).status, 200, 'identity still answers');
}

const server = (await http.post('/v2.1/servers', { token: alice.token, body: { server: { name: 'target', flavorRef: '1', imageRef: image.id } } })).body.server;
await waitForServer(cluster, server.id, (s) => s.status === 'ACTIVE');
const own = (await http.post('/image/v2/images', { token: alice.token, body: { name: 'own', disk_format: 'qcow2', container_format: 'bare' } })).body;

t.test('hostile characters in path segments are a 400 on every API', async (t) => {
  for (const h of HOSTILE) {
    const x = `a${h.url}b`;
    isBadRequest(t, await http.get(`/v2.1/flavors/${x}`, { token: alice.token }), `flavor id with ${h.what}`);
    isBadRequest(t, await http.get(`/v2.1/os-keypairs/${x}`, { token: alice.token }), `key pair name with ${h.what}`);
    isBadRequest(t, await http.delete(`/v2.1/servers/${server.id}/metadata/${x}`, { token: alice.token }), `metadata key with ${h.what}`);
    isBadRequest(t, await http.delete(`/image/v2/images/${own.id}/tags/${x}`, { token: alice.token }), `image tag with ${h.what}`);
    isBadRequest(t, await http.get(`/image/v2/images/${x}`, { token: alice.token }), `image id with ${h.what}`);
    isBadRequest(t, await http.get(`/v3/projects/${x}`, { token: admin }), `project id with ${h.what}`, 'keystone');
    isBadRequest(t, await http.get(`/v3/users/${x}`, { token: admin }), `user id with ${h.what}`, 'keystone');
  }
  isBadRequest(t, await http.get('/v2.1/flavors/a%FFb', { token: alice.token }), 'invalid UTF-8 in a path segment');
  await stillAnswers(t, http);
});

t.test('hostile characters in query parameters (names and values) are a 400 on every API', async (t) => {
  for (const h of [...HOSTILE, { what: 'invalid UTF-8', url: '%FF', json: '' }]) {
    const x = `a${h.url}b`;
    isBadRequest(t, await http.get(`/v2.1/servers?marker=${x}`, { token: alice.token }), `servers marker with ${h.what}`);
    isBadRequest(t, await http.get(`/v2.1/servers?name=(${x}`, { token: alice.token }), `servers name regex with ${h.what}`);
    isBadRequest(t, await http.get(`/v2.1/os-keypairs?user_id=${x}`, { token: alice.token }), `keypairs user_id with ${h.what}`);
    isBadRequest(t, await http.get(`/image/v2/images?name=${x}`, { token: alice.token }), `images name with ${h.what}`);
    isBadRequest(t, await http.get(`/image/v2/images?${x}=1`, { token: alice.token }), `image property filter named with ${h.what}`);
    isBadRequest(t, await http.get(`/v3/projects?name=${x}`, { token: admin }), `projects name with ${h.what}`, 'keystone');
  }
  await stillAnswers(t, http);
});

t.test('hostile characters in body strings (values and keys) are a 400 on every API, and nothing is written', async (t) => {
  const before = (await http.get('/image/v2/images', { token: alice.token })).body.images.length;
  for (const h of HOSTILE) {
    const x = `a${h.json}b`;
    isBadRequest(t, await http.post('/image/v2/images', { token: alice.token, body: { name: x } }), `image name with ${h.what} (the review's crash)`);
    isBadRequest(t, await http.post('/image/v2/images', { token: alice.token, body: { name: 'ok', [`p${h.json}`]: 'v' } }), `image property key with ${h.what}`);
    isBadRequest(t, await http.post('/image/v2/images', { token: alice.token, body: { name: 'ok', note: x } }), `image property value with ${h.what}`);
    isBadRequest(t, await http.patch(`/image/v2/images/${own.id}`, {
      token: alice.token, raw: JSON.stringify([{ op: 'add', path: `/a${h.json}b`, value: 'v' }]),
      headers: { 'Content-Type': 'application/openstack-images-v2.1-json-patch' },
    }), `JSON-patch path with ${h.what}`);
    isBadRequest(t, await http.post('/v2.1/servers', { token: alice.token, body: { server: { name: x, flavorRef: '1', imageRef: image.id } } }), `server name with ${h.what}`);
    isBadRequest(t, await http.put(`/v2.1/servers/${server.id}/metadata`, { token: alice.token, body: { metadata: { k: x } } }), `metadata value with ${h.what} (the review's SQL leak)`);
    isBadRequest(t, await http.put(`/v2.1/servers/${server.id}`, { token: alice.token, body: { server: { name: x } } }), `rename with ${h.what}`);
    isBadRequest(t, await http.post('/v3/projects', { token: admin, body: { project: { name: 'p', description: x } } }), `project description with ${h.what}`, 'keystone');
    isBadRequest(t, await http.post('/v3/auth/tokens', {
      body: { auth: { identity: { methods: ['password'], password: { user: { name: x, domain: { name: 'Default' }, password: 'pw' } } } } },
    }), `user name at login with ${h.what}`, 'keystone');
  }
  const raw = Buffer.concat([Buffer.from('{"name": "a'), Buffer.from([0xff, 0xfe]), Buffer.from('b"}')]);
  isBadRequest(t, await http.post('/image/v2/images', { token: alice.token, raw, headers: { 'Content-Type': 'application/json' } }), 'invalid UTF-8 in a JSON body');
  const deep = `{"name": "deep", "tags": ${'['.repeat(5_000)}"x"${']'.repeat(5_000)}}`;
  isBadRequest(t, await http.post('/image/v2/images', { token: alice.token, raw: deep, headers: { 'Content-Type': 'application/json' } }), 'JSON nested 5,000 deep');
  t.equal((await http.get('/image/v2/images', { token: alice.token })).body.images.length, before, 'no image was created');
  t.same((await http.get(`/v2.1/servers/${server.id}/metadata`, { token: alice.token })).body.metadata, {}, 'no metadata was written');
  await stillAnswers(t, http);
});

t.test('ordinary multi-line and non-ASCII text still passes', async (t) => {
  const { publicKey } = await generateRsaKeyPair();
  // `openstack keypair create --public-key FILE` sends the file as read, with its newline.
  const k = await http.post('/v2.1/os-keypairs', { token: alice.token, body: { keypair: { name: 'laptop', public_key: `${publicKey.line}\n` } } });
  t.equal(k.status, 200, 'a public key with its trailing newline is accepted');
  const named = await http.post('/image/v2/images', { token: alice.token, body: { name: 'Ubuntu 24.04 — jammy 🐧', note: 'café' } });
  t.equal(named.status, 201, 'non-ASCII names and properties are fine');
  t.equal(named.body.name, 'Ubuntu 24.04 — jammy 🐧');
});

t.test('server names follow Nova\'s name format: no leading or trailing whitespace', async (t) => {
  for (const [name, what] of [[' lead', 'a leading space'], ['trail ', 'a trailing space'], ['a\u2028b', 'a line separator']] as const) {
    const a = await http.post('/v2.1/servers', { token: alice.token, body: { server: { name, flavorRef: '1', imageRef: image.id } } });
    isBadRequest(t, a, what);
    t.match(fault(a)?.message, /An invalid 'name' value was provided/, `${what}: Nova's wording`);
  }
});

t.test('a 500 says only "An unexpected error occurred." with the request id; the detail is logged under it', async (t) => {
  const sql = 'insert into "images" ("id") values ($1) - invalid byte sequence; novact.host.compute-1.spawn';
  const originals = { images: Backend.prototype.images, flavors: Backend.prototype.flavors, usage: Backend.prototype.usage };
  t.teardown(() => Object.assign(Backend.prototype, originals));
  Backend.prototype.images = async () => { throw new InternalError(sql); };
  Backend.prototype.flavors = async () => { throw new TypeError(`cannot read properties of undefined (${sql})`); };
  Backend.prototype.usage = async () => { throw new UnavailableError('no service answers novact.conductor.usage'); };
  const cases: [string, string, number][] = [
    ['/image/v2/images', 'a typed computeFault from the image role', 500],
    ['/v2.1/flavors', 'a bug in the API (untyped error)', 500],
    ['/v2.1/limits', 'a role that does not answer (503)', 503],
  ];
  for (const [path, what, status] of cases) {
    const a = await http.get(path, { token: alice.token });
    const requestId = a.headers.get('x-openstack-request-id')!;
    t.equal(a.status, status, `${what}: ${status}`);
    const inner = Object.values(a.body as Record<string, { message: string; request_id: string }>)[0]!;
    if (status === 500) {
      t.equal(fault(a)?.name, 'computeFault');
      t.equal(inner.message, 'An unexpected error occurred.', `${what}: the generic text`);
    }
    t.equal(inner.request_id, requestId, `${what}: the request id is in the body`);
    t.notMatch(a.text, /insert into|novact\.|compute-1|SQL|undefined/, `${what}: no internals in the body`);
    t.ok(logged.some((l) => l.requestId === requestId && /insert into|novact\./.test(String(l.err))), `${what}: the detail is logged with the request id`);
  }
  Object.assign(Backend.prototype, originals);
  t.equal((await http.get('/image/v2/images', { token: alice.token })).status, 200, 'answers again once the backend is healthy');
});

t.test('a server fault shows a non-admin neither host names nor subjects; an admin sees the text', async (t) => {
  const internal = 'libvirt on compute-1: novact.host.compute-1.spawn refused (insert into "instances" failed)';
  // More failures than the build has attempts, so it ends in ERROR whichever host it tries.
  for (const d of drivers) d.faults.addRule({ op: 'spawn', action: 'fail', times: 3, message: internal });
  t.teardown(() => drivers.forEach((d) => d.faults.clear()));
  const s = (await http.post('/v2.1/servers', { token: alice.token, body: { server: { name: 'doomed', flavorRef: '1', imageRef: image.id } } })).body.server;
  await waitForServer(cluster, s.id, (x) => x.status !== 'BUILD');
  const mine = await http.get(`/v2.1/servers/${s.id}`, { token: alice.token });
  t.equal(mine.body.server.status, 'ERROR');
  t.equal(mine.body.server.fault.code, 500);
  t.notMatch(JSON.stringify(mine.body.server.fault), /compute-|novact\.|libvirt|insert/, 'the tenant sees no internals');
  t.ok(mine.body.server.fault.message.length > 0, 'but a message');
  const actions = await http.get(`/v2.1/servers/${s.id}/os-instance-actions`, { token: alice.token });
  t.notMatch(actions.text, /compute-|novact\.|libvirt|insert/, 'nor in the instance actions');
  const theirs = await http.get(`/v2.1/servers/${s.id}`, { token: admin });
  t.match(theirs.body.server.fault.message, /compute-1|libvirt/, 'an admin sees the recorded text');
});

t.test('server metadata is bounded in bytes even with an unlimited metadata_items quota', async (t) => {
  t.equal((await http.put(`/v2.1/os-quota-sets/${alice.projectId}`, { token: admin, body: { quota_set: { metadata_items: -1 } } })).status, 200);
  t.teardown(async () => void (await http.delete(`/v2.1/os-quota-sets/${alice.projectId}`, { token: admin })));
  const batch = (n: number) => ({ metadata: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${n}-${i}`.padEnd(255, 'k'), 'v'.repeat(255)])) });
  const answers = [];
  for (let n = 0; n < 4; n++) answers.push((await http.post(`/v2.1/servers/${server.id}/metadata`, { token: alice.token, body: batch(n) })).status);
  t.same(answers, [200, 200, 413, 413], 'merges stop once the metadata would pass 128 KiB');
  const kept = (await http.get(`/v2.1/servers/${server.id}/metadata`, { token: alice.token })).body.metadata;
  t.equal(Object.keys(kept).length, 200, 'what was refused was not written');
});
