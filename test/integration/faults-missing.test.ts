/**
 * M5: GETs of ids that do not exist leave no actors behind, and repeated ones are answered from a
 * small negative cache without a database query; creating an id invalidates its cached miss.
 */
import { randomUUID } from 'node:crypto';
import t from 'tap';
import { until, waitFor } from '../harness/poll.js';
import { NotFoundError } from '../../protocols/errors.js';
import { startTestCluster } from '../harness/cluster.js';

const { cluster } = await startTestCluster(t, { hosts: 1 });
const { client } = cluster;
const conductor = cluster.conductor!;

// Count the statements that read instances or images (other roles' background writes are not ours).
const reads = { instances: 0, images: 0 };
cluster.orm!.em.getConnection().getKnex().on('query', (q: { sql: string }) => {
  if (/from "instances"/.test(q.sql)) reads.instances++;
  if (/from "images"/.test(q.sql)) reads.images++;
});

async function inBatches<T>(items: T[], n: number, f: (x: T) => Promise<unknown>): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let i = 0; i < items.length; i += n) out.push(...(await Promise.all(items.slice(i, i + n).map(f))));
  return out;
}
const imageActors = async (): Promise<number> => {
  const r = await client.bridge.nc.request('$SRV.STATS.novact-image', '', { timeout: 2_000 });
  const stats = r.json<{ endpoints: { data?: { liveActors?: number } }[] }>();
  return stats.endpoints.find((e) => e.data)?.data?.liveActors ?? -1;
};

t.test('1,000 GETs of random instance uuids: all 404, no live actors left', async (t) => {
  const before = conductor.liveInstanceActors;
  const ids = Array.from({ length: 1_000 }, () => randomUUID());
  const errs = await inBatches(ids, 100, (id) => client.getServer(id).then(() => undefined, (e: unknown) => e));
  t.ok(errs.every((e) => e instanceof NotFoundError), 'every one is a 404');
  await waitFor('the actors to stop', () => conductor.liveInstanceActors <= before, 5_000);
  t.equal(conductor.liveInstanceActors, before, 'no instance actor outlives its 404');
});

t.test('repeated GETs of missing instances cost one query per id, not one per GET', async (t) => {
  const ids = Array.from({ length: 10 }, () => randomUUID());
  const start = reads.instances;
  for (let round = 0; round < 20; round++) {
    await Promise.all(ids.map((id) => client.getServer(id).catch(() => undefined)));
  }
  const spent = reads.instances - start;
  t.ok(spent <= ids.length + 2, `200 GETs of 10 missing ids: ${spent} instance queries`);
  t.equal(conductor.liveInstanceActors, 0);
});

t.test('image GETs of random ids leave no actors; a create invalidates the cached miss', async (t) => {
  const ids = Array.from({ length: 300 }, () => randomUUID());
  const errs = await inBatches(ids, 100, (id) => client.bridge.request(client.subjects.image(id, 'get'), 'get', {}, { timeoutMs: 5_000 }).then(() => undefined, (e: unknown) => e));
  t.ok(errs.every((e) => e instanceof NotFoundError), 'every one is a 404');
  const start = reads.images;
  await Promise.all(ids.slice(0, 50).map((id) => client.bridge.request(client.subjects.image(id, 'get'), 'get', {}, { timeoutMs: 5_000 }).catch(() => undefined)));
  t.equal(reads.images - start, 0, 'repeated misses are answered from the cache');
  await until(async () => (await imageActors()) === 0, 1_000);
  t.equal(await imageActors(), 0, 'no image actor outlives its 404');

  const chosen = ids[0]!;
  await client.createImage({ id: chosen, name: 'late', diskFormat: 'qcow2', containerFormat: 'bare', sizeBytes: 1024 });
  const got = await client.bridge.request<{ image: { id: string } }>(client.subjects.image(chosen, 'get'), 'get', {}, { timeoutMs: 5_000 });
  t.equal(got.image.id, chosen, 'found at once after its creation');
});
