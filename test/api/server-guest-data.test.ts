/**
 * What a guest is built with, from the REST API to the host, in Nova's terms: `user_data`,
 * `config_drive`, `key_name` and the flavor's disk split reach the spec the fake hypervisor
 * received; the server shows them by microversion; the key is the one copied at boot even after its
 * pair is deleted; a rebuild replaces user data (2.57) and key (2.54). The hosts' drivers download
 * the image at spawn through the ImageFetcher the compute role attached: the bytes of a real upload,
 * verified, and a corrupted image fails the build with a fault.
 */
import t from 'tap';
import { createHash, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CallOptions, GuestInfo, GuestSpec, HostServices } from '../../hosts/driver.js';
import { FakeDriver } from '../../hosts/fake/fake-driver.js';
import { fault, startApiCluster } from '../harness/api-http.js';

/** A fake that downloads the image at spawn, as a real driver does, with the fetcher the compute role attached. */
class DownloadingFake extends FakeDriver {
  services?: HostServices;
  readonly downloaded = new Map<string, Buffer>();
  attach(s: HostServices): void { this.services = s; }
  override async spawn(spec: GuestSpec, opts?: CallOptions): Promise<GuestInfo> {
    // An image registered without data (the cluster's default) has nothing to download.
    if (spec.image.checksum || spec.image.osHashValue) {
      const parts: Buffer[] = [];
      await this.services!.images.fetch(spec.image.id, (c) => void parts.push(Buffer.from(c)), spec.image, opts);
      this.downloaded.set(spec.uuid, Buffer.concat(parts));
    }
    return super.spawn(spec, opts);
  }
}

const imageDir = await mkdtemp(join(tmpdir(), 'novact-guest-data-'));
t.teardown(() => rm(imageDir, { recursive: true, force: true }));
const drivers = [1, 2].map((i) => new DownloadingFake({ hostname: `compute-${i}`, keepSpecs: true }));
const { cluster, http, admin } = await startApiCluster(t, { imageDataDir: imageDir, hosts: drivers.map((driver, i) => ({ name: `compute-${i + 1}`, driver })) });
const alice = await http.member(admin, 'project-g', 'alice', 'member');
const mv = (n: number) => ({ 'OpenStack-API-Version': `compute 2.${n}` });

/** An OpenSSH ed25519 public key line (a fresh key each call). */
function sshKey(comment: string): string {
  const raw = Buffer.from(generateKeyPairSync('ed25519').publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const field = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b]);
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from('ssh-ed25519')), field(raw)]).toString('base64')} ${comment}`;
}
async function importKey(name: string): Promise<string> {
  const key = sshKey(`${name}@test`);
  const r = await http.post('/v2.1/os-keypairs', { token: alice.token, body: { keypair: { name, public_key: key } } });
  if (r.status !== 200) throw new Error(`key ${name}: ${r.status} ${r.text}`);
  return key;
}
/** A public, active image holding `bytes`. */
async function newImage(name: string, bytes: Buffer, extra: Record<string, unknown> = {}): Promise<string> {
  const c = await http.post('/image/v2/images', { token: admin, body: { name, disk_format: 'raw', container_format: 'bare', visibility: 'public', ...extra } });
  if (c.status !== 201) throw new Error(`image ${name}: ${c.status} ${c.text}`);
  const u = await http.put(`/image/v2/images/${c.body.id}/file`, { token: admin, raw: bytes, headers: { 'Content-Type': 'application/octet-stream' } });
  if (u.status !== 204) throw new Error(`upload ${name}: ${u.status} ${u.text}`);
  return c.body.id as string;
}

const data = randomBytes(1_200_000); // three host-download chunks
const imageId = await newImage('guest-data', data);
const laptop = await importKey('laptop');
const other = await importKey('other');
const flavor = await http.post('/v2.1/flavors', {
  token: admin, body: { flavor: { name: 'split', id: 'split-1', ram: 256, vcpus: 1, disk: 1, 'OS-FLV-EXT-DATA:ephemeral': 2, swap: 512 } },
});
if (flavor.status !== 200) throw new Error(`flavor: ${flavor.status} ${flavor.text}`);

const specOf = (id: string) => drivers.map((d) => d.getSpec(id)).find((s) => s !== undefined);
const settled = (id: string, status: string) => cluster.client.waitForServer(id, (s) => s.status === status && s.taskState === null, 30_000);
const create = (server: Record<string, unknown>, headers: Record<string, string> = {}) =>
  http.post('/v2.1/servers', { token: alice.token, headers, body: { server: { flavorRef: 'split-1', imageRef: imageId, ...server } } });
async function boot(server: Record<string, unknown>): Promise<string> {
  const r = await create(server);
  if (r.status !== 202) throw new Error(`boot: ${r.status} ${r.text}`);
  await settled(r.body.server.id, 'ACTIVE');
  return r.body.server.id as string;
}
const show = async (id: string, token: string, n = 1) => (await http.get(`/v2.1/servers/${id}`, { token, headers: mv(n) })).body.server;
const rebuild = (id: string, body: Record<string, unknown>, n: number) =>
  http.post(`/v2.1/servers/${id}/action`, { token: alice.token, headers: mv(n), body: { rebuild: { imageRef: imageId, ...body } } });
const b64 = (s: string) => Buffer.from(s).toString('base64');

t.test('create: user_data, config_drive, key_name, metadata and the flavor split reach the host, with the image verified', async (t) => {
  const script = '#!/bin/sh\necho hello from user data\n';
  // Line-wrapped base64, as some clients send it (Nova's lenient decoding skips the newlines).
  const given = b64(script).replace(/(.{16})/g, '$1\n');
  const id = await boot({ name: 'Web Server_1', key_name: 'laptop', user_data: given, config_drive: 'true', metadata: { role: 'web' } });
  const spec = specOf(id)!;
  t.match(spec, {
    uuid: id, name: 'Web Server_1', vcpus: 1, memoryMb: 256, diskGb: 3, rootGb: 1, ephemeralGb: 2, swapMb: 512,
    flavor: { id: 'split-1', name: 'split' }, projectId: alice.projectId, userId: alice.userId, hostname: 'web-server-1',
    keyPair: { name: 'laptop', publicKey: laptop, type: 'ssh' }, configDrive: true, metadata: { role: 'web' },
    image: {
      id: imageId, diskFormat: 'raw', sizeBytes: data.length, checksum: createHash('md5').update(data).digest('hex'),
      osHashAlgo: 'sha512', osHashValue: createHash('sha512').update(data).digest('hex'),
    },
  });
  t.equal(spec.userData, b64(script), 'the host gets the canonical base64 of the same bytes');
  t.ok(drivers.some((d) => d.downloaded.get(id)?.equals(data)), 'the driver downloaded the uploaded bytes through its fetcher');

  const mine = await show(id, alice.token);
  t.same([mine.config_drive, mine.key_name], ['True', 'laptop']);
  t.notOk('OS-EXT-SRV-ATTR:user_data' in mine, 'user data is an admin attribute');
  t.notOk('OS-EXT-SRV-ATTR:user_data' in (await show(id, admin)), 'not before 2.3');
  t.equal((await show(id, admin, 3))['OS-EXT-SRV-ATTR:user_data'], given, 'shown as given, from 2.3');
  t.match((await show(id, alice.token, 47)).flavor, { disk: 1, ephemeral: 2, swap: 512, original_name: 'split' });
});

t.test('create refusals with Nova\'s messages: user_data not base64 or too long, config_drive not a boolean', async (t) => {
  const bad = 'A random string';
  const r = await create({ name: 'bad', user_data: bad });
  t.same([r.status, fault(r)?.message], [400, `Invalid input for field/attribute user_data. Value: ${bad}. '${bad}' is not a 'base64'`]);
  const long = 'QUFB'.repeat(16_384);
  const l = await create({ name: 'long', user_data: long });
  t.same([l.status, fault(l)?.message], [400, `Invalid input for field/attribute user_data. Value: ${long}. '${long}' is too long`]);
  t.equal((await create({ name: 'ok-length', user_data: 'QUFB'.repeat(16_383) + '\n\n\n' })).status, 202, '65535 characters are accepted');
  t.equal((await create({ name: 'maybe', config_drive: 'maybe' })).status, 400);
  t.equal((await create({ name: 'number', config_drive: 1 })).status, 400);
});

t.test('without them: config_drive "" and no user data; an image that requires a config drive gets one', async (t) => {
  const plain = await boot({ name: 'plain', config_drive: 'No' });
  t.equal((await show(plain, alice.token)).config_drive, '');
  t.equal((await show(plain, admin, 3))['OS-EXT-SRV-ATTR:user_data'], null);
  const spec = specOf(plain)!;
  t.same([spec.configDrive, spec.userData, spec.keyPair], [false, undefined, undefined]);
  const needy = await newImage('needs-config-drive', randomBytes(4096), { img_config_drive: 'mandatory' });
  const id = await boot({ name: 'needy', imageRef: needy });
  t.equal(specOf(id)!.configDrive, true, "the image's img_config_drive=mandatory");
  t.equal((await show(id, alice.token)).config_drive, 'True', 'and the server says so (Nova updates the instance)');
});

t.test('the key is copied at boot: deleting the key pair later changes neither the server nor its guest', async (t) => {
  const key = await importKey('temporary');
  const id = await boot({ name: 'keyed', key_name: 'temporary' });
  t.equal((await http.delete('/v2.1/os-keypairs/temporary', { token: alice.token })).status, 202);
  t.equal((await show(id, alice.token)).key_name, 'temporary');
  t.equal((await rebuild(id, {}, 1)).status, 202);
  await settled(id, 'ACTIVE');
  t.same(specOf(id)!.keyPair, { name: 'temporary', publicKey: key, type: 'ssh' }, 'the rebuilt guest still gets the stored key');
});

t.test('rebuild replaces user_data (2.57) and the key (2.54); null clears them', async (t) => {
  const id = await boot({ name: 'rebuilt', key_name: 'laptop', user_data: b64('first') });
  const r = await rebuild(id, { user_data: b64('second'), key_name: 'other' }, 57);
  t.equal(r.status, 202);
  t.same([r.body.server.user_data, r.body.server.key_name], [b64('second'), 'other'], "Nova's 2.57 answer");
  t.notOk('OS-EXT-SRV-ATTR:user_data' in r.body.server);
  await settled(id, 'ACTIVE');
  t.match(specOf(id), { userData: b64('second'), keyPair: { name: 'other', publicKey: other, type: 'ssh' } }, 'the host rebuilt the guest with them');
  t.same([(await show(id, admin, 3))['OS-EXT-SRV-ATTR:user_data'], (await show(id, alice.token)).key_name], [b64('second'), 'other']);

  const cleared = await rebuild(id, { user_data: null, key_name: null }, 57);
  t.same([cleared.status, cleared.body.server.user_data, cleared.body.server.key_name], [202, null, null]);
  await settled(id, 'ACTIVE');
  const spec = specOf(id)!;
  t.same([spec.userData, spec.keyPair], [undefined, undefined]);
  t.equal((await rebuild(id, { name: 'renamed' }, 57)).status, 202, 'a rebuild naming neither leaves them');
  await settled(id, 'ACTIVE');
  t.equal((await show(id, admin, 3))['OS-EXT-SRV-ATTR:user_data'], null);
  t.equal((await show(id, alice.token, 90))['OS-EXT-SRV-ATTR:hostname'], 'rebuilt', 'the hostname was fixed at create: a rename keeps it (Nova)');
});

t.test('rebuild refusals: fields before their microversion, bad base64, an unknown key, internal fields', async (t) => {
  const id = await boot({ name: 'refusing' });
  t.equal((await rebuild(id, { user_data: b64('x') }, 56)).status, 400, 'user_data needs 2.57');
  t.equal((await rebuild(id, { key_name: 'other' }, 53)).status, 400, 'key_name needs 2.54');
  const bad = await rebuild(id, { user_data: '!!!!x' }, 57);
  t.same([bad.status, fault(bad)?.message], [400, "Invalid input for field/attribute user_data. Value: !!!!x. '!!!!x' is not a 'base64'"]);
  const unknown = await rebuild(id, { key_name: 'nobody' }, 57);
  t.same([unknown.status, fault(unknown)?.message], [400, 'Invalid key_name provided.']);
  const forged = await rebuild(id, { key_name: 'other', keyPair: { publicKey: 'ssh-ed25519 AAAA', type: 'ssh' } }, 57);
  t.same([forged.status, fault(forged)?.message], [400, "Invalid input for field/attribute rebuild. Additional properties are not allowed ('keyPair' was unexpected)"]);
  t.equal((await show(id, alice.token)).status, 'ACTIVE', 'nothing was started');
});

t.test("the attached fetcher: typed driver errors; a corrupted image fails the build with a fault", async (t) => {
  const images = drivers[0]!.services!.images;
  await t.rejects(images.fetch(randomUUID(), () => undefined), { name: 'DriverError', kind: 'not-found' }, 'an unknown image');
  await t.rejects(images.fetch(imageId, () => undefined, { checksum: '0'.repeat(32) }), { name: 'DriverError', kind: 'failed' }, 'bytes that do not match what the caller expects');
  const ac = new AbortController();
  ac.abort();
  await t.rejects(images.fetch(imageId, () => undefined, undefined, { signal: ac.signal }), { name: 'DriverError', kind: 'aborted' });

  const bytes = randomBytes(100_000);
  const corrupt = await newImage('corrupt', bytes);
  bytes[777] = bytes[777]! ^ 0xff;
  await writeFile(join(imageDir, corrupt), bytes); // behind the image role's back: same size, one byte flipped
  const r = await create({ name: 'corrupt', imageRef: corrupt });
  t.equal(r.status, 202);
  await settled(r.body.server.id, 'ERROR');
  const s = await show(r.body.server.id, admin);
  t.match(s.fault.message, /failed verification: checksum mismatch/);
  t.notOk(specOf(r.body.server.id), 'no guest was built from it');
});
