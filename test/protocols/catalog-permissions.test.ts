/**
 * nats.conf against the catalog, on a real nats-server with the packaged config: for every
 * definition, each role that serves or subscribes it really receives what each role that calls or
 * publishes it sends, and nothing along the way is a permissions violation. So the file can no
 * longer drift from the code (review §6.1: the scheduler's `evt.service.*.update` was denied).
 */
import t from 'tap';
import { until } from '../harness/poll.js';
import { connect, type NatsConnection } from 'nats';
import { ALL_MESSAGES, ALL_REQUESTS, type BusRole } from '../../protocols/catalog/index.js';
import { Subjects } from '../../protocols/subjects.js';
import { hostInboxPrefix, roleInboxPrefix } from '../../protocols/host-identity.js';
import { startEmbeddedNats } from '../../runtime/nats/embedded-nats.js';
import { newHostIdentity } from '../../runtime/nats/host-identity.js';
import { connectNats } from '../../runtime/nats/connection.js';

// Sample tokens for concrete subjects: an id (also the host name), then event names (instance events take action and phase).
const ARGS = ['00000000-0000-4000-8000-000000000001', 'create', 'start'];
const subjects = new Subjects();
// The generated config `novact up` runs: role users with fresh passwords, and `compute` played by one
// host identity registered for the sample hosts, confined to those hosts' subjects. Every sample
// token is also a host: host-form subjects (`image.<id>.<verb>.<host>`, `…snapshot-chunk.<session>.<host>`)
// take their host from the second or third argument.
const host = newHostIdentity();
const nats = await startEmbeddedNats({ subjectRoot: subjects.root, hostUsers: [{ publicKey: host.publicKey, hosts: [...ARGS] }] });
t.teardown(() => nats.stop());
const ROLES: BusRole[] = ['conductor', 'scheduler', 'compute', 'image', 'network', 'api', 'client'];
const violations: string[] = [];
const conns = new Map<BusRole, NatsConnection>();
for (const role of ROLES) {
  const nc = role === 'compute'
    ? await connectNats({ servers: nats.server.url, name: role, nkeySeed: host.seed, inboxPrefix: hostInboxPrefix(host.publicKey) })
    : await connect({ servers: nats.server.url, user: nats.auth[role].user, pass: nats.auth[role].pass, name: role, inboxPrefix: roleInboxPrefix(role) });
  conns.set(role, nc);
  void (async () => {
    for await (const s of nc.status()) {
      const ctx = (s as { permissionContext?: { operation: string; subject: string } }).permissionContext;
      if (s.type === 'error' && ctx) violations.push(`${role}: ${ctx.operation} ${ctx.subject}`);
    }
  })();
}
t.teardown(() => Promise.all([...conns.values()].map((c) => c.close())));
const as = (role: BusRole) => conns.get(role)!;


/** Resolves true if `sub`'s role hears `publisher`'s message on `subject` within a bound. */
async function delivered(subscriber: BusRole, pattern: string, publisher: BusRole, subject: string): Promise<boolean> {
  const sub = as(subscriber).subscribe(pattern, { max: 1 });
  await as(subscriber).flush();
  as(publisher).publish(subject, new TextEncoder().encode('{}'));
  await as(publisher).flush();
  const got = (async () => {
    try {
      for await (const m of sub) return m.subject === subject;
    } catch {
      // A refused subscription ends its iterator with the permissions error.
    }
    return false;
  })();
  const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 1_000).unref());
  const ok = await Promise.race([got, timer]);
  sub.unsubscribe();
  return ok;
}

t.test('every request: its server may subscribe, every caller may publish', async (t) => {
  for (const def of ALL_REQUESTS) {
    const subject = def.subject(subjects, ...ARGS);
    // A host identity serves its own hosts' subjects, never the fleet-wide wildcard.
    const pattern = def.servedBy === 'compute' ? subject : def.pattern(subjects);
    for (const caller of def.calledBy) {
      t.ok(await delivered(def.servedBy, pattern, caller, subject), `${def.servedBy} serves ${pattern} for ${caller} (${subject})`);
    }
  }
  t.same(violations, [], 'no permissions violation');
});

t.test('every fire-and-forget message: each subscriber hears each publisher', async (t) => {
  for (const def of ALL_MESSAGES) {
    const pattern = def.pattern(subjects);
    const subject = def.subject(subjects, ...ARGS);
    for (const subscriber of def.subscribedBy) {
      for (const publisher of def.publishedBy) {
        t.ok(await delivered(subscriber, pattern, publisher, subject), `${subscriber} hears ${publisher} on ${subject}`);
      }
    }
  }
  t.same(violations, [], 'no permissions violation');
});

t.test('the check has teeth: a role outside the catalog is refused and the refusal is seen', async (t) => {
  const before = violations.length;
  // The API serves nothing: subscribing a conductor verb is a violation the server reports.
  t.notOk(await delivered('api', subjects.conductor('build'), 'client', subjects.conductor('build')));
  await until(() => violations.length > before, 2_000);
  t.match(violations.slice(before), ['api: subscription novact.conductor.build']);
});
