/**
 * Every role is a NATS micro service whose `$SRV.PING`, `$SRV.INFO` and `$SRV.STATS` replies
 * validate against the published `io.nats.micro.v1` schemas (test/fixtures/micro/v1-schemas.ts):
 * what `nats micro ls/info/stats` read. Asked as the operator's `client` user of a cluster on the
 * packaged nats.conf (only that user may ask), both by hand (each subject form) and through
 * nats.js's own micro client. Also: `metadata` is never null, endpoints name their subjects and
 * queue groups, and per-endpoint stats count requests, errors and time.
 */
import t, { type Test } from 'tap';
// ajv and ajv-formats come with fastify (its body validation); CommonJS, hence the named/default forms.
import { Ajv } from 'ajv';
import formats from 'ajv-formats';
import type { NatsConnection } from 'nats';
import { NotFoundError } from '../../protocols/errors.js';
import { startCluster } from '../../cluster/cluster.js';
import { INFO_RESPONSE, PING_RESPONSE, STATS_RESPONSE } from '../fixtures/micro/v1-schemas.js';

const ajv = new Ajv({ strict: false, allErrors: true });
formats.default(ajv);
const valid = { ping: ajv.compile(PING_RESPONSE), info: ajv.compile(INFO_RESPONSE), stats: ajv.compile(STATS_RESPONSE) };
type Verb = keyof typeof valid;

// Embedded nats-server from nats.conf (per-role users), every role, the client user's connection.
const cluster = await startCluster({ hosts: 2, logLevel: 'error', api: { adminPassword: 'micro-admin-secret' }, compute: { reportIntervalMs: 500, heartbeatIntervalMs: 200 } });
t.teardown(() => cluster.stop());
await cluster.waitForHosts(2);
const nc: NatsConnection = cluster.client.bridge.nc;
const SERVICES = ['novact-api', 'novact-compute', 'novact-conductor', 'novact-image', 'novact-network', 'novact-scheduler'];
const enc = new TextEncoder();
const dec = new TextDecoder();

interface Reply {
  type: string; name: string; id: string; version: string; metadata: Record<string, string> | null;
  endpoints?: { name: string; subject: string; queue_group?: string; metadata?: Record<string, string> | null; num_requests?: number; num_errors?: number; last_error?: string; processing_time?: number; data?: unknown }[];
}

/** Every reply to one `$SRV` request within `ms` (all instances answer), as parsed JSON. */
async function gather(subject: string, until: (replies: Reply[]) => boolean, ms = 5_000): Promise<Reply[]> {
  const prefix = (nc as unknown as { options: { inboxPrefix: string } }).options.inboxPrefix;
  const inbox = `${prefix}.micro.${Math.random().toString(36).slice(2)}`;
  const sub = nc.subscribe(inbox);
  const timer = setTimeout(() => sub.unsubscribe(), ms);
  nc.publish(subject, enc.encode(''), { reply: inbox });
  const out: Reply[] = [];
  for await (const m of sub) {
    out.push(JSON.parse(dec.decode(m.data)) as Reply);
    if (until(out)) break;
  }
  clearTimeout(timer);
  sub.unsubscribe();
  return out;
}
const one = async (subject: string) => (await gather(subject, (r) => r.length >= 1))[0]!;
const check = (t: Test, verb: Verb, r: unknown, what: string) => {
  const ok = valid[verb](r);
  t.ok(ok, `${what} validates against io.nats.micro.v1.${verb}_response`, { errors: valid[verb].errors });
};
const allNamed = (r: Reply[]) => SERVICES.every((s) => r.some((x) => x.name === s));

t.test('$SRV.PING, .INFO, .STATS to all: every role answers, every reply fits its schema', async (t) => {
  for (const verb of ['PING', 'INFO', 'STATS'] as const) {
    const replies = await gather(`$SRV.${verb}`, allNamed);
    t.same([...new Set(replies.map((r) => r.name))].sort(), SERVICES, `every role answers $SRV.${verb}`);
    for (const r of replies) check(t, verb.toLowerCase() as Verb, r, `${r.name} ${verb}`);
  }
});

t.test('by name and by id: the same answers, metadata never null, endpoints with subjects and queue groups', async (t) => {
  const pings = await gather('$SRV.PING', allNamed);
  for (const name of SERVICES) {
    const ping = pings.find((p) => p.name === name)!;
    for (const subject of [`$SRV.PING.${name}`, `$SRV.PING.${name}.${ping.id}`]) {
      const r = await one(subject);
      check(t, 'ping', r, subject);
      t.equal(r.id, ping.id, `${subject}: the same instance`);
    }
    const info = await one(`$SRV.INFO.${name}.${ping.id}`);
    check(t, 'info', info, `$SRV.INFO.${name}.<id>`);
    const stats = await one(`$SRV.STATS.${name}`);
    check(t, 'stats', stats, `$SRV.STATS.${name}`);
    for (const r of [ping, info, stats]) {
      t.type(r.metadata, 'object', `${name} ${r.type}: metadata present`);
      t.not(r.metadata, null, `${name} ${r.type}: metadata not null`);
      t.equal(r.metadata!.role, name.replace('novact-', ''), 'metadata names the role');
      t.match(r.metadata!.pid, /^\d+$/);
    }
    for (const e of info.endpoints!) t.ok(e.metadata !== null && typeof e.metadata === 'object', `${name}/${e.name}: endpoint metadata is an object`);
    for (const e of [...info.endpoints!, ...stats.endpoints!]) {
      t.ok(e.subject.startsWith('novact.'), `${name}/${e.name} listens on ${e.subject}`);
      t.type(e.queue_group, 'string');
    }
    t.same(stats.endpoints!.map((e) => e.name), info.endpoints!.map((e) => e.name), `${name}: stats cover the endpoints info declares`);
    if (name === 'novact-api') t.same(info.endpoints, [], 'the API serves no NATS subject: no endpoints');
    else t.ok(info.endpoints!.length > 0, `${name} declares endpoints`);
  }
  const conductor = await one('$SRV.INFO.novact-conductor');
  const build = conductor.endpoints!.find((e) => e.name === 'build')!;
  t.same(build, { name: 'build', subject: 'novact.conductor.build', queue_group: 'conductor', metadata: { verb: 'build', mutating: 'true' } });
  t.ok((await one('$SRV.INFO.novact-scheduler')).endpoints!.some((e) => e.name === 'select' && e.subject === 'novact.scheduler.select'));
  t.ok((await one('$SRV.INFO.novact-compute')).endpoints!.some((e) => e.name === 'hosts' && e.subject === 'novact.compute.hosts'));
  t.match((await one('$SRV.PING.novact-api')).metadata, { url: cluster.apiUrl });
});

t.test("per-endpoint stats count each request, error and the handler's time", async (t) => {
  const stat = async (name: string, endpoint: string) => (await one(`$SRV.STATS.${name}`)).endpoints!.find((e) => e.name === endpoint)!;
  const before = await stat('novact-image', 'list');
  await cluster.client.listImages();
  const after = await stat('novact-image', 'list');
  t.equal(after.num_requests! - before.num_requests!, 1, 'one request counted');
  t.ok(after.processing_time! > before.processing_time!, 'its time added (nanoseconds)');
  t.equal(after.num_errors, before.num_errors);

  const missing = '00000000-0000-4000-8000-00000000dead';
  const errBefore = await stat('novact-conductor', 'instance');
  await t.rejects(cluster.client.getServer(missing), NotFoundError);
  const errAfter = await stat('novact-conductor', 'instance');
  t.equal(errAfter.num_errors! - errBefore.num_errors!, 1, 'the typed error counted');
  t.match(errAfter.last_error, /^404:Instance .* could not be found/, 'last_error: code and message');
  t.ok((await one('$SRV.STATS.novact-image')).endpoints![0]!.data, "the role's own stats ride on its first endpoint");
});

t.test("nats.js's micro client reads every service (what `nats micro` does)", async (t) => {
  const svcm = nc.services.client();
  const infos = [];
  for await (const i of await svcm.info()) infos.push(i);
  t.same([...new Set(infos.map((i) => i.name))].sort(), SERVICES);
  for (const i of infos) check(t, 'info', i, `${i.name} info via nats.js`);
  const stats = [];
  for await (const s of await svcm.stats('novact-scheduler')) stats.push(s);
  t.equal(stats.length, 1);
  check(t, 'stats', stats[0], 'scheduler stats via nats.js');
});

t.test('the validator is not a rubber stamp: what nats.js 2.29 would send fails', async (t) => {
  const stats = await one('$SRV.STATS.novact-image') as unknown as Record<string, unknown> & { endpoints: Record<string, unknown>[] };
  // nats.js leaves last_error out until an error, and a fractional average.
  const { last_error: _dropped, ...noLastError } = stats.endpoints[0]!;
  t.notOk(valid.stats({ ...stats, endpoints: [noLastError] }), 'a missing last_error is refused');
  t.notOk(valid.stats({ ...stats, endpoints: [{ ...stats.endpoints[0], average_processing_time: 1.5 }] }), 'a fractional time is refused');
  t.notOk(valid.ping({ ...(await one('$SRV.PING.novact-image')), version: '1' }), 'a version that is not semver is refused');
  t.notOk(valid.info({ ...(await one('$SRV.INFO.novact-image')), type: 'io.nats.micro.v1.ping_response' }), 'the wrong type is refused');
});
