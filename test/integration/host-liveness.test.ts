/**
 * Host liveness and self-fencing end to end (issue 13, part 2), on the packaged NATS config (each
 * compute process its own host identity) and a real PostgreSQL, with scaled-down timings:
 * heartbeats every 200 ms, a 600 ms lease, down after 1 s.
 *
 * - A compute process stopped: its hosts are announced down (role event and `evt.host.<h>.down`),
 *   os-services and ComputeFilter agree, nothing is placed there.
 * - A compute process cut off from the bus (a TCP proxy in front of nats-server): its hosts fence,
 *   their fake guests stop; an instance evacuated meanwhile is destroyed on its old host once the
 *   link is back, the other is running again, and the hosts are announced up.
 * - Hostile heartbeats: another host's name, a body naming another host, garbage, a flood.
 */
import t from 'tap';
import type { EventEmitter } from 'node:events';
import { connectNats } from '../../runtime/nats/connection.js';
import { identityFromSeed } from '../../runtime/nats/host-identity.js';
import { hostInboxPrefix } from '../../protocols/host-identity.js';
import { HostLivenessEvent } from '../../protocols/catalog/events.js';
import { PowerState } from '../../protocols/states.js';
import { startPostgres } from '../../runtime/services/postgres-server.js';
import { ComputeFilter } from '../../actors/scheduler/filters/ComputeFilter.js';
import { startCluster, type Cluster, type ClusterOptions } from '../../cluster/cluster.js';
import type { LivenessOptions } from '../../cluster/liveness-options.js';
import { startTcpProxy } from '../harness/tcp-proxy.js';
import { waitFor } from '../harness/poll.js';

const LIVENESS: LivenessOptions = { heartbeatMs: 200, leaseMs: 600, fenceMarginMs: 200, downAfterMs: 1_000, fence: 'power-off' };
const WAIT_MS = 15_000;
t.setTimeout(120_000);
const logLevel = (process.env.NOVACT_LOG as 'error' | undefined) ?? 'error';

const pg = await startPostgres();
t.teardown(() => pg.stop());
const core = await startCluster({ databaseUrl: pg.url, roles: ['conductor', 'scheduler', 'image', 'network'], liveness: LIVENESS, logLevel, requestTimeoutMs: 5_000 });
t.teardown(() => core.stop());
const scheduler = core.scheduler!;
const client = core.client;

/** A compute-only process with its own host identity, joined to the core (through `natsUrl` when given). */
async function computeProcess(prefix: string, n: number, natsUrl?: string): Promise<Cluster> {
  const names = Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);
  const spec = await core.join(['compute'], names);
  const opts: ClusterOptions = {
    natsUrl: natsUrl ?? spec.natsUrl, natsAuth: spec.natsAuth, subjectRoot: spec.subjectRoot, hostSeed: spec.hostSeed!,
    roles: ['compute'], hosts: n, hostPrefix: prefix, liveness: LIVENESS, logLevel,
    compute: { reportIntervalMs: 500 },
  };
  const c = await startCluster(opts);
  // Stopped once, whether by a test or at teardown.
  let stopped: Promise<void> | undefined;
  const halt = c.stop;
  const stop = () => (stopped ??= halt());
  t.teardown(stop);
  return Object.assign(c, { stop });
}

/** Resolves with the arguments of the first `name` event `match` accepts; rejects after WAIT_MS. */
function nextEvent<A extends unknown[]>(em: EventEmitter, name: string, match: (...args: A) => boolean): Promise<A> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      em.off(name, on);
      reject(new Error(`no '${name}' event within ${WAIT_MS} ms`));
    }, WAIT_MS);
    const on = (...args: unknown[]) => {
      if (!match(...(args as A))) return;
      clearTimeout(timer);
      em.off(name, on);
      resolve(args as A);
    };
    em.on(name, on);
  });
}
const allOf = (em: EventEmitter, name: string, hosts: string[]) => Promise.all(hosts.map((h) => nextEvent<[string]>(em, name, (x) => x === h)));

const spare = await computeProcess('spare', 2);
const doomed = await computeProcess('doomed', 2);
const proxy = await startTcpProxy(core.embedded.nats!.url);
t.teardown(() => proxy.close());
const cutOff = await computeProcess('fence', 2, proxy.url);
// Torn down first: a process cut off could not drain its connection.
t.teardown(() => proxy.restore());
await core.waitForHosts(6);
const image = (await client.listImages())[0]!;
const state = async (host: string) => (await client.listHosts()).find((h) => h.host === host)?.state;

t.test('a stopped compute process: its hosts are down, announced, and nothing lands on them', async (t) => {
  const events: { host: string; state: string; lastSeenAt: number; at: number; fencedBy: number | null }[] = [];
  const sub = client.bridge.on(HostLivenessEvent, (e) => void events.push(e));
  await client.bridge.nc.flush();
  t.teardown(() => sub.unsubscribe());
  const down = allOf(scheduler.events, 'host-down', ['doomed-1', 'doomed-2']);
  await doomed.stop();
  await down;
  await waitFor('evt.host.<h>.down for both', () => events.filter((e) => e.state === 'down' && e.host.startsWith('doomed-')).length === 2, WAIT_MS);
  for (const e of events) {
    t.ok(e.at - e.lastSeenAt > LIVENESS.downAfterMs!, `${e.host}: not declared down early`);
    t.equal(e.fencedBy, e.lastSeenAt + LIVENESS.leaseMs!, 'the event says by when a fencing host has stopped its guests');
  }
  const now = Date.now();
  for (const h of ['doomed-1', 'doomed-2']) {
    t.notOk(ComputeFilter.passes(scheduler.states.get(h)!, {} as never, { now, serviceDownTimeMs: LIVENESS.downAfterMs!, maxInstancesPerHost: 50 }), `ComputeFilter refuses ${h}`);
    await waitFor(`os-services says ${h} is down`, async () => (await state(h)) === 'down', WAIT_MS);
  }
  t.equal(await state('spare-1'), 'up', 'the others stay up');
  const built = await Promise.all([1, 2, 3, 4].map((i) => client.createServer({ name: `after-${i}`, flavorRef: 'm1.tiny', imageRef: image.id })));
  const done = await Promise.all(built.map((s) => client.waitForServer(s.id, (v) => v.status !== 'BUILD', WAIT_MS)));
  t.same(done.filter((s) => s.host?.startsWith('doomed-')), [], 'no build placed on a down host');
  for (const s of done) await client.deleteServer(s.id);
});

t.test('a host cut off from the bus fences; an evacuated instance is destroyed when it is back, the other runs again', async (t) => {
  // One ACTIVE server on each cut-off host: one boot at a time, kept, so the weighers spread them.
  const servers: { id: string }[] = [];
  const on = new Map<string, string>();
  while (on.size < 2 && servers.length < 12) {
    const s = await client.waitForServer((await client.createServer({ name: `fenced-${servers.length}`, flavorRef: 'm1.tiny', imageRef: image.id })).id, (v) => v.status !== 'BUILD', WAIT_MS);
    servers.push(s);
    if (s.status === 'ACTIVE' && s.host?.startsWith('fence-') && !on.has(s.host)) on.set(s.host, s.id);
  }
  t.equal(on.size, 2, 'a server on each cut-off host');
  const [evacHost, keepHost] = [...on.keys()] as [string, string];
  const evacuee = on.get(evacHost)!;
  const kept = on.get(keepHost)!;
  const driverOf = (h: string) => cutOff.compute!.hosts.get(h)!.driver;

  const fenced = allOf(cutOff.compute!.events, 'fenced', [evacHost, keepHost]);
  const down = allOf(scheduler.events, 'host-down', [evacHost, keepHost]);
  proxy.cut();
  await fenced;
  for (const [h, id] of on) t.equal((await driverOf(h).getGuest(id))?.powerState, PowerState.SHUTDOWN, `${h}: its guest is stopped by the fence`);
  await down;
  t.equal(await state(evacHost), 'down', 'os-services agrees');

  await client.serverAction(evacuee, 'evacuate', {});
  const moved = await client.waitForServer(evacuee, (s) => s.taskState === null, WAIT_MS);
  t.match(moved, { status: 'ACTIVE' });
  t.ok(moved.host?.startsWith('spare-'), `evacuated to ${moved.host}`);
  t.notOk(await driverOf(evacHost).getGuest(evacuee).then((g) => g?.powerState === PowerState.RUNNING), 'never running twice: the old guest is still stopped');

  const back = Promise.all([evacHost, keepHost].map((h) => nextEvent<[string, { reaped: string[]; started: string[] }]>(cutOff.compute!.events, 'unfenced', (x) => x === h)));
  const up = allOf(scheduler.events, 'host-up', [evacHost, keepHost]);
  proxy.restore();
  const recovered = new Map((await back).map(([h, r]) => [h, r]));
  await up;
  t.same(recovered.get(evacHost), { reaped: [evacuee], started: [] }, 'the evacuated guest is destroyed, not started');
  t.same(recovered.get(keepHost), { reaped: [], started: [kept] }, 'the guest still owned is started again');
  t.equal(await driverOf(evacHost).getGuest(evacuee), undefined, 'gone from the old host');
  t.equal((await driverOf(keepHost).getGuest(kept))?.powerState, PowerState.RUNNING);
  await waitFor('both hosts up in os-services', async () => (await state(evacHost)) === 'up' && (await state(keepHost)) === 'up', WAIT_MS);
  t.match(await client.getServer(kept), { status: 'ACTIVE', host: keepHost }, 'the kept server is ACTIVE where it was');
  t.match(await client.getServer(evacuee), { status: 'ACTIVE', host: moved.host }, 'the evacuee stays where it went');
  t.equal((await spare.compute!.hosts.get(moved.host!)!.driver.getGuest(evacuee))?.powerState, PowerState.RUNNING, 'and runs there');
  // A later power sync must not undo the recovery: the kept server stays ACTIVE after a listing.
  await spare.compute!.reaper.reconcile(moved.host!);
  t.match(await client.getServer(kept), { status: 'ACTIVE' });
  for (const v of servers) await client.deleteServer(v.id);
});

t.test('hostile heartbeats: another host\'s name, a body naming another host, garbage and floods get no lease', async (t) => {
  const spec = await core.join(['compute'], ['rogue-1']);
  const id = identityFromSeed(spec.hostSeed!);
  const nc = await connectNats({ name: 'rogue', servers: spec.natsUrl, nkeySeed: id.seed, inboxPrefix: hostInboxPrefix(id.publicKey) });
  t.teardown(() => nc.close());
  const enc = new TextEncoder();
  const { subjects } = core;
  const ask = (host: string, body: unknown) => nc.request(subjects.report(host, 'heartbeat'), enc.encode(typeof body === 'string' ? body : JSON.stringify(body)), { timeout: 500 });
  const seen = () => scheduler.states.get('doomed-1')!.lastSeenAt;
  const before = seen();
  const dropped0 = scheduler.bus.droppedMalformed;

  await t.rejects(ask('doomed-1', { host: 'doomed-1', seq: 1, sentAt: Date.now() }), 'another host\'s subject: refused by the server');
  await t.rejects(ask('rogue-1', { host: 'doomed-1', seq: 1, sentAt: Date.now() }), 'own subject, another host in the body: no lease');
  await t.rejects(ask('rogue-1', 'not json'), 'garbage: no lease');
  await t.rejects(ask('rogue-1', { host: 'rogue-1', seq: -1, sentAt: 'now' }), 'wrong types: no lease');
  t.equal(seen(), before, 'doomed-1 is still down: nobody heartbeats for it');
  await waitFor('the invalid ones dropped and counted', () => scheduler.bus.droppedMalformed - dropped0 >= 3, WAIT_MS);

  const good = await ask('rogue-1', { host: 'rogue-1', seq: 1, sentAt: Date.now() });
  t.same(JSON.parse(new TextDecoder().decode(good.data)), { leaseMs: LIVENESS.leaseMs }, 'its own valid heartbeat gets its lease');
  const flooded0 = scheduler.liveness.flooded;
  const burst = await Promise.allSettled(Array.from({ length: 100 }, () => ask('rogue-1', { host: 'rogue-1', seq: 1, sentAt: Date.now() })));
  const answered = burst.filter((r) => r.status === 'fulfilled').length;
  t.ok(answered < 100, `a flood is not answered in full (${answered} of 100)`);
  t.ok(scheduler.liveness.flooded - flooded0 >= 100 - answered, 'the unanswered ones are counted');
});
