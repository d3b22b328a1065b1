import t from 'tap';
import { connect, type NatsConnection } from 'nats';
import { HostGuests } from '../../protocols/catalog/index.js';
import { BadRequestError, NovactError } from '../../protocols/errors.js';
import { registerHostGuestsVerb } from '../../actors/conductor/host-guests.js';
import type { Orm } from '../../runtime/db/orm.js';
import { hostInboxPrefix, roleInboxPrefix } from '../../protocols/host-identity.js';
import { Subjects } from '../../protocols/subjects.js';
import { systemClock } from '../../runtime/clock.js';
import { createLogger } from '../../runtime/log/logger.js';
import { Bridge } from '../../runtime/nats/bridge.js';
import { connectNats } from '../../runtime/nats/connection.js';
import type { NatsUser } from '../../runtime/nats/credentials.js';
import { startEmbeddedNats } from '../../runtime/nats/embedded-nats.js';
import { newHostIdentity, type HostIdentity } from '../../runtime/nats/host-identity.js';
import { registerHosts, serveHostRegistrar } from '../../runtime/nats/host-registrar.js';

// The generated nats.conf, with fresh passwords and two host identities: host A runs h-a, host B
// runs h-b. Each role may touch only its own subjects, each host only its own host's.
const subjects = new Subjects();
const hostA = newHostIdentity();
const hostB = newHostIdentity();
const nats = await startEmbeddedNats({
  subjectRoot: subjects.root,
  hostUsers: [{ publicKey: hostA.publicKey, hosts: ['h-a'] }, { publicKey: hostB.publicKey, hosts: ['h-b'] }],
});
const { server, auth } = nats;
t.teardown(() => nats.stop());
const log = createLogger('silent');

async function as(user: NatsUser): Promise<NatsConnection> {
  const nc = await connect({ servers: server.url, user: auth[user].user, pass: auth[user].pass, inboxPrefix: roleInboxPrefix(user) });
  t.teardown(() => nc.close());
  return nc;
}
async function asHost(id: HostIdentity): Promise<NatsConnection> {
  const nc = await connectNats({ servers: server.url, name: 'test-host', nkeySeed: id.seed, inboxPrefix: hostInboxPrefix(id.publicKey) });
  t.teardown(() => nc.close());
  return nc;
}

/** Every permission error the server reports on this connection, as `<operation> <subject>`. */
function violations(nc: NatsConnection): string[] {
  const seen: string[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      const ctx = (s as { permissionContext?: { operation: string; subject: string } }).permissionContext;
      if (s.type === 'error' && ctx) seen.push(`${ctx.operation} ${ctx.subject}`);
    }
  })();
  return seen;
}
/** A round trip: every violation caused before it has been reported by the time it returns. */
const settled = async (nc: NatsConnection) => {
  await nc.flush();
  await nc.flush();
};

// The registrar, as the owner of an embedded server runs it.
const registrarNc = await as('registrar');
serveHostRegistrar(new Bridge(registrarNc, systemClock, log), subjects, (r) => nats.register(r.publicKey, r.hosts));
await registrarNc.flush();

t.test('wrong, missing or unregistered credentials are refused', async (t) => {
  await t.rejects(connect({ servers: server.url, user: 'conductor', pass: 'guess' }), /Authorization Violation/i);
  await t.rejects(connect({ servers: server.url, user: 'compute', pass: auth.client.pass }), /Authorization Violation/i, 'there is no shared compute user');
  await t.rejects(connect({ servers: server.url }), /Authorization Violation/i);
  const stranger = newHostIdentity();
  await t.rejects(connectNats({ servers: server.url, name: 'x', nkeySeed: stranger.seed }), /Authorization Violation/i, 'an nkey nobody registered');
});

t.test('a host reports only for itself: not for another host, not for a name nobody registered (C4)', async (t) => {
  const a = await asHost(hostA);
  const seen = violations(a);
  const conductor = await as('conductor');
  const heard: string[] = [];
  conductor.subscribe('novact.report.>', { callback: (_e, m) => heard.push(m.subject) });
  await conductor.flush();
  const body = new TextEncoder().encode(JSON.stringify({ host: 'h-b', vcpus: 100_000 }));
  a.publish('novact.report.host.h-b.capacity', body);
  a.publish('novact.report.host.phantom-1.capacity', body);
  a.publish('novact.report.host.h-a.capacity', new TextEncoder().encode('{}'));
  await settled(a);
  await settled(conductor);
  t.same(seen.sort(), ['publish novact.report.host.h-b.capacity', 'publish novact.report.host.phantom-1.capacity']);
  t.same(heard, ['novact.report.host.h-a.capacity'], 'only its own report reached the conductor');
});

t.test("a host cannot hear another host's requests, nor command instances or the scheduler", async (t) => {
  const a = await asHost(hostA);
  const seen = violations(a);
  for (const s of ['novact.host.h-b.*', 'novact.host.*.*', 'novact.host.>', 'novact.instance.>', 'novact.report.>']) a.subscribe(s);
  for (const s of ['novact.instance.x.delete', 'novact.scheduler.select', 'novact.scheduler.delta', 'novact.conductor.build', 'novact.host.h-b.spawn', 'novact.admin.register-hosts']) a.publish(s);
  await settled(a);
  t.same(seen.sort(), [
    'publish novact.admin.register-hosts', 'publish novact.conductor.build', 'publish novact.host.h-b.spawn', 'publish novact.instance.x.delete',
    'publish novact.scheduler.delta', 'publish novact.scheduler.select',
    'subscription novact.host.*.*', 'subscription novact.host.>', 'subscription novact.host.h-b.*', 'subscription novact.instance.>', 'subscription novact.report.>',
  ]);

  // Its own subjects do work: the conductor asks h-a, host A answers.
  a.subscribe('novact.host.h-a.get', { callback: (_e, m) => m.respond(new TextEncoder().encode('pong')) });
  await a.flush();
  const conductor = await as('conductor');
  const reply = await conductor.request('novact.host.h-a.get', new Uint8Array(), { timeout: 2_000 });
  t.equal(new TextDecoder().decode(reply.data), 'pong', 'conductor → host request, host answers on the conductor inbox');
});

t.test("a host asks only for its own guests: not another host's list (conductor.host-guests.<host>)", async (t) => {
  // The conductor's endpoint, with no database: an empty list is answered without a query, and the
  // refusals below happen before one.
  const conductor = new Bridge(await as('conductor'), systemClock, log, 2_000, subjects);
  const svc = await conductor.addService('novact-conductor', 'test');
  registerHostGuestsVerb(conductor, svc, subjects, {} as Orm);
  await conductor.nc.flush();
  const aNc = await asHost(hostA);
  const seen = violations(aNc);
  const a = new Bridge(aNc, systemClock, log, 2_000, subjects);

  t.same(await a.call(HostGuests, ['h-a'], { host: 'h-a', uuids: [] }, { timeoutMs: 2_000 }), { live: [], running: [] }, 'its own host: answered');
  const refused = await a.call(HostGuests, ['h-b'], { host: 'h-b', uuids: [] }, { timeoutMs: 500 }).then(() => undefined, (e: unknown) => e);
  t.type(refused, NovactError, "another host's subject: no answer");
  await a.call(HostGuests, ['h-a'], { host: 'h-b', uuids: [] }, { timeoutMs: 2_000 }).then(
    () => t.fail('a body naming another host was answered'),
    (e: unknown) => t.type(e, BadRequestError, 'its own subject, another host in the body: refused by the conductor'),
  );
  aNc.publish('novact.conductor.host-guests');
  await settled(aNc);
  t.same(seen.sort(), ['publish novact.conductor.host-guests', 'publish novact.conductor.host-guests.h-b'], 'the server refused both foreign subjects');
  await conductor.close();
});

t.test("a host downloads images only under its own name: not another host's host-download subject", async (t) => {
  const a = await asHost(hostA);
  const seen = violations(a);
  const image = '00000000-0000-4000-8000-000000000001';
  const image2 = '00000000-0000-4000-8000-000000000002';
  a.publish(`novact.image.${image}.host-download.h-a`);
  a.publish(`novact.image.${image}.host-download.h-b`);
  a.publish(`novact.image.${image2}.host-download.phantom-1`);
  a.publish(`novact.image.${image}.host-download`);
  await settled(a);
  t.same(seen.sort(), [
    `publish novact.image.${image}.host-download`, `publish novact.image.${image}.host-download.h-b`, `publish novact.image.${image2}.host-download.phantom-1`,
  ], 'only its own host-download subject was allowed');
});

t.test('replies are private: nobody subscribes _INBOX.> or another identity\'s inbox prefix (H1)', async (t) => {
  const a = await asHost(hostA);
  const seenA = violations(a);
  for (const s of ['_INBOX.>', '_INBOX_api.>', '_INBOX_client.>', '_INBOX_conductor.>', `${hostInboxPrefix(hostB.publicKey)}.>`, '>']) a.subscribe(s);
  await settled(a);
  t.equal(seenA.length, 6, `host A: every foreign inbox refused (${seenA.join('; ')})`);
  for (const role of ['conductor', 'scheduler', 'image', 'api', 'client'] as const) {
    const nc = await as(role);
    const seen = violations(nc);
    nc.subscribe('_INBOX.>');
    nc.subscribe(role === 'api' ? '_INBOX_client.>' : '_INBOX_api.>');
    await settled(nc);
    t.equal(seen.length, 2, `${role}: _INBOX.> and another role's prefix refused`);
  }
});

t.test('only the operator may ask the micro-service protocol: no $SRV reflection onto internal subjects (C3)', async (t) => {
  const scheduler = await as('scheduler');
  await scheduler.services.add({ name: 'novact-scheduler', version: '0.1.0' });
  const deltas: string[] = [];
  scheduler.subscribe('novact.scheduler.delta', { callback: (_e, m) => deltas.push(new TextDecoder().decode(m.data)) });
  await scheduler.flush();
  for (const nc of [await asHost(hostA), await as('conductor'), await as('scheduler'), await as('image'), await as('api')]) {
    const seen = violations(nc);
    nc.publish('$SRV.PING', new Uint8Array(), { reply: 'novact.scheduler.delta' });
    nc.publish('$SRV.INFO.novact-scheduler', new Uint8Array(), { reply: 'novact.scheduler.delta' });
    await settled(nc);
    t.same(seen, ['publish $SRV.PING', 'publish $SRV.INFO.novact-scheduler']);
  }
  // `nats micro ls` still works for the operator, replies on its own inbox.
  const client = await as('client');
  const names: string[] = [];
  for await (const p of await client.services.client().ping()) names.push(p.name);
  t.same(names, ['novact-scheduler'], 'the client user pings the services');
  await settled(scheduler);
  t.same(deltas, [], 'no ping response was reflected onto novact.scheduler.delta');
});

t.test('registering a host at runtime: the server reloads, no restart, nothing reconnects', async (t) => {
  const pid = server.pid;
  const conductor = await as('conductor');
  const statuses: string[] = [];
  void (async () => {
    for await (const s of conductor.status()) statuses.push(s.type);
  })();
  const fresh = newHostIdentity();
  await t.rejects(connectNats({ servers: server.url, name: 'x', nkeySeed: fresh.seed }), /Authorization Violation/i, 'not registered yet');

  const client = new Bridge(await as('client'), systemClock, log);
  await t.rejects(registerHosts(client, subjects, { publicKey: fresh.publicKey, hosts: ['bad name'] }), BadRequestError, 'a name that is not a host name');
  await t.rejects(registerHosts(client, subjects, { publicKey: 'Unot-a-key', hosts: ['h-new'] }), BadRequestError, 'a key that is not an nkey');
  const api = await as('api');
  const apiSeen = violations(api);
  api.publish(subjects.admin('register-hosts'));
  await settled(api);
  t.same(apiSeen, ['publish novact.admin.register-hosts'], 'only the operator may register hosts');

  t.same(await registerHosts(client, subjects, { publicKey: fresh.publicKey, hosts: ['h-new'] }), { publicKey: fresh.publicKey, hosts: ['h-new'] });
  const host = await asHost(fresh);
  const heard = conductor.subscribe('novact.report.host.h-new.capacity', { max: 1 });
  await conductor.flush();
  host.publish('novact.report.host.h-new.capacity', new TextEncoder().encode('{}'));
  for await (const m of heard) t.equal(m.subject, 'novact.report.host.h-new.capacity', 'the new host reports');
  t.equal(server.pid, pid, 'same server process');
  t.notOk(statuses.includes('disconnect') || statuses.includes('reconnect'), `existing connections stayed up (${statuses.join(',')})`);

  // Registering a name again moves it (a reinstalled hypervisor's new key): the old identity, left
  // with no host, is dropped; the server disconnects it and will not take it back.
  const a = await asHost(hostA);
  const dropped = (async () => {
    for await (const s of a.status()) if (s.type === 'disconnect') return true;
    return false;
  })();
  await registerHosts(client, subjects, { publicKey: fresh.publicKey, hosts: ['h-a'] });
  t.ok(await dropped, 'host A is disconnected once h-a moved to the new identity');
  await t.rejects(connectNats({ servers: server.url, name: 'x', nkeySeed: hostA.seed }), /Authorization Violation/i, 'and cannot connect again');
});
