/**
 * Hostile messages on the bus of a whole cluster (review C3, C4): malformed bodies on every
 * fire-and-forget subject, a report for a phantom host on a real host's subject, a heartbeat from
 * the future, and `$SRV.PING` reflected onto the scheduler's delta subject. Each is dropped and
 * counted; none reaches an actor; the cluster still schedules afterwards.
 */
import t from 'tap';
import { until } from '../harness/poll.js';
import { ALL_MESSAGES, CapacityReportMsg, HeartbeatMsg } from '../../protocols/catalog/index.js';
import { startTestCluster, settled } from '../harness/cluster.js';

const { cluster } = await startTestCluster(t, { hosts: 2 });
const { client, subjects } = cluster;
const nc = client.bridge.nc;
const scheduler = cluster.scheduler!;
const conductor = cluster.conductor!;
const enc = new TextEncoder();
// The conductor writes compute-node records on a flush: wait (bounded) for the first.
let host: string | undefined;
await until(async () => (host = (await client.listHosts())[0]?.host) !== undefined, 10_000);
const image = (await client.listImages())[0]!;


const bootOne = async (name: string) => {
  const s = await client.createServer({ name, flavorRef: 'm1.tiny', imageRef: image.id });
  return client.waitForServer(s.id, settled, 20_000);
};

t.test('null, {}, [] and wrong-typed bodies on every fire-and-forget subject are dropped and counted', async (t) => {
  const bad = ['null', '{}', '[]', '{"host":1,"replica":2,"service":3,"claims":"x","seq":-1}', 'not json'];
  const s0 = scheduler.bus.droppedMalformed;
  const c0 = conductor.bus.droppedMalformed;
  for (const def of ALL_MESSAGES) {
    const subject = def.subject(subjects, host!, 'create', 'start');
    for (const body of bad) nc.publish(subject, enc.encode(body));
  }
  await nc.flush();
  // The scheduler hears reports, heartbeats, deltas and aggregate/service/server-group events.
  const schedulerDefs = ALL_MESSAGES.filter((d) => d.subscribedBy.includes('scheduler')).length;
  t.ok(await until(() => scheduler.bus.droppedMalformed - s0 === schedulerDefs * bad.length), `scheduler dropped ${schedulerDefs * bad.length}`);
  const conductorDefs = ALL_MESSAGES.filter((d) => d.subscribedBy.includes('conductor')).length;
  t.ok(await until(() => conductor.bus.droppedMalformed - c0 === conductorDefs * bad.length), `conductor dropped ${conductorDefs * bad.length} (reports, heartbeats, power sync)`);
  t.equal(scheduler.bus.handlerErrors, 0, 'nothing reached a handler and threw');
  t.equal((await bootOne('after-garbage')).status, 'ACTIVE', 'still schedules');
});

t.test("C4: a report for another host on a host's subject is dropped; the sender's clock never keeps a host up", async (t) => {
  const d0 = scheduler.bus.droppedMalformed;
  const phantom = {
    host: 'phantom-1', node: 'phantom-1', hypervisorType: 'fake', hypervisorVersion: 1, cpuArch: 'x86_64', availabilityZone: null,
    vcpus: 4096, memoryMb: 1_000_000, diskGb: 100_000, vcpusUsed: 0, memoryMbUsed: 0, diskGbUsed: 0, runningVms: 0, seq: 1, sentAt: Date.now(),
  };
  nc.publish(subjects.report(host!, 'capacity'), enc.encode(JSON.stringify(phantom)));
  // Over the bounds: 100,000 vCPUs on the host's own subject.
  nc.publish(subjects.report(host!, 'capacity'), enc.encode(JSON.stringify({ ...phantom, host, node: host, vcpus: 100_000 })));
  const future = Date.now() + 10 * 365 * 86_400_000;
  nc.publish(subjects.report(host!, 'heartbeat'), enc.encode(JSON.stringify({ host, seq: 1, sentAt: future })));
  await nc.flush();
  t.ok(await until(() => scheduler.bus.droppedMalformed - d0 === 2), 'both false reports dropped');
  t.equal(scheduler.states.get('phantom-1'), undefined, 'no phantom host');
  t.ok(CapacityReportMsg.check.Check(phantom) && HeartbeatMsg.check.Check({ host, seq: 1, sentAt: future }), 'the bodies themselves were well-formed');
  // The future heartbeat was applied, at the receiver's time.
  t.ok(await until(() => (scheduler.states.get(host!)?.lastSeenAt ?? 0) > 0));
  t.ok(scheduler.states.get(host!)!.lastSeenAt <= Date.now(), 'lastSeenAt is never in the future');
});

t.test('C3: $SRV.PING reflected onto novact.scheduler.delta is dropped; the scheduler keeps scheduling', async (t) => {
  const d0 = scheduler.bus.droppedMalformed;
  const restarts0 = cluster.actors.stats.restarts;
  for (let i = 0; i < 5; i++) nc.publish('$SRV.PING', new Uint8Array(), { reply: subjects.scheduler('delta') });
  await nc.flush();
  // Four micro services answer each ping (conductor, scheduler, compute, image).
  t.ok(await until(() => scheduler.bus.droppedMalformed - d0 >= 20), 'every reflected ping_response dropped');
  t.equal(cluster.actors.stats.restarts, restarts0, 'no actor crashed');
  t.equal((await bootOne('after-ping')).status, 'ACTIVE', 'still schedules');
});
