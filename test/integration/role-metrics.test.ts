/**
 * What the roles export, on a real cluster: a build's decision (time, candidates), its ledger
 * batch, its reschedule off a host that fails spawns and its outcome; NoValidHost by the filter
 * that removed the last hosts; hosts by state and status; instances by vm_state/task_state as the
 * conductor wrote them; image bytes in and out; actor restarts by kind; the conductor's `status`.
 * Read through `cluster.metrics.scrape()` (the text a scraper gets).
 */
import t from 'tap';
import { Status } from '../../protocols/catalog/conductor.js';
import { FakeDriver } from '../../hosts/fake/fake-driver.js';
import { startTestCluster } from '../harness/cluster.js';
import { waitFor } from '../harness/poll.js';
import { sumOf } from '../harness/prom.js';

// RAMWeigher ranks compute-1 first (most free RAM); it fails every spawn, so a build lands on it, then moves.
const failing = new FakeDriver({ hostname: 'compute-1', memoryMb: 1_048_576, faultPlan: { rules: [{ op: 'spawn', action: 'fail', message: 'injected' }] } });
const { cluster } = await startTestCluster(t, {
  hosts: [
    { name: 'compute-1', driver: failing },
    { name: 'compute-2', driver: new FakeDriver({ hostname: 'compute-2', memoryMb: 131_072 }) },
    { name: 'compute-3', driver: new FakeDriver({ hostname: 'compute-3', memoryMb: 65_536 }) },
  ],
});
const { client, subjects } = cluster;
const image = (await client.listImages())[0]!;
const scrape = () => cluster.metrics!.scrape();
const status = () => client.bridge.call(Status, [], {}, { timeoutMs: 5_000 });
let firstId = '';

t.test('a build: decided, claimed in a ledger batch, rescheduled off the failing host, ended active', async (t) => {
  const before = await scrape();
  const s = await client.createServer({ name: 'm-1', flavorRef: 'm1.tiny', imageRef: image.id });
  const done = await client.waitForServer(s.id, (v) => v.status === 'ACTIVE' || v.status === 'ERROR');
  firstId = s.id;
  t.equal(done.status, 'ACTIVE');
  t.not(done.host, 'compute-1');
  const after = await scrape();
  const d = (name: string, labels: Record<string, string> = {}) => sumOf(after, name, labels) - sumOf(before, name, labels);
  t.ok(d('novact_scheduler_decision_seconds_count', { outcome: 'placed' }) >= 1, 'the decision is timed');
  t.ok(d('novact_scheduler_candidates_sum') >= 3, 'with its candidates (all three hosts passed)');
  t.equal(d('novact_reschedules_total'), 1, 'one reschedule, to an alternate');
  t.equal(d('novact_builds_total', { outcome: 'active' }), 1, 'one build ended active');
  t.ok(d('novact_db_batch_items_count', { batch: 'ledger_claims' }) >= 1, 'the claim went in a ledger batch');
  t.ok(d('novact_db_batch_seconds_count', { batch: 'ledger_claims', outcome: 'ok' }) >= 1, 'which was timed');
  t.ok(d('novact_db_batch_items_sum', { batch: 'instance_writes' }) >= 3, 'the instance writes were batched');
  t.equal(sumOf(after, 'novact_instances', { vm_state: 'active', task_state: 'none' }), 1, 'one instance active, no task');
  t.equal(sumOf(after, 'novact_instances', { vm_state: 'building' }), 0, 'none left building');
});

t.test('NoValidHost: counted by the filter that removed the last hosts; the build errors, its fault is recent', async (t) => {
  const before = await scrape();
  const s = await client.createServer({ name: 'm-nowhere', flavorRef: 'm1.tiny', imageRef: image.id, availabilityZone: 'nowhere' });
  const done = await client.waitForServer(s.id, (v) => v.status === 'ACTIVE' || v.status === 'ERROR');
  t.equal(done.status, 'ERROR');
  const after = await scrape();
  t.equal(sumOf(after, 'novact_scheduler_no_valid_host_total', { filter: 'AvailabilityZoneFilter' }) - sumOf(before, 'novact_scheduler_no_valid_host_total', { filter: 'AvailabilityZoneFilter' }), 1);
  t.equal(sumOf(after, 'novact_scheduler_decision_seconds_count', { outcome: 'no_valid_host' }) - sumOf(before, 'novact_scheduler_decision_seconds_count', { outcome: 'no_valid_host' }), 1);
  t.equal(sumOf(after, 'novact_builds_total', { outcome: 'error' }) - sumOf(before, 'novact_builds_total', { outcome: 'error' }), 1);
  t.equal(sumOf(after, 'novact_instances', { vm_state: 'error', task_state: 'none' }), 1);
  const faults = (await status()).recentFaults;
  t.equal(faults[0]?.uuid, s.id, 'the newest fault is this build');
  t.match(faults[0]?.message, /No valid host/);
  t.equal(faults[0]?.vmState, 'error');
});

t.test('hosts by state and status: a disabled host moves to disabled', async (t) => {
  const hosts = async (state: string, st: string) => sumOf(await scrape(), 'novact_hosts', { state, status: st });
  t.equal(await hosts('up', 'enabled'), 3);
  await client.bridge.request(subjects.conductor('service-update'), 'service-update', { host: 'compute-3', disabled: true, disabledReason: 'metrics test' }, { timeoutMs: 5_000, idempotencyKey: 'm-off' });
  await waitFor('the scheduler to see compute-3 disabled', async () => (await hosts('up', 'disabled')) === 1);
  t.equal(await hosts('up', 'enabled'), 2);
  t.equal(await hosts('down', 'enabled'), 0);
  await cluster.conductor!.computeNodes.flush();
  const h = (await status()).hosts;
  t.same({ total: h.total, up: h.up, disabled: h.disabled, forcedDown: h.forcedDown }, { total: 3, up: 3, disabled: 1, forcedDown: 0 }, 'status counts the records the same way');
});

t.test('instances by state follow a stop: active → stopped', async (t) => {
  await client.serverAction(firstId, 'stop');
  await client.waitForServer(firstId, (v) => v.status === 'SHUTOFF' && v.taskState === null);
  const m = await scrape();
  t.equal(sumOf(m, 'novact_instances', { vm_state: 'stopped', task_state: 'none' }), 1);
  t.equal(sumOf(m, 'novact_instances', { vm_state: 'active', task_state: 'none' }), 0);
  t.equal(sumOf(m, 'novact_instances', { task_state: 'powering-off' }), 0, 'the task came and went');
  const st = await status();
  t.same(st.instances.filter((i) => i.count > 0).sort((a, b) => a.vmState.localeCompare(b.vmState)), [
    { vmState: 'error', taskState: null, count: 1 }, { vmState: 'stopped', taskState: null, count: 1 },
  ], 'status reads the same tally');
  t.ok(Status.checkReply.Check(st), 'status replies fit their schema');
});

t.test('image bytes: an upload is received, a download is sent', async (t) => {
  const before = await scrape();
  const data = new Uint8Array(700_000).fill(7);
  const created = await client.createImage({ name: 'bytes', diskFormat: 'raw', containerFormat: 'bare' });
  await client.uploadImage(created.id, data);
  const chunk = await client.bridge.request<{ data: string }>(subjects.image(created.id, 'download'), 'download', { offset: 0, length: 100_000 }, { timeoutMs: 5_000 });
  t.equal(Buffer.from(chunk.data, 'base64').length, 100_000);
  const after = await scrape();
  t.equal(sumOf(after, 'novact_image_bytes_received_total', { source: 'upload' }) - sumOf(before, 'novact_image_bytes_received_total', { source: 'upload' }), 700_000);
  t.equal(sumOf(after, 'novact_image_bytes_sent_total', { reader: 'api' }) - sumOf(before, 'novact_image_bytes_sent_total', { reader: 'api' }), 100_000);
});

t.test('actors: an instance actor crash is a restart of its kind; live actors by kind', async (t) => {
  const before = sumOf(await scrape(), 'novact_actor_restarts_total', { kind: 'instance' });
  cluster.conductor!.crashInstance(firstId);
  await waitFor('the restart to be counted', async () => sumOf(await scrape(), 'novact_actor_restarts_total', { kind: 'instance' }) === before + 1);
  const m = await scrape();
  t.equal(sumOf(m, 'novact_actors_live', { kind: 'conductor' }), 1);
  t.equal(sumOf(m, 'novact_actors_live', { kind: 'scheduler' }), 1);
  t.ok(sumOf(m, 'novact_actors_live', { kind: 'instance' }) >= 1);
  t.equal(sumOf(m, 'novact_role_health', { role: 'scheduler', status: 'ok' }), 1);
  t.ok(m.includes('novact_actor_mailbox_messages{kind="instance"}'), 'mailbox depth per kind');
});
