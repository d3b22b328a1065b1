/**
 * L10, retry amplification: against a scheduler that takes requests and never answers, a
 * multi-create's timed-out `select-batch` is asked again under its own key a bounded number of times
 * and never turns into one select per instance; a single build's select that timed out is retried
 * once (a lost reply), not until its converge budget is spent.
 */
import t from 'tap';
import { startTestCluster } from '../harness/cluster.js';

// No scheduler role: this file's own subscriber swallows the scheduler's requests.
const { cluster } = await startTestCluster(t, { roles: ['conductor', 'image'], conductor: { requestTimeoutMs: 300 } });
const image = (await cluster.client.listImages())[0]!;
const nc = cluster.client.bridge.nc;
const seen = { 'select-batch': 0, select: 0 };
const sub = nc.subscribe(`${cluster.subjects.root}.scheduler.*`, {
  callback: (_err, msg) => {
    const verb = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
    if (verb === 'select-batch' || verb === 'select') seen[verb]++;
  },
});
t.teardown(() => sub.unsubscribe());
await nc.flush();

const failed = (s: { status: string }) => s.status === 'ERROR';

t.test('a timed-out select-batch: 3 tries of the batch, no individual selects', async (t) => {
  const servers = await cluster.client.createServers({ name: 'batch', flavorRef: 'm1.tiny', imageRef: image.id, maxCount: 5 });
  t.equal(servers.length, 5);
  for (const s of servers) t.equal((await cluster.client.waitForServer(s.id, failed, 20_000)).status, 'ERROR');
  t.equal(seen['select-batch'], 3, 'the batch, asked three times');
  t.equal(seen.select, 0, 'never one select per instance (the old fallback sent 5 × 4)');
});

t.test('a single build whose select times out is tried twice, not convergeAttempts times', async (t) => {
  const before = seen.select;
  const s = await cluster.client.createServer({ name: 'single', flavorRef: 'm1.tiny', imageRef: image.id });
  const done = await cluster.client.waitForServer(s.id, failed, 20_000);
  t.equal(done.status, 'ERROR');
  t.equal(seen.select - before, 2, 'the first try and one retry');
});
