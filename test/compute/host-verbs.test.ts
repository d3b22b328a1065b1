/**
 * Host verbs through NATS against fake drivers: power ops folded into `power`, console and
 * diagnostics, rescue, a cold migration between two hosts, a snapshot into an injected sink, a
 * deadline that turns a hung driver call into a retryable timeout, and power-sync reports.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { startComputeRole, type ComputeRole } from '../../actors/compute/compute-role.js';
import type { ImageDataSink } from '../../hosts/driver.js';
import { MemorySink } from '../../hosts/contract.js';
import { FakeDriver } from '../../hosts/fake/fake-driver.js';
import { fakeDiskBytes } from '../../hosts/fake/fake-guest-ops.js';
import { FakeFabric } from '../../hosts/fake/fake-migration.js';
import { TimeoutError } from '../../protocols/errors.js';
import type { GuestReply } from '../../protocols/messages.js';
import type { PowerSyncReport } from '../../protocols/catalog/reports.js';
import { PowerState } from '../../protocols/states.js';
import { Subjects } from '../../protocols/subjects.js';
import { hostInboxPrefix, roleInboxPrefix } from '../../protocols/host-identity.js';
import { ActorSystem } from '../../runtime/actors/system.js';
import { systemClock } from '../../runtime/clock.js';
import { createLogger } from '../../runtime/log/logger.js';
import { Bridge } from '../../runtime/nats/bridge.js';
import { connectNats } from '../../runtime/nats/connection.js';
import { startEmbeddedNats } from '../../runtime/nats/embedded-nats.js';
import { newHostIdentity } from '../../runtime/nats/host-identity.js';
import { waitFor } from '../harness/poll.js';

const fleet = newHostIdentity();
const embedded = await startEmbeddedNats({ subjectRoot: 'novact', anyHostKeys: [fleet.publicKey] });
t.teardown(() => embedded.stop());
const { server: nats, auth } = embedded;
const log = createLogger('silent');
const actors = new ActorSystem(systemClock, log, `host-verbs-test-${process.pid}`);
t.teardown(() => actors.stop());
const subjects = new Subjects();
const clientNc = await connectNats({ servers: nats.url, name: 'test-client', user: auth.client.user, pass: auth.client.pass, inboxPrefix: roleInboxPrefix('client') });
t.teardown(() => clientNc.drain());
const client = new Bridge(clientNc, systemClock, log, 2_000);

// Power-sync reports as the conductor would hear them.
const syncs: PowerSyncReport[] = [];
clientNc.subscribe(`${subjects.root}.report.host.*.power-sync`, { callback: (_e, m) => syncs.push(m.json()) });
await clientNc.flush();

const fabric = new FakeFabric();
const a = new FakeDriver({ hostname: 'hv-a', fabric });
const b = new FakeDriver({ hostname: 'hv-b', fabric });
const sinks = new Map<string, MemorySink>();
const snapshotSink = (imageId: string): ImageDataSink => {
  const s = new MemorySink();
  sinks.set(imageId, s);
  return s;
};
const nc = await connectNats({ servers: nats.url, name: 'test-compute', nkeySeed: fleet.seed, inboxPrefix: hostInboxPrefix(fleet.publicKey) });
const role: ComputeRole = await startComputeRole(
  { bridge: new Bridge(nc, systemClock, log, 5_000), subjects, actors, clock: systemClock, log, requestTimeoutMs: 5_000 },
  [{ name: 'hv-a', driver: a }, { name: 'hv-b', driver: b }],
  { reportIntervalMs: 60_000, heartbeatIntervalMs: 60_000, reconcileIntervalMs: 0, snapshotSink, powerSyncOnReport: true },
);
t.teardown(async () => {
  await role.stop();
  await nc.drain();
});

const ask = <R>(host: string, verb: string, body: unknown, opts: { timeoutMs?: number; key?: string } = {}) =>
  client.request<R>(subjects.host(host, verb), verb, body, { timeoutMs: opts.timeoutMs ?? 2_000, idempotencyKey: opts.key ?? randomUUID() });
const spec = (uuid = randomUUID()) => ({ uuid, name: 'vm', vcpus: 1, memoryMb: 512, diskGb: 1, image: { id: 'img-1' } });

t.test('power ops, console, diagnostics, rescue', async (t) => {
  const g = spec();
  await ask('hv-a', 'spawn', { guest: g });
  t.equal((await ask<GuestReply>('hv-a', 'power', { uuid: g.uuid, op: 'pause' })).guest.powerState, PowerState.PAUSED, 'pause');
  t.equal((await ask<GuestReply>('hv-a', 'power', { uuid: g.uuid, op: 'pause' })).guest.powerState, PowerState.PAUSED, 'pause again converges');
  t.equal((await ask<GuestReply>('hv-a', 'power', { uuid: g.uuid, op: 'unpause' })).guest.powerState, PowerState.RUNNING, 'unpause');
  t.match(await ask('hv-a', 'console', { uuid: g.uuid, lines: 1 }), { output: 'fake-hv: guest unpaused' });
  t.match(await ask('hv-a', 'diagnostics', { uuid: g.uuid }), { diagnostics: { state: 'running', num_cpus: 1, driver: 'fake' } });
  t.equal((await ask<GuestReply>('hv-a', 'rescue', { uuid: g.uuid, rescueImage: 'rescue-img', adminPass: 'pw' })).guest.powerState, PowerState.RUNNING);
  await t.rejects(ask('hv-a', 'rescue', { uuid: g.uuid, rescueImage: 'x', adminPass: 'pw', extra: 1 }), { name: 'BadRequestError' }, 'schema refuses unknown fields');
  await t.rejects(ask('hv-a', 'set-password', { uuid: randomUUID(), password: 'pw' }), { name: 'NotFoundError' }, 'absent guest is a 404');
});

t.test('a cold migration between two hosts, confirmed', async (t) => {
  const g = spec();
  await ask('hv-a', 'spawn', { guest: g });
  t.equal((await ask<GuestReply>('hv-a', 'migrate-out', { uuid: g.uuid, dest: { host: 'hv-b' } })).guest.powerState, PowerState.SHUTDOWN);
  const done = await ask<GuestReply>('hv-b', 'finish-migration', { guest: { ...g, vcpus: 2 }, powerOn: true });
  t.match(done.guest, { powerState: PowerState.RUNNING, vcpus: 2 });
  await ask('hv-a', 'confirm-migration', { uuid: g.uuid });
  t.equal(await a.getGuest(g.uuid), undefined, 'the source keeps nothing');
  t.equal((await b.getGuest(g.uuid))?.vcpus, 2, 'the destination runs the new flavor');
});

t.test('snapshot writes the guest disk into the injected sink', async (t) => {
  const g = spec();
  const imageId = randomUUID();
  await ask('hv-a', 'spawn', { guest: g });
  await ask('hv-a', 'snapshot', { uuid: g.uuid, imageId });
  const sink = sinks.get(imageId)!;
  t.equal(sink.finished, 1);
  t.ok(Buffer.from(sink.chunks[0]!).equals(Buffer.from(fakeDiskBytes(g.uuid, 'img-1', 0))), 'the bytes are the guest disk');
});

t.test('a hung driver call ends at the request deadline, and the retry runs again', async (t) => {
  const g = spec();
  await ask('hv-a', 'spawn', { guest: g });
  a.faults.addRule({ op: 'reboot', action: 'hang', times: 1 });
  const key = `${g.uuid}.reboot`;
  const err = await ask('hv-a', 'power', { uuid: g.uuid, op: 'reboot_hard' }, { timeoutMs: 300, key }).catch((e: unknown) => e);
  t.ok(err instanceof TimeoutError, `the request times out (${String(err)})`);
  // The driver call ended at its deadline too, so the key's outcome is forgotten and a retry with the
  // same key reboots (were it remembered, every retry would replay the timeout).
  await waitFor('a retry with the same key to reboot', async () =>
    (await ask<GuestReply>('hv-a', 'power', { uuid: g.uuid, op: 'reboot_hard' }, { key }).catch(() => undefined))?.guest.powerState === PowerState.RUNNING);
  t.match(await a.consoleOutput(g.uuid, 1), 'fake-hv: hard reset', 'the retry really rebooted');
});

t.test('power sync: a crash is reported at once, listings carry every guest', async (t) => {
  const g = spec();
  await ask('hv-b', 'spawn', { guest: g });
  b.crashGuest(g.uuid);
  await waitFor('the crash event', () => syncs.some((s) => s.cause === 'event' && s.guests[0]?.uuid === g.uuid));
  t.match(syncs.find((s) => s.cause === 'event' && s.guests[0]?.uuid === g.uuid), { host: 'hv-b', guests: [{ powerState: PowerState.CRASHED }] });
  // The spawn's capacity report lists the guests too.
  await waitFor('a listing with the guest', () => syncs.some((s) => s.cause === 'periodic' && s.host === 'hv-b' && s.guests.some((x) => x.uuid === g.uuid)));
  const listing = syncs.filter((s) => s.cause === 'periodic' && s.host === 'hv-b').at(-1)!;
  t.match(listing, { chunk: 0, chunks: 1 });
});
