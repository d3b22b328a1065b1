/**
 * The api role under the packaged nats.conf (per-role users, embedded nats-server): its NATS user may
 * ask the conductor, instances, flavors, images and the scheduler's catalog, and nothing else. Runs
 * one request of each kind end to end through the REST API to show the permissions suffice.
 */
import { randomBytes } from 'node:crypto';
import t from 'tap';
import { connect } from 'nats';
import { hostInboxPrefix } from '../../protocols/host-identity.js';
import { connectNats } from '../../runtime/nats/connection.js';
import { identityFromSeed } from '../../runtime/nats/host-identity.js';
import { NATS_CONF, startCluster } from '../../cluster/cluster.js';
import { authEnv, generateAuth } from '../../runtime/nats/credentials.js';
import { startNatsServer } from '../../runtime/services/nats-server.js';
import { startPostgres } from '../../runtime/services/postgres-server.js';
import { ADMIN_PASSWORD, Http } from '../harness/api-http.js';

const pg = await startPostgres();
t.teardown(() => pg.stop());
const cluster = await startCluster({
  databaseUrl: pg.url, hosts: 1, logLevel: 'error', api: { adminPassword: ADMIN_PASSWORD },
  compute: { reportIntervalMs: 500, heartbeatIntervalMs: 200 },
});
t.teardown(() => cluster.stop());
await cluster.waitForHosts(1);
const http = new Http(cluster.apiUrl!);
const admin = await http.token('admin', ADMIN_PASSWORD, 'admin');

t.test('every backend the API uses answers under the api user', async (t) => {
  const image = (await http.get('/image/v2/images', { token: admin })).body.images[0];
  const boot = await http.post('/v2.1/servers', { token: admin, body: { server: { name: 'perm', flavorRef: '1', imageRef: image.id } } });
  t.equal(boot.status, 202, 'conductor.build');
  await cluster.client.waitForServer(boot.body.server.id, (s) => s.status === 'ACTIVE');
  t.equal((await http.get(`/v2.1/servers/${boot.body.server.id}`, { token: admin })).status, 200, 'instance.get');
  t.equal((await http.get('/v2.1/servers/detail', { token: admin })).status, 200, 'conductor.query');
  t.equal((await http.get('/v2.1/limits', { token: admin })).status, 200, 'conductor.usage and servergroup.list');
  t.equal((await http.get('/v2.1/os-services', { token: admin })).status, 200, 'conductor.services and aggregate.zones');
  t.equal((await http.get('/v2.1/flavors/detail', { token: admin })).status, 200, 'flavor.list');
  const img = (await http.post('/image/v2/images', { token: admin, body: { name: 'p', disk_format: 'raw', container_format: 'bare' } })).body;
  const data = randomBytes(600_000);
  t.equal((await http.put(`/image/v2/images/${img.id}/file`, { token: admin, raw: data, headers: { 'Content-Type': 'application/octet-stream' } })).status, 204, 'image upload session');
  const down = await fetch(`${cluster.apiUrl}/image/v2/images/${img.id}/file`, { headers: { 'X-Auth-Token': admin } });
  t.ok(Buffer.from(await down.arrayBuffer()).equals(data), 'image download');
  t.equal((await http.delete(`/v2.1/servers/${boot.body.server.id}`, { token: admin })).status, 204);
});

t.test("a host identity cannot read another tenant's replies: image bytes downloaded meanwhile stay private (H1)", async (t) => {
  // A joined compute process for one more host: its credentials hold no role's secret and no database.
  const spec = await cluster.join(['compute'], ['spy-1']);
  t.same(spec.natsAuth, {}, 'no role user');
  t.equal(spec.databaseUrl, undefined, 'no database URL');
  t.match(spec.hostSeed, /^SU[A-Z2-7]+$/, 'an nkey seed of its own');
  const spy = await connectNats({ servers: spec.natsUrl, name: 'spy', nkeySeed: spec.hostSeed!, inboxPrefix: hostInboxPrefix(identityFromSeed(spec.hostSeed!).publicKey) });
  t.teardown(() => spy.close());
  const refused: string[] = [];
  void (async () => {
    for await (const s of spy.status()) {
      const ctx = (s as { permissionContext?: { operation: string; subject: string } }).permissionContext;
      if (s.type === 'error' && ctx) refused.push(`${ctx.operation} ${ctx.subject}`);
    }
  })();
  let overheard = 0;
  for (const subject of ['_INBOX.>', '_INBOX_api.>', '_INBOX_image.>', '_INBOX_client.>', 'novact.image.>']) {
    // The callback also sees the server's refusal as an error: count only messages.
    spy.subscribe(subject, { callback: (err) => void (err === null && overheard++) });
  }
  await spy.flush();
  await spy.flush();
  t.same(refused.sort(), ['subscription _INBOX.>', 'subscription _INBOX_api.>', 'subscription _INBOX_client.>', 'subscription _INBOX_image.>', 'subscription novact.image.>']);

  const img = (await http.post('/image/v2/images', { token: admin, body: { name: 'private', disk_format: 'raw', container_format: 'bare' } })).body;
  const data = randomBytes(700_000);
  await http.put(`/image/v2/images/${img.id}/file`, { token: admin, raw: data, headers: { 'Content-Type': 'application/octet-stream' } });
  const down = await fetch(`${cluster.apiUrl}/image/v2/images/${img.id}/file`, { headers: { 'X-Auth-Token': admin } });
  t.ok(Buffer.from(await down.arrayBuffer()).equals(data), 'the download works');
  await spy.flush();
  t.equal(overheard, 0, 'the host identity heard none of it');
});

t.test('the api user may ask what the API needs, and cannot serve, listen, or reach hosts and the scheduler', async (t) => {
  const auth = generateAuth();
  const server = await startNatsServer({ configFile: NATS_CONF, env: authEnv(auth) });
  t.teardown(() => server.stop());
  const nc = await connect({ servers: server.url, user: auth.api.user, pass: auth.api.pass });
  t.teardown(() => nc.close());
  const violations: string[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      const ctx = (s as { permissionContext?: { operation: string; subject: string } }).permissionContext;
      if (s.type === 'error' && ctx) violations.push(`${ctx.operation} ${ctx.subject}`);
    }
  })();
  for (const subject of ['novact.conductor.build', 'novact.instance.x.get', 'novact.flavor.list', 'novact.image.x.upload.s', 'novact.aggregate.zones', 'novact.servergroup.list']) {
    nc.publish(subject);
  }
  for (const subject of ['novact.host.h1.spawn', 'novact.scheduler.select', 'novact.report.host.h1.capacity', 'novact.evt.instance.x.create.end']) {
    nc.publish(subject);
  }
  nc.subscribe('novact.instance.>');
  // A round trip to the server: every violation above has been reported by the time it returns.
  await nc.flush();
  await nc.flush();
  t.same(violations.sort(), [
    'publish novact.evt.instance.x.create.end', 'publish novact.host.h1.spawn', 'publish novact.report.host.h1.capacity',
    'publish novact.scheduler.select', 'subscription novact.instance.>',
  ]);
});
