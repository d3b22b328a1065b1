/**
 * Real guests end to end, through the REST API, on a libvirt host (a session-mode libvirtd of the
 * file's own, QEMU under TCG): the tiny test guest boots to ACTIVE and prints its kernel's lines and
 * its config drive (hostname, key pair, user data) on the serial console that os-getConsoleOutput
 * reads; the power actions land in libvirt; a snapshot becomes an image that boots; a guest that
 * powers itself off becomes SHUTOFF; delete leaves no domain and no instance directory.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { startLibvirtHosts } from '../../cluster/libvirt-hosts.js';
import { seedTestImage } from '../../cluster/test-image-seed.js';
import { startApiCluster } from '../harness/api-http.js';
import { serverKit } from '../harness/server-kit.js';
import { waitFor } from '../harness/poll.js';

const dir = await mkdtemp(join(tmpdir(), 'novact-e2e-'));
const libvirt = await startLibvirtHosts(['kvm-1'], dir, { domainType: 'qemu', softShutdownMs: 20_000, pollMs: 500 });
t.teardown(async () => {
  await libvirt.stop();
  await rm(dir, { recursive: true, force: true });
});
// Real guests take seconds, not milliseconds: the first spawn downloads the kernel (≈66 MB).
const slow = { spawnTimeoutMs: 180_000, powerTimeoutMs: 90_000 };
const { cluster, http, admin } = await startApiCluster(t, { hosts: libvirt.hosts, requestTimeoutMs: 60_000, conductor: slow });
const driver = libvirt.hosts[0]!.driver;
const instances = join(dir, 'kvm-1', 'instances');
const image = await seedTestImage(cluster.client);
const { settled, action } = serverKit(cluster, http, admin);
const settle = (id: string, status: string) => cluster.client.waitForServer(id, (s) => s.status === status && s.taskState === null, 180_000);
const mv = { 'OpenStack-API-Version': 'compute 2.79', 'X-OpenStack-Nova-API-Version': '2.79' };

async function console(id: string): Promise<string> {
  const r = await action(id, { 'os-getConsoleOutput': { length: null } });
  return r.status === 200 ? (r.body.output as string) : '';
}
const consoleShows = (id: string, text: string, timeoutMs = 150_000) =>
  waitFor(`${text} on ${id}'s console`, async () => (await console(id)).includes(text), timeoutMs);
const b64 = (s: string) => Buffer.from(s).toString('base64');

const key = await http.post('/v2.1/os-keypairs', { token: admin, body: { keypair: { name: 'e2e-key' } } });
const publicKey = key.body.keypair.public_key as string;
let first = '';

t.test('boot a real guest: ACTIVE, its kernel and config drive on the console', async (t) => {
  const r = await http.post('/v2.1/servers', {
    token: admin, headers: mv,
    body: { server: { name: 'tiny-one', flavorRef: '1', imageRef: image.id, key_name: 'e2e-key', config_drive: true, user_data: b64('#!/bin/sh\necho e2e-user-data-ran\n') } },
  });
  t.equal(r.status, 202, r.text);
  first = r.body.server.id;
  const s = await settle(first, 'ACTIVE');
  t.equal(s.host, 'kvm-1');
  t.equal((await driver.getGuest(first))?.powerState, 1, 'libvirt runs it');
  await consoleShows(first, 'novact-tiny: ready');
  const out = await console(first);
  t.match(out, /Linux version \d/, 'the kernel\'s lines');
  t.match(out, /Command line: console=ttyS0/, 'os_command_line from the image');
  t.ok(out.includes(first), 'meta_data.json carries the uuid');
  t.ok(out.includes('"hostname": "tiny-one') || out.includes('"hostname":"tiny-one'), 'and the hostname');
  t.ok(out.includes(publicKey.split(' ')[1]!.slice(0, 40)), 'and the key pair');
  t.match(out, /e2e-user-data-ran/, 'the user data ran');
  const tail = await action(first, { 'os-getConsoleOutput': { length: 1 } });
  t.equal(tail.body.output.trimEnd().split('\n').length, 1, 'length tails the log');
  const show = await http.get(`/v2.1/servers/${first}`, { token: admin, headers: mv });
  t.equal(show.body.server.config_drive, 'True');
});

// [action body, the status it settles in, libvirt's power state then]
const STEPS: [string, unknown, string, number][] = [
  ['stop', { 'os-stop': null }, 'SHUTOFF', 4],
  ['start', { 'os-start': null }, 'ACTIVE', 1],
  ['soft reboot', { reboot: { type: 'SOFT' } }, 'ACTIVE', 1],
  ['hard reboot', { reboot: { type: 'HARD' } }, 'ACTIVE', 1],
  ['pause', { pause: null }, 'PAUSED', 3],
  ['unpause', { unpause: null }, 'ACTIVE', 1],
  ['suspend', { suspend: null }, 'SUSPENDED', 7],
  ['resume', { resume: null }, 'ACTIVE', 1],
];
t.test('power actions land in libvirt', async (t) => {
  for (const [name, body, status, power] of STEPS) {
    const r = await action(first, body);
    t.equal(r.status, 202, `${name}: ${r.text}`);
    await settle(first, status);
    t.equal((await driver.getGuest(first))?.powerState, power, `${name}: ${status}, libvirt agrees`);
  }
  await consoleShows(first, 'novact-tiny: ready');
});

t.test('a snapshot is an image that boots; a guest that powers itself off becomes SHUTOFF', async (t) => {
  const r = await action(first, { createImage: { name: 'tiny-snap' } }, admin, { 'OpenStack-API-Version': 'compute 2.45', 'X-OpenStack-Nova-API-Version': '2.45' });
  t.equal(r.status, 202, r.text);
  const snapId = r.body.image_id as string;
  await waitFor('the snapshot active', async () => (await cluster.client.listImages()).some((i) => i.id === snapId && i.status === 'active'), 120_000);
  await settled(first, 'ACTIVE');
  const b = await http.post('/v2.1/servers', {
    token: admin, body: { server: { name: 'from-snap', flavorRef: '1', imageRef: snapId, config_drive: true, user_data: b64('#!/bin/sh\necho powering-off-now\npoweroff -f\n') } },
  });
  t.equal(b.status, 202, b.text);
  const second = b.body.server.id as string;
  await settle(second, 'ACTIVE');
  // The guest boots the snapshot's disk with the inherited kernel, runs its user data, and stops.
  await settle(second, 'SHUTOFF');
  t.match(await console(second), /powering-off-now/, 'its own user data ran');
  t.equal((await driver.getGuest(second))?.powerState, 4, 'libvirt: shut off');
  t.equal((await http.delete(`/v2.1/servers/${second}`, { token: admin })).status, 204);
  await cluster.client.waitForServer(second, (s) => s.status === 'DELETED', 60_000);
});

t.test('delete leaves no domain, no disk, no directory', async (t) => {
  t.equal((await http.delete(`/v2.1/servers/${first}`, { token: admin })).status, 204);
  await cluster.client.waitForServer(first, (s) => s.status === 'DELETED', 60_000);
  t.equal(await driver.getGuest(first), undefined, 'no domain');
  t.same((await driver.listGuests()).map((g) => g.uuid), [], 'libvirt lists no guest of ours');
  t.same((await readdir(instances)).filter((n) => n !== '_base' && n !== '_snapshots'), [], 'no instance directory: only the image cache and the snapshot scratch dir');
  t.same(await readdir(join(instances, '_snapshots')), [], 'and no snapshot scratch left');
});
