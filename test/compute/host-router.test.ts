import t, { type Test } from 'tap';
import { randomUUID } from 'node:crypto';
import { startComputeRole, type ComputeConfig, type ComputeHost, type ComputeRole } from '../../actors/compute/compute-role.js';
import type { GuestInfo, GuestSpec } from '../../hosts/driver.js';
import { FakeDriver } from '../../hosts/fake/fake-driver.js';
import { BadRequestError, InternalError, TimeoutError, UnavailableError } from '../../protocols/errors.js';
import type { GuestReply, HostView } from '../../protocols/messages.js';
import type { CapacityReport, HeartbeatReport } from '../../protocols/resources.js';
import { Subjects } from '../../protocols/subjects.js';
import { ActorSystem } from '../../runtime/actors/system.js';
import { systemClock } from '../../runtime/clock.js';
import { createLogger } from '../../runtime/log/logger.js';
import { Bridge } from '../../runtime/nats/bridge.js';
import { connectNats } from '../../runtime/nats/connection.js';
import { startEmbeddedNats } from '../../runtime/nats/embedded-nats.js';
import { newHostIdentity } from '../../runtime/nats/host-identity.js';
import { hostInboxPrefix, roleInboxPrefix } from '../../protocols/host-identity.js';
import type { RoleContext } from '../../runtime/role.js';

// One nats-server for the file, with the generated nats.conf: the roles connect as a fleet host
// identity (allowed every host name, so the wildcard routing may be tested too), requests and report
// watching go through the `client` user.
const fleet = newHostIdentity();
const embedded = await startEmbeddedNats({ subjectRoot: 'novact', anyHostKeys: [fleet.publicKey] });
const { server: nats, auth } = embedded;
t.teardown(() => embedded.stop());
const log = createLogger('silent');
const actors = new ActorSystem(systemClock, log, `compute-test-${process.pid}`);
t.teardown(() => actors.stop());
const subjects = new Subjects();
const clientNc = await connectNats({ servers: nats.url, name: 'test-client', user: auth.client.user, pass: auth.client.pass, inboxPrefix: roleInboxPrefix('client') });
t.teardown(() => clientNc.drain());
const client = new Bridge(clientNc, systemClock, log, 2_000);

/** Starts a compute role on its own connection; stopped at the end of the calling subtest. */
async function startRole(t: Test, hosts: ComputeHost[], config: Partial<ComputeConfig> = {}): Promise<ComputeRole> {
  const nc = await connectNats({ servers: nats.url, name: 'test-compute', nkeySeed: fleet.seed, inboxPrefix: hostInboxPrefix(fleet.publicKey) });
  const ctx: RoleContext = { bridge: new Bridge(nc, systemClock, log, 5_000), subjects, actors, clock: systemClock, log, requestTimeoutMs: 5_000 };
  const role = await startComputeRole(ctx, hosts, { reportIntervalMs: 60_000, heartbeatIntervalMs: 60_000, ...config });
  t.teardown(async () => {
    await role.stop();
    await nc.drain();
  });
  return role;
}

const fake = (...names: string[]): ComputeHost[] => names.map((name) => ({ name, driver: new FakeDriver({ hostname: name }) }));
const get = (host: string, timeoutMs = 2_000) => client.request<HostView>(subjects.host(host, 'get'), 'get', {}, { timeoutMs });
const guest = (uuid = randomUUID()) => ({ uuid, name: 'vm', vcpus: 1, memoryMb: 512, diskGb: 1, image: { id: 'img', diskFormat: 'raw', properties: {} } });
const spawn = (host: string, g = guest(), key = `${g.uuid}.spawn.${host}`) =>
  client.request<GuestReply>(subjects.host(host, 'spawn'), 'spawn', { guest: g }, { timeoutMs: 2_000, idempotencyKey: key });

/** Resolves when the role says `event` for `host`. Call it before triggering the event. */
function when(role: ComputeRole, event: 'activated' | 'passivated', host: string): Promise<void> {
  return new Promise((resolve) => {
    const on = (name: string) => {
      if (name !== host) return;
      role.events.off(event, on);
      resolve();
    };
    role.events.on(event, on);
  });
}

function countActivations(role: ComputeRole): { n: number } {
  const c = { n: 0 };
  role.events.on('activated', () => c.n++);
  return c;
}

type Report = { kind: 'capacity'; body: CapacityReport } | { kind: 'heartbeat'; body: HeartbeatReport };

/** Every report a host publishes, in order; `next` waits for the next ones matching a kind. */
async function watchReports(t: Test, host: string) {
  const seen: Report[] = [];
  const waiters: { kind: Report['kind']; after: number; resolve: (r: Report) => void }[] = [];
  const sub = clientNc.subscribe(`${subjects.root}.report.host.${host}.*`, {
    callback: (_err, m) => {
      if (m.subject.endsWith('.power-sync')) return; // power states: another test's business
      if (m.subject.endsWith('.power-sync')) return; // power states: test/compute/host-verbs.test.ts
      const kind = m.subject.endsWith('.capacity') ? 'capacity' : 'heartbeat';
      seen.push({ kind, body: m.json() } as Report);
      for (const w of [...waiters]) {
        const hit = seen.slice(w.after).find((r) => r.kind === w.kind);
        if (hit) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(hit);
        }
      }
    },
  });
  await clientNc.flush();
  t.teardown(() => sub.unsubscribe());
  return {
    seen,
    /** The first report of `kind` published after this call. */
    next(kind: Report['kind']): Promise<Report> {
      return new Promise((resolve) => waiters.push({ kind, after: seen.length, resolve }));
    },
    seqs: (kind: Report['kind']) => seen.filter((r) => r.kind === kind).map((r) => r.body.seq),
  };
}

t.test('wildcard routing: one subscription per process, requests reach the right host, foreign hosts are left alone', async (t) => {
  const a = await startRole(t, fake('w-a1', 'w-a2'), { wildcardSubscriptionAbove: 0 });
  const b = await startRole(t, fake('w-b1'), { wildcardSubscriptionAbove: 0 });
  t.equal(a.routing, 'wildcard');
  t.equal(b.routing, 'wildcard');

  t.equal((await get('w-a2')).host, 'w-a2');
  t.equal((await get('w-b1')).host, 'w-b1', "answered by the process that runs it; the other one heard it and kept quiet");
  const g = guest();
  t.equal((await spawn('w-b1', g)).guest.uuid, g.uuid, 'a mutating verb through the wildcard');
  t.equal((await b.hosts.get('w-b1')!.driver.listGuests()).length, 1, 'on the right driver');
  t.same(await a.hosts.get('w-a1')!.driver.listGuests(), [], 'and not on another');

  const err = await get('w-none', 300).catch((e: unknown) => e);
  t.ok(err instanceof TimeoutError, 'a host no process runs gets no reply at all (no error from a process that does not own it)');
  t.equal((await get('w-a1')).host, 'w-a1', 'other hosts are unaffected');
  await t.rejects(client.request(subjects.host('w-a1', 'reboot'), 'reboot', {}, { timeoutMs: 2_000, idempotencyKey: 'k1' }), BadRequestError, 'an unknown verb of an owned host is answered');
});

t.test('per-host routing (few hosts): a subscription per host, requests reach the right host', async (t) => {
  const role = await startRole(t, fake('p-1', 'p-2'));
  t.equal(role.routing, 'per-host', 'the default: a host identity may subscribe only its own hosts');
  t.equal((await get('p-1')).host, 'p-1');
  const g = guest();
  t.equal((await spawn('p-2', g)).guest.uuid, g.uuid);
  t.same((await role.hosts.get('p-2')!.driver.listGuests()).map((x) => x.uuid), [g.uuid]);
  await t.rejects(get('p-9'), UnavailableError, 'nobody subscribes for an unknown host: no responders, at once');
});

class CountingDriver extends FakeDriver {
  spawns = 0;
  override spawn(spec: GuestSpec): Promise<GuestInfo> {
    this.spawns++;
    return super.spawn(spec);
  }
}

t.test('an idempotent retry acts once, also after the host actor was passivated', async (t) => {
  const driver = new CountingDriver({ hostname: 'i-1' });
  const role = await startRole(t, [{ name: 'i-1', driver }], { hostIdleMs: 200 });
  const activations = countActivations(role);
  const g = guest();
  const key = `${g.uuid}.spawn.i-1`;
  const passivated = when(role, 'passivated', 'i-1');
  const replies = await Promise.all([spawn('i-1', g, key), spawn('i-1', g, key), spawn('i-1', g, key)]);
  t.same(new Set(replies.map((r) => r.guest.uuid)), new Set([g.uuid]));
  t.equal(driver.spawns, 1, 'the driver was asked once');
  t.equal(activations.n, 1, 'one actor served them all');

  await passivated;
  t.equal(role.liveHostActors, 0, 'idle: no actor');
  t.equal((await spawn('i-1', g, key)).guest.uuid, g.uuid);
  t.equal(driver.spawns, 1, 'the key outlived the actor: still asked once');
  t.equal(activations.n, 2, 'the retry woke a new actor');
  await spawn('i-1', g, 'another-key');
  t.equal(driver.spawns, 2, 'a new key does act (the driver itself converges on the uuid)');
});

t.test('idle hosts publish heartbeats and capacity reports without a live actor', async (t) => {
  const watch = await Promise.all([watchReports(t, 'r-1'), watchReports(t, 'r-2')]);
  const role = await startRole(t, fake('r-1', 'r-2'), { hostIdleMs: 30, heartbeatIntervalMs: 40, reportIntervalMs: 80 });
  const passivated = when(role, 'passivated', 'r-1');
  await get('r-1');
  await passivated;
  t.equal(role.liveHostActors, 0, 'the actor passivated');
  const activations = countActivations(role);
  for (const w of watch) {
    await w.next('heartbeat');
    await w.next('capacity');
    await w.next('heartbeat');
  }
  t.equal(activations.n, 0, 'no actor was spawned to publish them');
  t.equal(role.liveHostActors, 0);
  for (const w of watch) t.ok(w.seqs('capacity').length >= 2, 'reports keep coming');
});

t.test('a host report sequence is monotonic across passivation', async (t) => {
  const watch = await watchReports(t, 's-1');
  const role = await startRole(t, fake('s-1'), { hostIdleMs: 30, heartbeatIntervalMs: 25, reportIntervalMs: 50 });
  const activations = countActivations(role);
  let passivated = when(role, 'passivated', 's-1');
  const first = await spawn('s-1');
  await passivated;
  await watch.next('capacity');
  await watch.next('capacity');
  passivated = when(role, 'passivated', 's-1');
  const view = await get('s-1');
  await client.request(subjects.host('s-1', 'destroy'), 'destroy', { uuid: first.guest.uuid }, { timeoutMs: 2_000, idempotencyKey: 'd1' });
  await passivated;
  const last = await watch.next('capacity');
  t.equal(activations.n, 2, 'the host had two actors, one after the other');

  const seqs = watch.seqs('capacity');
  t.same(seqs, seqs.map((_, i) => i + 1), `capacity seqs count up by one, whatever the actor did: ${seqs.join(',')}`);
  t.ok(view.reportSeq >= 3 && view.reportSeq < last.body.seq, 'a get shows the current seq');
  const beats = watch.seqs('heartbeat');
  t.ok(beats.every((s, i) => i === 0 || s >= beats[i - 1]!), `heartbeats carry the seq, never going back: ${beats.join(',')}`);
  t.equal((last.body as CapacityReport).runningVms, 0, 'the destroy shows in the reports');
});

class CrashingDriver extends FakeDriver {
  crashNext = false;
  // A driver bug: a synchronous throw (not a rejected promise, not a DriverError).
  override listGuests(): Promise<GuestInfo[]> {
    if (this.crashNext) {
      this.crashNext = false;
      throw new TypeError('driver bug');
    }
    return super.listGuests();
  }
}

t.test('a crash in a host handler is answered with a typed retryable error; the host keeps serving', async (t) => {
  const driver = new CrashingDriver({ hostname: 'c-1' });
  const role = await startRole(t, [{ name: 'c-1', driver }, ...fake('c-2')]);
  t.equal((await get('c-1')).host, 'c-1');
  const restarts = actors.stats.restarts;
  driver.crashNext = true;
  const err = await get('c-1').catch((e: unknown) => e);
  t.ok(err instanceof InternalError, 'typed');
  t.match(err, { code: 500, retryable: true, message: /actor \/host-c-1 crashed handling the request: driver bug/ });
  t.equal(actors.stats.restarts, restarts + 1, 'the actor was restarted');
  t.equal((await get('c-1')).host, 'c-1', 'the host keeps serving');
  const g = guest();
  t.equal((await spawn('c-1', g)).guest.uuid, g.uuid);
  t.equal((await get('c-2')).host, 'c-2', 'other hosts are unaffected');
  await t.rejects(spawn('c-1', { ...g, vcpus: 0 }, 'bad'), BadRequestError, 'bad input is answered, not a crash');
  t.equal(actors.stats.restarts, restarts + 1);
  t.equal(role.liveHostActors, 2);
});
