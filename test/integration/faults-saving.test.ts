/**
 * L3: an image left in `saving` by a crashed upload returns to `queued`, and a staging file no
 * upload writes any more is removed, while a live upload (same replica) is left alone.
 */
import { mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { until } from '../harness/poll.js';
import { startTestCluster } from '../harness/cluster.js';

const dataDir = await mkdtemp(join(tmpdir(), 'novact-saving-test-'));
t.teardown(() => rm(dataDir, { recursive: true, force: true }));
const STALE_MS = 1_000;
const { cluster } = await startTestCluster(t, { roles: ['image'], imageDataDir: dataDir, imageSweep: { intervalMs: 100, staleAfterMs: STALE_MS } });
const { client, subjects } = cluster;
const knex = cluster.orm!.em.getConnection().getKnex();

const statusOf = async (id: string) => (await client.bridge.request<{ image: { status: string } }>(subjects.image(id, 'get'), 'get', {}, { timeoutMs: 5_000 })).image.status;
const sweeps = async (): Promise<number> => {
  const r = await client.bridge.nc.request('$SRV.STATS.novact-image', '', { timeout: 2_000 });
  return r.json<{ endpoints: { data?: { savingSweeps?: number } }[] }>().endpoints.find((e) => e.data)?.data?.savingSweeps ?? -1;
};
const exists = (p: string) => stat(p).then(() => true, () => false);

t.test('a crash leftover in saving is requeued and its staging file removed; a live upload is not touched', async (t) => {
  const crashed = await client.createImage({ name: 'crashed', diskFormat: 'qcow2', containerFormat: 'bare' });
  const uploading = await client.createImage({ name: 'uploading', diskFormat: 'qcow2', containerFormat: 'bare' });
  t.equal(crashed.status, 'queued');

  // A live upload on this replica, its row made to look old: the sweep must keep it (and refresh it).
  const begun = await client.bridge.request<{ image: { status: string }; session: string }>(subjects.image(uploading.id, 'upload-begin'), 'upload-begin', {}, {
    timeoutMs: 5_000, idempotencyKey: 'begin-1',
  });
  t.equal(begun.image.status, 'saving');

  // What a crash mid-upload leaves: the row in saving (long untouched) and a staging file.
  const old = new Date(Date.now() - 10 * STALE_MS);
  await knex('images').update({ status: 'saving', updated_at: old }).where({ id: crashed.id });
  await knex('images').update({ updated_at: old }).where({ id: uploading.id });
  const leftover = join(dataDir, 'staging', 'crashed-upload-leftover');
  await writeFile(leftover, 'half an image');
  await utimes(leftover, old, old);

  const from = await sweeps();
  await until(async () => (await statusOf(crashed.id)) === 'queued' && !(await exists(leftover)) && (await sweeps()) >= from + 2, 10_000);
  t.equal(await statusOf(crashed.id), 'queued', 'back to queued, as after a failed upload');
  t.notOk(await exists(leftover), 'the leftover staging file is removed');
  t.equal(await statusOf(uploading.id), 'saving', 'the live upload is still saving');
  const [row] = await knex('images').select('updated_at').where({ id: uploading.id });
  t.ok(new Date(row.updated_at).getTime() > old.getTime(), "the live upload's row was refreshed, so no replica sweeps it");
});
