/**
 * C3 (restart budget): a role-critical actor that spends its restart budget is never stopped
 * silently. The scheduler actor is rebuilt from the ledger once (a role-level restart, health
 * `ok` again, builds still work); when the role's own budget is spent too, the role is unhealthy,
 * says so in its health and the log, and answers its endpoints with a typed 503 at once.
 */
import t from 'tap';
import { waitFor } from '../harness/poll.js';
import { UnavailableError } from '../../protocols/errors.js';
import { createLogger } from '../../runtime/log/logger.js';
import { startTestCluster, settled } from '../harness/cluster.js';

const errors: string[] = [];
const logger = createLogger('error', (line) => void errors.push(String(line.msg)));
const { cluster } = await startTestCluster(t, {
  hosts: 2,
  logger,
  scheduler: { critical: { actor: { maxRestarts: 2, backoffMs: 1, maxBackoffMs: 1 }, role: { maxRestarts: 1, backoffMs: 10 } } },
});
const { client } = cluster;
const scheduler = cluster.scheduler!;
const image = (await client.listImages())[0]!;

const crashPastBudget = () => {
  for (let i = 0; i < 3; i++) scheduler.crash();
};

t.test('a spent restart budget restarts the role from the ledger: healthy again, builds work', async (t) => {
  const before = await client.createServer({ name: 'before', flavorRef: 'm1.tiny', imageRef: image.id });
  t.equal((await client.waitForServer(before.id, settled)).status, 'ACTIVE');
  crashPastBudget();
  await waitFor('the role-level restart', () => scheduler.health().roleRestarts === 1 && scheduler.health().status === 'ok');
  t.ok(errors.includes('role-critical actor spent its restart budget; restarting the role'), 'logged at error level');
  t.equal(scheduler.states.allocationOf(before.id)?.host, (await client.getServer(before.id)).host, 'rebuilt from the ledger: the existing claim is known');
  const after = await client.createServer({ name: 'after', flavorRef: 'm1.tiny', imageRef: image.id });
  t.equal((await client.waitForServer(after.id, settled)).status, 'ACTIVE', 'the restarted scheduler places builds');
  t.ok(cluster.health().ok, 'the cluster reports healthy');
});

t.test('past the role budget the role is unhealthy and answers 503 at once, not a timeout', async (t) => {
  crashPastBudget();
  await waitFor('unhealthy', () => scheduler.health().status === 'unhealthy');
  t.ok(errors.includes('role-critical actor could not be kept running; the role is unhealthy'), 'logged at error level');
  const h = cluster.health();
  t.equal(h.ok, false, 'the cluster health shows it');
  t.equal(h.roles.scheduler?.status, 'unhealthy');
  t.match(h.roles.scheduler?.reason, /chaos: scheduler crash requested/, 'with the reason');
  const started = Date.now();
  const err = await client.bridge.request(client.subjects.scheduler('get'), 'get', {}, { timeoutMs: 5_000 }).catch((e: unknown) => e);
  t.type(err, UnavailableError, 'a typed serviceUnavailable');
  t.equal((err as UnavailableError).code, 503);
  t.ok(Date.now() - started < 2_000, 'answered at once, not after the request timeout');
  const s = await client.createServer({ name: 'refused', flavorRef: 'm1.tiny', imageRef: image.id });
  const done = await client.waitForServer(s.id, settled);
  t.equal(done.status, 'ERROR', 'a build fails with a reason instead of hanging');
});
