/**
 * The dashboard's server side: the live feed (`/dashboard/api/events`) needs a Keystone token,
 * forwards each viewer only what it may see (a member: its own project's servers without host names,
 * public or own images, no host services; an admin: everything), sends heartbeats, drops a client
 * that stops reading without holding the bus, and forgets a stream when its peer goes. The static
 * handler serves only the built files, with their media types, and refuses everything else.
 */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import Fastify from 'fastify';
import t from 'tap';
import { loadBundle } from '../../actors/api/dashboard/bundle.js';
import { EventFeed } from '../../actors/api/dashboard/event-feed.js';
import { createLogger } from '../../runtime/log/logger.js';
import { staticRoutes } from '../../actors/api/dashboard/routes.js';
import { startApiCluster, waitForServer } from '../harness/api-http.js';
import { ensureDashboardBuilt, readFeed } from '../harness/dashboard.js';
import { waitFor } from '../harness/poll.js';
import { until } from '../harness/poll.js';

ensureDashboardBuilt();
const { cluster, http: api, admin } = await startApiCluster(t, { api: { dashboard: { feed: { heartbeatMs: 200 } } } });
const base = cluster.apiUrl!;
const feed = cluster.api!.feed;
const image = (await cluster.client.listImages())[0]!;
const alice = await api.member(admin, 'acme', 'alice', 'member');
const bob = await api.member(admin, 'beta', 'bob', 'member');
const boot = async (token: string, name: string) => {
  const a = await api.post('/v2.1/servers', { token, body: { server: { name, flavorRef: '1', imageRef: image.id } } });
  if (a.status !== 202) throw new Error(`boot ${name}: ${a.status} ${a.text}`);
  return a.body.server.id as string;
};
/** An HTTP request with the path sent exactly as written (fetch would normalise `..`). */
const raw = (path: string) => new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
  const u = new URL(base);
  http.get({ host: u.hostname, port: u.port, path, headers: { Accept: 'application/json' } }, (res) => {
    let body = '';
    res.on('data', (d) => (body += d));
    res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
  }).on('error', reject);
});

t.test('the feed needs a valid token and takes no parameters', async (t) => {
  t.equal((await readFeed(base, undefined)).status, 401, 'no token');
  t.equal((await readFeed(base, 'gAAAAAnotatoken')).status, 401, 'an unknown token');
  const q = await fetch(`${base}/dashboard/api/events?token=${admin}`, { headers: { 'X-Auth-Token': admin } });
  t.equal(q.status, 400, 'a query parameter is refused');
  t.match(await q.json(), { badRequest: { code: 400 } });
  t.equal(feed.size, 0, 'no stream was opened');
  t.notOk(feed.subscribed, 'nor a bus subscription');
});

t.test('each viewer sees what it may, and only that', async (t) => {
  const [a, b, adm] = await Promise.all([readFeed(base, alice.token), readFeed(base, bob.token), readFeed(base, admin)]);
  t.teardown(() => [a, b, adm].forEach((r) => r.close()));
  for (const r of [a, b, adm]) t.equal(r.status, 200);
  await Promise.all([a, b, adm].map((r) => r.waitFor('hello', (e) => e.name === 'hello')));
  t.same(a.events[0]!.data, { projectId: alice.projectId, admin: false }, "alice's stream says whose it is");
  t.same(adm.events[0]!.data.admin, true);

  const bobs = await boot(bob.token, 'bob-web');
  const built = (r: typeof a, id: string) => r.waitFor(`create.end of ${id}`, (e) => e.name === 'instance' && e.data.server.id === id && e.data.event === 'create.end');
  const seenByBob = await built(b, bobs);
  const seenByAdmin = await built(adm, bobs);
  t.equal(seenByBob.data.server.status, 'ACTIVE');
  t.notOk('host' in seenByBob.data.server, 'a member is not told the host');
  t.same(Object.keys(seenByBob.data.server).sort(), ['flavor', 'id', 'imageId', 'name', 'powerState', 'projectId', 'status', 'taskState', 'updatedAt'], 'only the named fields');
  t.type(seenByAdmin.data.server.host, 'string', 'an admin is');

  // A host disabled and enabled again: admins hear it, members do not.
  const svc = (await api.get('/v2.1/os-services', { token: admin, headers: { 'OpenStack-API-Version': 'compute 2.53' } })).body.services[0];
  for (const status of ['disabled', 'enabled']) {
    t.equal((await api.put(`/v2.1/os-services/${svc.id}`, { token: admin, headers: { 'OpenStack-API-Version': 'compute 2.53' }, body: { status } })).status, 200);
  }
  await adm.waitFor('service enabled', (e) => e.name === 'service' && e.data.host === svc.host && e.data.status === 'enabled');

  // A private image of bob's project and a public one, published as the image role does.
  const subjects = cluster.subjects;
  const img = (id: string, visibility: string) => ({ image: { id, name: id.slice(0, 8), status: 'active', visibility, ownerProjectId: bob.projectId, diskFormat: 'raw' } });
  cluster.client.bridge.publish(subjects.event('image', '11111111-1111-4111-8111-111111111111', 'update'), img('11111111-1111-4111-8111-111111111111', 'private'));
  cluster.client.bridge.publish(subjects.event('image', '22222222-2222-4222-8222-222222222222', 'update'), img('22222222-2222-4222-8222-222222222222', 'public'));
  // Bodies that do not fit are dropped for everyone.
  cluster.client.bridge.publish(subjects.event('image', '33333333-3333-4333-8333-333333333333', 'update'), { image: { id: 7 } });

  // Alice's own build comes after all of the above on the one subscription: once she has it, she
  // has been sent everything before it that she was going to get.
  const alices = await boot(alice.token, 'alice-web');
  await built(a, alices);
  const aliceIds = a.instances().map((e) => (e as { server: { id: string } }).server.id);
  t.notOk(aliceIds.includes(bobs), "alice never heard of bob's server");
  t.ok(aliceIds.includes(alices));
  t.notOk(a.events.some((e) => e.name === 'service'), 'nor of host services');
  t.same(a.events.filter((e) => e.name === 'image').map((e) => e.data.image.id), ['22222222-2222-4222-8222-222222222222'], 'only the public image');
  t.same(b.events.filter((e) => e.name === 'image').map((e) => e.data.image.visibility), ['private', 'public'], "bob hears his project's private image");
  t.notOk(b.instances().some((e) => (e as { server: { id: string } }).server.id === alices), "bob never heard of alice's");
  await built(adm, alices);
  t.notOk(adm.events.some((e) => e.name === 'image' && e.data.image.id.startsWith('3333')), 'a malformed body reaches nobody');
  // Heartbeats come every 200 ms here: waited for, not assumed to have come by now.
  await waitFor('a heartbeat', () => a.comments.includes(': keep-alive'), 10_000);
  t.ok(a.comments.includes(': keep-alive'), 'heartbeats arrive');
  for (const id of [bobs, alices]) await api.delete(`/v2.1/servers/${id}`, { token: admin });
  for (const id of [bobs, alices]) await waitForServer(cluster, id, (s) => s.status === 'DELETED');
});

t.test('a closed stream is forgotten, and the bus subscription goes with the last one', async (t) => {
  const r = await readFeed(base, alice.token);
  await r.waitFor('hello', (e) => e.name === 'hello');
  t.equal(feed.size, 1);
  t.ok(feed.subscribed, 'subscribed while a stream is open');
  r.close();
  t.ok(await until(() => feed.size === 0, 5_000), 'the stream is gone');
  t.notOk(feed.subscribed, 'and so are the bus subscriptions');
});

t.test('a stream ends when its token is revoked', async (t) => {
  const token = await api.token('bob', bob.password, 'beta');
  const r = await readFeed(base, token);
  await r.waitFor('hello', (e) => e.name === 'hello');
  t.equal((await api.delete('/v3/auth/tokens', { token: admin, headers: { 'X-Subject-Token': token } })).status, 204);
  t.ok(await until(() => r.closed, 10_000), 'closed by the server at the next check');
  t.ok(await until(() => feed.size === 0, 5_000));
});

t.test('a client that stops reading is dropped; the bus is not held', async (t) => {
  // A sink that accepts one write and never finishes it: everything after stays pending.
  const stuck = new Writable({ highWaterMark: 16, write: () => undefined });
  const slow = new EventFeed(cluster.client.bridge, createLogger('error'), { heartbeatMs: 60_000, maxBufferedBytes: 2_048, maxClients: 10 });
  slow.add(stuck, { projectId: 'p', admin: true });
  const subjects = cluster.subjects;
  for (let i = 0; i < 100; i++) {
    const id = `44444444-4444-4444-8444-${String(i).padStart(12, '0')}`;
    cluster.client.bridge.publish(subjects.event('image', id, 'update'), { image: { id, name: 'x'.repeat(200), status: 'active', visibility: 'public', ownerProjectId: null } });
  }
  t.ok(await until(() => slow.size === 0, 5_000), 'dropped');
  t.equal(slow.dropped, 1);
  t.ok(stuck.destroyed, 'its socket is closed');
  t.ok(stuck.writableLength <= 2_048 + 1_024, `its buffer stayed bounded (${stuck.writableLength} bytes)`);
});

t.test('static files: the built page with its media types and caching', async (t) => {
  const page = await fetch(`${base}/dashboard`);
  t.equal(page.status, 200);
  t.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
  t.match(page.headers.get('content-security-policy'), /default-src 'self'/);
  const html = await page.text();
  t.match(html, /<div id="app">/);
  t.equal((await fetch(`${base}/dashboard/`)).status, 200, 'with a trailing slash too');
  const js = html.match(/src="(\/dashboard\/assets\/[^"]+\.js)"/)![1]!;
  const css = html.match(/href="(\/dashboard\/assets\/[^"]+\.css)"/)![1]!;
  const script = await fetch(`${base}${js}`);
  t.equal(script.headers.get('content-type'), 'text/javascript; charset=utf-8');
  t.match(script.headers.get('cache-control'), /immutable/);
  t.equal((await fetch(`${base}${css}`)).headers.get('content-type'), 'text/css; charset=utf-8');
  const again = await fetch(`${base}${js}`, { headers: { 'If-None-Match': script.headers.get('etag')! } });
  t.equal(again.status, 304, 'revalidated by etag');
});

t.test('static files: unknown names and traversal find nothing', async (t) => {
  for (const path of ['/dashboard/nope.js', '/dashboard/assets/', '/dashboard/../package.json', '/dashboard/%2e%2e/package.json',
    '/dashboard/assets/..%2f..%2f..%2fbundle.ts', '/dashboard/..%5c..%5cpackage.json', '/dashboard//etc/passwd', '/dashboard/index.html%00.js']) {
    const a = await raw(path);
    t.ok(a.status === 404 || a.status === 400, `${path} refused (${a.status})`);
    t.match(a.type, /^application\/json/, 'a fault body');
    t.notMatch(a.body, /"name": "novact"|root:|import /, 'no file content');
  }
});

t.test('static files: the table holds only known kinds; without a build the page says so (503)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'novact-dash-'));
  t.equal(loadBundle(dir), undefined, 'no index.html: no bundle');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html>');
  writeFileSync(join(dir, 'assets', 'a.js'), 'x');
  writeFileSync(join(dir, 'secret.env'), 'PASSWORD=1');
  const b = loadBundle(dir)!;
  t.same([...b.keys()].sort(), ['/dashboard', '/dashboard/', '/dashboard/assets/a.js', '/dashboard/index.html']);
  t.equal(b.get('/dashboard/assets/a.js')!.type, 'text/javascript; charset=utf-8');

  const app = Fastify();
  t.teardown(() => app.close());
  for (const r of staticRoutes(undefined)) app.route({ method: r.method, url: r.url, handler: r.handler });
  const browser = await app.inject({ url: '/dashboard', headers: { accept: 'text/html' } });
  t.equal(browser.statusCode, 503);
  t.match(browser.headers['content-type'], /text\/html/);
  t.match(browser.body, /npm run build:dashboard/);
  const client = await app.inject({ url: '/dashboard/assets/x.js', headers: { accept: 'application/json' } });
  t.equal(client.statusCode, 503);
  t.same(client.json(), { serviceUnavailable: { code: 503, message: 'The dashboard is not built on this server.' } });
});
