/**
 * `PUT /servers/{id}` and create with the fields users set, by microversion: `description` (2.19),
 * `hostname` (2.90), `accessIPv4`/`accessIPv6` (validated as addresses); fields newer than the
 * requested microversion are a 400, as Nova's per-version schemas. And the listing's time filters:
 * `changes-since`/`changes-before` (2.66) must be ISO 8601, anything else is a 400.
 */
import t from 'tap';
import { fault, startApiCluster } from '../harness/api-http.js';

const { cluster, http, admin } = await startApiCluster(t, { hosts: 1 });
const image = (await cluster.client.listImages())[0]!;
const alice = await http.member(admin, 'upd-a', 'alice', 'member');
const mv = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });

const boot = async (extra: Record<string, unknown>, version: string) =>
  http.post('/v2.1/servers', { token: alice.token, headers: mv(version), body: { server: { name: 'My Web_Server.1', flavorRef: '1', imageRef: image.id, ...extra } } });
const show = async (id: string, version: string) => (await http.get(`/v2.1/servers/${id}`, { token: alice.token, headers: mv(version) })).body.server;

const created = await boot({ description: 'first', accessIPv4: '192.0.2.10', accessIPv6: '2001:db8::10' }, '2.19');
if (created.status !== 202) throw new Error(`boot: ${created.status} ${created.text}`);
const id = created.body.server.id as string;
await cluster.client.waitForServer(id, (s) => s.status === 'ACTIVE' && s.taskState === null, 30_000);

t.test('create keeps description and access addresses; views show them by microversion', async (t) => {
  const v19 = await show(id, '2.19');
  t.equal(v19.description, 'first');
  t.equal(v19.accessIPv4, '192.0.2.10');
  t.equal(v19.accessIPv6, '2001:db8::10');
  t.notOk('description' in (await show(id, '2.18')), 'no description before 2.19');
  t.equal((await show(id, '2.90'))['OS-EXT-SRV-ATTR:hostname'], 'my-web-server-1', 'the hostname Nova derives from the name');
});

t.test('PUT changes name, description (null clears it), addresses and, from 2.90, the hostname', async (t) => {
  const put = (server: Record<string, unknown>, version: string) => http.put(`/v2.1/servers/${id}`, { token: alice.token, headers: mv(version), body: { server } });
  const a = await put({ name: 'renamed', description: 'second', accessIPv4: '198.51.100.7' }, '2.19');
  t.equal(a.status, 200, a.text);
  t.equal(a.body.server.name, 'renamed');
  t.equal(a.body.server.description, 'second');
  t.equal(a.body.server.accessIPv4, '198.51.100.7');
  t.equal(a.body.server.accessIPv6, '2001:db8::10', 'untouched fields stay');
  t.equal((await put({ description: null }, '2.19')).body.server.description, null);
  t.equal((await show(id, '2.19')).description, null, 'cleared in the store too');

  const early = await put({ description: 'x' }, '2.18');
  t.equal(early.status, 400);
  t.match(fault(early)?.message, /'description' was unexpected/);
  t.equal((await put({ hostname: 'web-01' }, '2.89')).status, 400, 'hostname needs 2.90');
  const h = await put({ hostname: 'web-01' }, '2.90');
  t.equal(h.status, 200, h.text);
  t.equal(h.body.server['OS-EXT-SRV-ATTR:hostname'], 'web-01');
  t.equal((await show(id, '2.90'))['OS-EXT-SRV-ATTR:hostname'], 'web-01');

  for (const bad of [{ accessIPv4: '1.2.3' }, { accessIPv4: '2001:db8::1' }, { accessIPv6: '192.0.2.1' }, { hostname: 'no spaces' }, { hostname: 'x' }]) {
    const r = await put(bad, '2.90');
    t.equal(r.status, 400, `refused: ${JSON.stringify(bad)}`);
    t.equal(fault(r)?.name, 'badRequest');
  }
  t.equal((await show(id, '2.90')).accessIPv4, '198.51.100.7', 'nothing refused was stored');
});

t.test('create: hostname from 2.90, one server only; bad addresses are 400', async (t) => {
  t.equal((await boot({ hostname: 'db-1' }, '2.89')).status, 400);
  t.equal((await boot({ hostname: 'db-1', max_count: 2 }, '2.90')).status, 400, 'one hostname cannot name two servers');
  t.equal((await boot({ accessIPv4: 'not-an-ip' }, '2.1')).status, 400);
  t.equal((await boot({ description: 'x' }, '2.18')).status, 400, 'description needs 2.19');
  const r = await boot({ hostname: 'db-1' }, '2.90');
  t.equal(r.status, 202, r.text);
  t.equal((await show(r.body.server.id, '2.90'))['OS-EXT-SRV-ATTR:hostname'], 'db-1');
});

t.test('changes-since and changes-before must be ISO 8601', async (t) => {
  for (const bad of ['2011/01/01', 'yesterday', '1', '2024-13-45T00:00:00Z']) {
    const a = await http.get(`/v2.1/servers/detail?changes-since=${encodeURIComponent(bad)}`, { token: alice.token });
    t.equal(a.status, 400, `changes-since=${bad}`);
    t.equal(fault(a)?.name, 'badRequest');
  }
  t.equal((await http.get('/v2.1/servers?changes-before=2011/01/01', { token: alice.token, headers: mv('2.66') })).status, 400);
  const since = await http.get('/v2.1/servers?changes-since=2000-01-01T00:00:00Z', { token: alice.token });
  t.equal(since.status, 200);
  t.ok(since.body.servers.some((s: { id: string }) => s.id === id));
  const before = await http.get('/v2.1/servers?changes-before=2000-01-01T00:00:00Z', { token: alice.token, headers: mv('2.66') });
  t.same(before.body.servers, [], 'nothing changed before 2000');
  const crossed = await http.get('/v2.1/servers?changes-since=2001-01-01&changes-before=2000-01-01', { token: alice.token, headers: mv('2.66') });
  t.equal(crossed.status, 400, 'since after before');
});
