/**
 * Snapshot images end to end under the packaged nats.conf (per-role users, one nkey identity per
 * host): the conductor's credential creates a snapshot image for host A; A's identity uploads it in
 * chunks (queued → saving → active, checksum and os_hash_value computed); it is the project's,
 * private, with Nova's properties, and boots a server. Host B can neither upload it under its own
 * name (403) nor under A's (a NATS permissions violation); an abort deletes the image; any host's
 * download returns the bytes and verifies them (and refuses corrupted ones); backup rotation keeps
 * the newest N.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { connect, type NatsConnection } from 'nats';
import { createSnapshotSink } from '../../actors/compute/image-sink.js';
import { fetchImage, ImageIntegrityError } from '../../actors/compute/image-source.js';
import { ImageBackupRotate, ImageQuery, ImageSnapshotCreate, type SnapshotCreateRequest } from '../../protocols/catalog/index.js';
import { hostInboxPrefix, roleInboxPrefix } from '../../protocols/host-identity.js';
import type { ImageMeta } from '../../protocols/resources.js';
import { startCluster } from '../../cluster/cluster.js';
import { systemClock } from '../../runtime/clock.js';
import { createLogger } from '../../runtime/log/logger.js';
import { Bridge } from '../../runtime/nats/bridge.js';
import { connectNats } from '../../runtime/nats/connection.js';
import { identityFromSeed } from '../../runtime/nats/host-identity.js';
import { until } from '../harness/poll.js';

const imageDir = await mkdtemp(join(tmpdir(), 'novact-snap-test-'));
t.teardown(() => rm(imageDir, { recursive: true, force: true }));
const cluster = await startCluster({
  hosts: 1, logLevel: 'error', requestTimeoutMs: 5_000, imageDataDir: imageDir, roles: ['conductor', 'scheduler', 'compute', 'image'],
  compute: { reportIntervalMs: 500, heartbeatIntervalMs: 200 },
  conductor: { spawnTimeoutMs: 5_000, powerTimeoutMs: 5_000, convergeAttempts: 4 },
});
t.teardown(() => cluster.stop());
await cluster.waitForHosts(1);
const { subjects, client } = cluster;
const log = createLogger('silent');
const natsUrl = (await cluster.join([])).natsUrl;
const conns: NatsConnection[] = [];
t.teardown(() => Promise.all(conns.map((c) => c.close())).then(() => undefined));

const creds = cluster.roleAuth.conductor!;
const conductorNc = await connect({ servers: natsUrl, user: creds.user, pass: creds.pass, inboxPrefix: roleInboxPrefix('conductor') });
conns.push(conductorNc);
const conductor = new Bridge(conductorNc, systemClock, log, 5_000, subjects);

/** A registered host identity for `name` (what `--join --roles compute` gets), and the violations its server reports. */
async function asHost(name: string) {
  const spec = await cluster.join(['compute'], [name]);
  const id = identityFromSeed(spec.hostSeed!);
  const nc = await connectNats({ servers: spec.natsUrl, name: `test-${name}`, nkeySeed: id.seed, inboxPrefix: hostInboxPrefix(id.publicKey) });
  conns.push(nc);
  const violations: string[] = [];
  void (async () => {
    for await (const s of nc.status()) {
      const ctx = (s as { permissionContext?: { operation: string; subject: string } }).permissionContext;
      if (s.type === 'error' && ctx) violations.push(`${ctx.operation} ${ctx.subject}`);
    }
  })();
  return { name, bridge: new Bridge(nc, systemClock, log, 5_000, subjects), violations };
}
const hostA = await asHost('snap-a');
const hostB = await asHost('snap-b');

const PROJECT = 'proj-snap';
const OTHER = 'proj-other';
const base = (await client.listImages()).find((i) => i.status === 'active')!;

function snapshotBody(o: Partial<SnapshotCreateRequest> = {}): SnapshotCreateRequest {
  return {
    name: 'snap', projectId: PROJECT, userId: 'user-1', instanceUuid: randomUUID(), baseImageRef: base.id, imageType: 'snapshot',
    visibility: 'private', minDisk: 1, minRam: 64, host: 'snap-a',
    properties: { hw_architecture: 'x86_64', img_signature: 'sig', cache_in_nova: 'true', os_glance_importing: 'x', instance_uuid: 'stale' },
    ...o,
  };
}
const createSnapshot = (body: SnapshotCreateRequest, key = randomUUID()) =>
  conductor.call(ImageSnapshotCreate, [], body, { timeoutMs: 5_000, idempotencyKey: key }).then((r) => r.image);
const getImage = async (id: string): Promise<ImageMeta> => (await client.bridge.request<{ image: ImageMeta }>(subjects.image(id, 'get'), 'get', {}, { timeoutMs: 5_000 })).image;
const listedFor = async (projectId: string) =>
  ((await client.bridge.call(ImageQuery, [], { viewer: { projectId }, limit: 1000 }, { timeoutMs: 5_000 })) as { images: ImageMeta[] }).images;
const visibleTo = async (projectId: string) => (await listedFor(projectId)).map((i) => i.id);
async function upload(host: { bridge: Bridge; name: string }, id: string, data: Buffer, pieces: number) {
  const sink = createSnapshotSink(host.bridge, subjects, host.name, id);
  const step = Math.ceil(data.length / pieces);
  for (let at = 0; at < data.length; at += step) await sink.write(data.subarray(at, at + step));
  return sink;
}
async function download(host: { bridge: Bridge; name: string }, id: string, opts = {}) {
  const parts: Buffer[] = [];
  const integrity = await fetchImage(host.bridge, subjects, host.name, id, (c) => void parts.push(Buffer.from(c)), opts);
  return { integrity, bytes: Buffer.concat(parts) };
}

t.test('a snapshot: created queued for host A, uploaded in chunks, active with its checksums, the project\'s, bootable', async (t) => {
  const body = snapshotBody({ imageId: randomUUID() });
  const img = await createSnapshot(body);
  t.match(img, { id: body.imageId, status: 'queued', ownerProjectId: PROJECT, visibility: 'private', minDiskGb: 1, minRamMb: 64 });
  t.same(img.properties, {
    hw_architecture: 'x86_64', instance_uuid: body.instanceUuid, image_type: 'snapshot', base_image_ref: base.id, user_id: 'user-1',
  }, 'the source\'s properties minus non-inheritable and reserved ones, plus Nova\'s');
  t.equal((await createSnapshot(body)).id, img.id, 'a retried create (same image id) answers the same image');
  const keyed = snapshotBody();
  const key = randomUUID();
  t.equal((await createSnapshot(keyed, key)).id, (await createSnapshot(keyed, key)).id, 'without an id, the idempotency key decides it');

  const data = randomBytes(1_300_000);
  const sink = await upload(hostA, img.id, data, 5);
  t.equal((await getImage(img.id)).status, 'saving', 'saving while the data arrives');
  await sink.finish();
  const done = await getImage(img.id);
  t.match(done, {
    status: 'active', sizeBytes: data.length, checksum: createHash('md5').update(data).digest('hex'),
    osHashAlgo: 'sha512', osHashValue: createHash('sha512').update(data).digest('hex'),
  });
  await t.rejects(sink.write(new Uint8Array(1)), { code: 409 }, 'a finished sink takes no more data');

  t.ok((await visibleTo(PROJECT)).includes(img.id), 'listed for its project');
  t.notOk((await visibleTo(OTHER)).includes(img.id), 'not for another project');

  const a = await download(hostA, img.id, { expected: done });
  t.ok(a.bytes.equals(data), 'host A downloads the bytes');
  t.equal(a.integrity.checksum, done.checksum);
  t.ok((await download(hostB, img.id)).bytes.equals(data), 'any host downloads an active image');

  const server = await client.createServer({ name: 'from-snap', flavorRef: 'm1.tiny', imageRef: img.id, projectId: PROJECT });
  const booted = await client.waitForServer(server.id, (s) => s.status !== 'BUILD', 30_000);
  t.equal(booted.status, 'ACTIVE', 'a server boots from the snapshot');
  await client.deleteServer(server.id);
  await client.waitForServer(server.id, (s) => s.status === 'DELETED', 30_000);
});

t.test('only the named host uploads: another host gets a 403 under its own name, a violation under the host\'s', async (t) => {
  const img = await createSnapshot(snapshotBody());
  await t.rejects(upload(hostB, img.id, randomBytes(10), 1), { code: 403 }, 'host B asking as itself is refused');
  const before = hostB.violations.length;
  const forged = createSnapshotSink(hostB.bridge, subjects, 'snap-a', img.id, { timeoutMs: 1_000 });
  await t.rejects(forged.write(randomBytes(10)), 'host B cannot publish under host A\'s name');
  await until(() => hostB.violations.length > before, 5_000);
  t.match(hostB.violations.slice(before), [`publish ${subjects.image(img.id, 'snapshot-begin')}.snap-a`]);
  t.equal((await getImage(img.id)).status, 'queued', 'the image is untouched');
  await t.rejects(
    client.bridge.request(subjects.image(img.id, 'upload-begin'), 'upload-begin', {}, { timeoutMs: 5_000, idempotencyKey: randomUUID() }),
    { code: 409 }, 'nor does the API upload into a snapshot',
  );
  const sink = await upload(hostA, img.id, randomBytes(100), 1);
  await sink.finish();
  t.equal((await getImage(img.id)).status, 'active', 'host A still can');
  await t.rejects(download(hostA, (await createSnapshot(snapshotBody())).id), { code: 409 }, 'hosts are served active images only');
});

t.test('abort deletes the snapshot image, before or during the upload', async (t) => {
  const during = await createSnapshot(snapshotBody());
  const sink = await upload(hostA, during.id, randomBytes(700_000), 2);
  t.equal((await getImage(during.id)).status, 'saving');
  await sink.abort();
  await t.rejects(getImage(during.id), { code: 404 }, 'deleted mid-upload');
  const before = await createSnapshot(snapshotBody());
  await createSnapshotSink(hostA.bridge, subjects, hostA.name, before.id).abort();
  await t.rejects(getImage(before.id), { code: 404 }, 'deleted before any data');
});

t.test('a download whose bytes do not match the checksums fails', async (t) => {
  const img = await createSnapshot(snapshotBody());
  const data = randomBytes(600_000);
  await (await upload(hostA, img.id, data, 3)).finish();
  // Corrupt the stored data behind the image role's back (same size, one byte flipped).
  data[123_456] = data[123_456]! ^ 0xff;
  await writeFile(join(imageDir, img.id), data);
  await t.rejects(download(hostA, img.id), ImageIntegrityError);
});

t.test('backup rotation keeps the newest N of one instance and type', async (t) => {
  const instanceUuid = randomUUID();
  const backup = (backupType: string, uuid = instanceUuid) =>
    createSnapshot(snapshotBody({ name: `${backupType}-backup`, instanceUuid: uuid, imageType: 'backup', backupType }));
  const daily: ImageMeta[] = [];
  for (let i = 0; i < 4; i++) daily.push(await backup('daily'));
  t.equal(daily[0]!.properties.backup_type, 'daily');
  t.equal(daily[0]!.properties.image_type, 'backup');
  const weekly = await backup('weekly');
  const elsewhere = await backup('daily', randomUUID());
  // Newest first by created_at, then id, as the rotation orders them.
  const key = (i: ImageMeta) => `${i.createdAt}/${i.id}`;
  const order = [...daily].sort((x, y) => (key(x) < key(y) ? 1 : -1)).map((i) => i.id);
  const rotate = () => conductor.call(ImageBackupRotate, [], { instanceUuid, backupType: 'daily', rotation: 2, projectId: PROJECT }, { timeoutMs: 5_000, idempotencyKey: randomUUID() });
  t.same((await rotate()).deleted.sort(), order.slice(2).sort(), 'the two oldest deleted');
  for (const id of order.slice(2)) await t.rejects(getImage(id), { code: 404 });
  for (const id of [...order.slice(0, 2), weekly.id, elsewhere.id]) t.equal((await getImage(id)).status, 'queued', `${id} kept`);
  t.same((await rotate()).deleted, [], 'rotating again deletes nothing');
});

t.test('snapshots count against the project\'s image quota', async (t) => {
  t.same((await listedFor('proj-quota')).filter((i) => i.ownerProjectId === 'proj-quota'), [], 'the project owns no image yet');
  await createSnapshot(snapshotBody({ projectId: 'proj-quota', maxImages: 1 }));
  await t.rejects(createSnapshot(snapshotBody({ projectId: 'proj-quota', maxImages: 1 })), { code: 413 });
});
