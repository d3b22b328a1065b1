import t, { type Test } from 'tap';
import { headers as natsHeaders } from 'nats';
import { Instance, InstanceAction } from '../../runtime/db/entities/index.js';
import { startTestCluster } from '../harness/cluster.js';

const { cluster } = await startTestCluster(t, { hosts: 2 });
const { client, subjects } = cluster;
const nc = client.bridge.nc;
const image = (await client.listImages())[0]!;
const enc = new TextEncoder();
const dec = new TextDecoder();
const missing = '00000000-0000-4000-8000-000000000000';

async function nothingPersisted(t: Test) {
  const em = cluster.orm!.em.fork();
  t.equal(await em.count(Instance, {}), 0, 'no instance rows');
  t.equal(await em.count(InstanceAction, {}), 0, 'no action rows');
  const totals = await cluster.ledger!.totals();
  t.same(totals.allocations, { VCPU: 0, MEMORY_MB: 0, DISK_GB: 0 }, 'no allocations');
}

/** A raw request, as a foreign client or the NATS CLI would send it. */
async function raw(subject: string, payload: string) {
  const msg = await nc.request(subject, enc.encode(payload), { timeout: 5_000 });
  return { body: JSON.parse(dec.decode(msg.data)), headers: msg.headers };
}

t.test('unknown flavor and image are 400 with nothing persisted', async (t) => {
  await t.rejects(client.createServer({ name: 'x', flavorRef: 'm9.huge', imageRef: image.id }), {
    code: 400, fault: 'badRequest', message: 'Flavor m9.huge could not be found.',
  });
  await t.rejects(client.createServer({ name: 'x', flavorRef: 'm1.tiny', imageRef: missing }), {
    code: 400, message: `Can not find requested image ${missing}`,
  });
  await t.rejects(client.createServer({ name: 'x', flavorRef: 'm1.tiny', imageRef: 'no-such-image' }), { code: 400 });
  await nothingPersisted(t);
});

t.test('malformed build requests get typed errors, never a crash', async (t) => {
  const build = subjects.conductor('build');
  const cases: [string, string, RegExp][] = [
    ['not json', '{"v":1,', /not valid JSON/],
    ['array payload', '[1,2]', /must be a JSON object/],
    ['wrong version', JSON.stringify({ v: 2, idempotencyKey: 'k1', body: {} }), /unsupported protocol version/],
    ['no idempotency key', JSON.stringify({ v: 1, body: { name: 'a', flavorRef: 'm1.tiny', imageRef: image.id } }), /idempotencyKey/],
    ['bad key', JSON.stringify({ v: 1, idempotencyKey: 'a b', body: {} }), /idempotencyKey must be/],
    ['unknown field', JSON.stringify({ v: 1, idempotencyKey: 'k2', body: { name: 'a', flavorRef: 'm1.tiny', imageRef: image.id, color: 'red' } }), /at \/color: Unexpected property/],
    ['name too long', JSON.stringify({ v: 1, idempotencyKey: 'k3', body: { name: 'a'.repeat(256), flavorRef: 'm1.tiny', imageRef: image.id } }), /at \/name: Expected string length less or equal to 255/],
    ['name wrong type', JSON.stringify({ v: 1, idempotencyKey: 'k4', body: { name: 7, flavorRef: 'm1.tiny', imageRef: image.id } }), /at \/name: Expected string/],
    ['expired deadline', JSON.stringify({ v: 1, idempotencyKey: 'k5', deadline: 1, body: {} }), /after its deadline/],
  ];
  for (const [what, payload, message] of cases) {
    const { body, headers } = await raw(build, payload);
    t.equal(body.ok, false, `${what}: error reply`);
    t.match(body.error.message, message, `${what}: says why`);
    t.ok(body.error.code === 400 || body.error.code === 504, `${what}: 4xx/504 code (${body.error.code})`);
    t.equal(headers?.get('Nats-Service-Error-Code'), String(body.error.code), `${what}: NATS service error header`);
  }
  await nothingPersisted(t);
});

t.test('requests to a missing instance are 404', async (t) => {
  await t.rejects(client.getServer(missing), { code: 404, fault: 'itemNotFound', message: `Instance ${missing} could not be found.` });
  for (const verb of ['stop', 'start', 'delete', 'pause', 'lock'] as const) {
    await t.rejects(client.serverAction(missing, verb), { code: 404 }, verb);
  }
  await t.rejects(client.serverAction(missing, 'reboot', { type: 'HARD' }), { code: 404 }, 'reboot');
  // A subject token that is not a UUID.
  const { body } = await raw(`${subjects.root}.instance.not-a-uuid.get`, '');
  t.match(body.error, { code: 404 });
  // An unknown verb on a real instance is a 400, and the empty `get` from the NATS CLI works.
  await nothingPersisted(t);
});

t.test('the NATS CLI form works: empty payload for reads, typed error for writes', async (t) => {
  const flavors = await raw(subjects.flavor('list'), '');
  t.equal(flavors.body.ok, true);
  t.ok(flavors.body.body.flavors.length >= 5, 'flavors listed');
  const stop = await raw(subjects.instance(missing, 'stop'), '');
  t.match(stop.body.error, { code: 400, message: /idempotencyKey/ }, 'mutating verb without envelope');
  const h = natsHeaders();
  const noResponders = await nc.request(`${subjects.root}.nobody.home`, enc.encode(''), { timeout: 1_000, headers: h }).catch((e) => e);
  t.ok(noResponders instanceof Error, 'nothing answers an unknown subject');
});

t.test('bad verbs and bodies on a live instance are answered, the instance is unharmed', async (t) => {
  const s = await client.createServer({ name: 'victim', flavorRef: 'm1.tiny', imageRef: image.id });
  await client.waitForServer(s.id, (x) => x.status !== 'BUILD');
  await t.rejects(client.bridge.request(subjects.instance(s.id, 'explode'), 'explode', {}, { timeoutMs: 2_000, idempotencyKey: 'e1' }), { code: 400 });
  await t.rejects(client.serverAction(s.id, 'reboot', { type: 'SOFT', force: true } as never), { code: 400, message: /at \/args\/force: Unexpected property/ });
  t.equal(cluster.actors.stats.restarts, 0, 'no actor crashed');
  t.equal((await client.getServer(s.id)).status, 'ACTIVE');
  await client.deleteServer(s.id);
  await client.waitForServer(s.id, (x) => x.status === 'DELETED');
});
