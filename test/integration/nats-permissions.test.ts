import t from 'tap';
import { connect, type NatsConnection } from 'nats';
import { NATS_CONF } from '../../runtime/cluster.js';
import { authEnv, generateAuth, type NatsUser } from '../../runtime/nats/credentials.js';
import { startNatsServer } from '../../runtime/services/nats-server.js';

// The packaged nats.conf, with fresh passwords: each role may touch only its own subjects.
const auth = generateAuth();
const server = await startNatsServer({ configFile: NATS_CONF, env: authEnv(auth) });
t.teardown(() => server.stop());

async function as(user: NatsUser): Promise<NatsConnection> {
  const nc = await connect({ servers: server.url, user: auth[user].user, pass: auth[user].pass });
  t.teardown(() => nc.close());
  return nc;
}

/** Resolves with the first permission error the server reports on this connection: `<operation> <subject>`. */
function firstError(nc: NatsConnection): Promise<string> {
  return (async () => {
    for await (const s of nc.status()) {
      const ctx = (s as { permissionContext?: { operation: string; subject: string } }).permissionContext;
      if (s.type === 'error' && s.data === 'PERMISSIONS_VIOLATION' && ctx) return `${ctx.operation} ${ctx.subject}`;
    }
    return 'closed';
  })();
}

t.test('wrong or missing credentials are refused', async (t) => {
  await t.rejects(connect({ servers: server.url, user: 'compute', pass: 'guess' }), /Authorization Violation/i);
  await t.rejects(connect({ servers: server.url }), /Authorization Violation/i);
});

t.test('a host cannot command instances or the scheduler', async (t) => {
  const nc = await as('compute');
  for (const subject of ['novact.instance.x.delete', 'novact.scheduler.select', 'novact.conductor.build']) {
    const err = firstError(nc);
    nc.publish(subject);
    t.equal(await err, `publish ${subject}`, subject);
  }
  const err = firstError(nc);
  nc.subscribe('novact.instance.>');
  t.equal(await err, 'subscription novact.instance.>', 'nor listen to instance requests');
});

t.test('a client can ask but cannot serve', async (t) => {
  const nc = await as('client');
  const err = firstError(nc);
  nc.subscribe('novact.host.>');
  t.equal(await err, 'subscription novact.host.>');
});

t.test('the roles reach each other where the design says they may', async (t) => {
  const compute = await as('compute');
  const conductor = await as('conductor');
  compute.subscribe('novact.host.h1.get', { callback: (_e, m) => m.respond(new TextEncoder().encode('pong')) });
  await compute.flush();
  const reply = await conductor.request('novact.host.h1.get', new Uint8Array(), { timeout: 2_000 });
  t.equal(new TextDecoder().decode(reply.data), 'pong', 'conductor → host request, host answers');
  const reports = conductor.subscribe('novact.report.host.*.capacity', { max: 1 });
  await conductor.flush();
  compute.publish('novact.report.host.h1.capacity', new TextEncoder().encode('{}'));
  for await (const m of reports) t.equal(m.subject, 'novact.report.host.h1.capacity', 'host → conductor report');
});
