/**
 * A snapshot whose instance actor crashes while the host uploads: the restarted actor resumes
 * `image_uploading` from the row, re-issues the host snapshot into the same image, and the task ends
 * consistent: the server idle and ACTIVE, the image active with the guest's bytes, the action a
 * success; the first upload, released afterwards, cannot change the finished image.
 */
import { createHash } from 'node:crypto';
import t from 'tap';
import { FakeDriver } from '../../hosts/fake/fake-driver.js';
import { FAKE_SNAPSHOT_CHUNKS, fakeDiskBytes } from '../../hosts/fake/fake-guest-ops.js';
import type { CallOptions, ImageDataSink } from '../../hosts/driver.js';
import { startTestCluster, settled } from '../harness/cluster.js';

/** Holds the first snapshot it is asked for at a gate the test opens; later ones run at once. */
class GatedSnapshots extends FakeDriver {
  private armed: { started: () => void; gate: Promise<void> } | undefined;
  /** How the held snapshot ended, once released. */
  held: Promise<'finished' | 'failed'> | undefined;

  arm(): { started: Promise<void>; open: () => void } {
    let started!: () => void;
    let open!: () => void;
    const startedP = new Promise<void>((r) => (started = r));
    this.armed = { started, gate: new Promise<void>((r) => (open = r)) };
    return { started: startedP, open };
  }

  override async snapshot(uuid: string, sink: ImageDataSink, opts?: CallOptions): Promise<void> {
    const held = this.armed;
    this.armed = undefined;
    if (!held) return super.snapshot(uuid, sink, opts);
    held.started();
    const run = held.gate.then(() => super.snapshot(uuid, sink, opts));
    this.held = run.then(() => 'finished' as const, () => 'failed' as const);
    return run;
  }
}

const driver = new GatedSnapshots({ hostname: 'compute-1' });
const { cluster } = await startTestCluster(t, { hosts: [{ name: 'compute-1', driver }] });
const { client } = cluster;
const base = (await client.listImages())[0]!;
const imageOf = async (id: string) =>
  (await client.bridge.request<{ image: { status: string; checksum?: string | null } }>(client.subjects.image(id, 'get'), 'get', {}, { timeoutMs: 5_000 })).image;

t.test('instance actor crash during the upload: resumed, one consistent image, server ACTIVE', async (t) => {
  const s = await client.createServer({ name: 'crashy', flavorRef: 'm1.tiny', imageRef: base.id });
  t.equal((await client.waitForServer(s.id, settled)).status, 'ACTIVE');
  const gate = driver.arm();
  const reply = await client.bridge.request<{ result?: { imageId?: string } }>(
    client.subjects.instance(s.id, 'createImage'), 'createImage', { args: { name: 'through-a-crash' } },
    { timeoutMs: 10_000, idempotencyKey: `snap-crash-${s.id}` },
  );
  const imageId = reply.result!.imageId!;
  await gate.started;
  t.equal((await client.getServer(s.id)).taskState, 'image_uploading', 'the host holds the upload');
  cluster.conductor!.crashInstance(s.id);
  const done = await client.waitForServer(s.id, (x) => x.taskState === null);
  t.equal(done.status, 'ACTIVE');
  const img = await imageOf(imageId);
  t.equal(img.status, 'active', 'the resumed upload filled the image');
  const md5 = createHash('md5');
  for (let i = 0; i < FAKE_SNAPSHOT_CHUNKS; i++) md5.update(fakeDiskBytes(s.id, base.id, i));
  t.equal(img.checksum, md5.digest('hex'));

  // The first upload now runs into an image that is already complete: refused, the image untouched.
  gate.open();
  t.equal(await driver.held, 'failed', 'the first upload was refused');
  const again = await imageOf(imageId);
  t.same([again.status, again.checksum], [img.status, img.checksum], 'still active, the same bytes');
  t.equal((await client.getServer(s.id)).taskState, null);
});
