import t from 'tap';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DriverError } from '../../hosts/driver.js';
import { buildConfigDrive, configDriveFiles } from '../../hosts/libvirt/config-drive.js';
import { run } from '../../hosts/libvirt/exec.js';
import type { GuestSpec } from '../../protocols/host.js';

const root = await mkdtemp(join(tmpdir(), 'novact-cfgdrive-'));
t.teardown(() => rm(root, { recursive: true, force: true }));

const seed = new Uint8Array(512).map((_, i) => i % 251);
const hostile = Buffer.concat([Buffer.from('#!/bin/sh\n../../etc/passwd\0'), Buffer.from(Array.from({ length: 256 }, (_, i) => i)), Buffer.from('\r\n\xff\xfe')]);

const spec: GuestSpec = {
  uuid: '6f1c9d2e-8a34-4b1e-9c55-2f0d7e3a9b10',
  name: 'web 1',
  vcpus: 1,
  memoryMb: 128,
  diskGb: 1,
  image: { id: 'cirros', diskFormat: 'qcow2', properties: {} },
  flavor: { id: '1', name: 'm1.tiny' },
  projectId: 'p-123',
  userId: 'u-456',
  hostname: 'web-1',
  keyPair: { name: 'mykey', publicKey: 'ssh-ed25519 AAAAC3Nza test@host', type: 'ssh' },
  userData: hostile.toString('base64'),
  configDrive: true,
  metadata: { role: 'web', '../../x': 'a/b\0' },
  nics: [{
    portId: 'a7c1e0f2-3b4d-4e5f-8a9b-0c1d2e3f4a5b', networkId: '5d4c3b2a-1f0e-4d9c-8b7a-695847362514', mac: 'fa:16:3e:12:34:56', mtu: 1450,
    fixedIps: [
      { address: '10.0.0.7', version: 4, cidr: '10.0.0.0/24', gateway: '10.0.0.1', dns: ['10.0.0.2'] },
      { address: 'fd00:1::7', version: 6, cidr: 'fd00:1::/64', gateway: null },
    ],
  }],
};
/** What Nova's get_network_metadata makes of the spec's one NIC. */
const NETWORK_DATA = {
  links: [{ id: 'tapa7c1e0f2-3b', vif_id: 'a7c1e0f2-3b4d-4e5f-8a9b-0c1d2e3f4a5b', type: 'phy', mtu: 1450, ethernet_mac_address: 'fa:16:3e:12:34:56' }],
  networks: [
    {
      id: 'network0', type: 'ipv4', link: 'tapa7c1e0f2-3b', ip_address: '10.0.0.7', netmask: '255.255.255.0',
      routes: [{ network: '0.0.0.0', netmask: '0.0.0.0', gateway: '10.0.0.1' }], network_id: '5d4c3b2a-1f0e-4d9c-8b7a-695847362514',
      services: [{ type: 'dns', address: '10.0.0.2' }],
    },
    {
      id: 'network1', type: 'ipv6', link: 'tapa7c1e0f2-3b', ip_address: 'fd00:1::7', netmask: 'ffff:ffff:ffff:ffff::',
      routes: [], network_id: '5d4c3b2a-1f0e-4d9c-8b7a-695847362514', services: [],
    },
  ],
  services: [{ type: 'dns', address: '10.0.0.2' }],
};

const paths = (dir: string) => ['meta_data.json', 'network_data.json', 'user_data', 'vendor_data.json', 'vendor_data2.json'].map((f) => `${dir}/${f}`);
const ALL = [...paths('openstack/2018-08-27'), ...paths('openstack/latest'), 'ec2/latest/meta-data.json', 'ec2/latest/user-data'].sort();
const parse = (v: string | Uint8Array | undefined): unknown => JSON.parse(typeof v === 'string' ? v : Buffer.from(v ?? '').toString());

t.test('the files and their contents, with Nova\'s keys', async (t) => {
  const files = configDriveFiles(spec, { availabilityZone: 'az1', randomSeed: seed });
  t.same(Object.keys(files).sort(), ALL);
  const base = {
    uuid: spec.uuid,
    meta: { role: 'web', '../../x': 'a/b\0' },
    public_keys: { mykey: 'ssh-ed25519 AAAAC3Nza test@host' },
    keys: [{ name: 'mykey', type: 'ssh', data: 'ssh-ed25519 AAAAC3Nza test@host' }],
    hostname: 'web-1.novalocal',
    name: 'web 1',
    launch_index: 0,
    availability_zone: 'az1',
    random_seed: Buffer.from(seed).toString('base64'),
    project_id: 'p-123',
    devices: [],
  };
  t.strictSame(parse(files['openstack/2018-08-27/meta_data.json']), base);
  t.strictSame(parse(files['openstack/latest/meta_data.json']), { ...base, dedicated_cpus: [] });
  for (const v of ['2018-08-27', 'latest']) {
    t.same(Buffer.from(files[`openstack/${v}/user_data`]!), hostile, 'user data decoded exactly');
    t.strictSame(parse(files[`openstack/${v}/network_data.json`]), NETWORK_DATA, 'the port\'s addresses, as Nova writes them');
    t.strictSame(parse(files[`openstack/${v}/vendor_data.json`]), {});
    t.strictSame(parse(files[`openstack/${v}/vendor_data2.json`]), { static: {} });
  }
  t.strictSame(parse(files['ec2/latest/meta-data.json']), {
    'ami-launch-index': 0,
    hostname: 'web-1.novalocal',
    'local-ipv4': '10.0.0.7',
    'local-hostname': 'web-1.novalocal',
    'public-hostname': 'web-1.novalocal',
    'instance-type': 'm1.tiny',
    placement: { 'availability-zone': 'az1' },
    'instance-action': 'none',
    'security-groups': [],
    'public-keys': { 0: { 'openssh-key': 'ssh-ed25519 AAAAC3Nza test@host' } },
  });
  t.same(Buffer.from(files['ec2/latest/user-data']!), hostile);
  t.strictSame(configDriveFiles(spec, { availabilityZone: 'az1', randomSeed: seed }), files, 'pure given the seed');
});

t.test('a bare spec: no user data, keys or meta; defaults for zone, domain and hostname', async (t) => {
  const bare: GuestSpec = { uuid: 'u-1', name: 'My_Server.x', vcpus: 1, memoryMb: 64, diskGb: 1, image: { id: 'i', diskFormat: 'raw', properties: {} }, metadata: {} };
  const files = configDriveFiles(bare);
  t.same(Object.keys(files).sort(), ALL.filter((p) => !/user[-_]data$/.test(p)));
  const md = parse(files['openstack/latest/meta_data.json']) as Record<string, unknown>;
  t.notOk('meta' in md || 'public_keys' in md || 'keys' in md);
  t.equal(md.hostname, 'my-server-x.novalocal', 'Nova\'s sanitised display name');
  t.equal(md.availability_zone, 'nova');
  t.equal(md.project_id, null);
  t.equal(Buffer.from(md.random_seed as string, 'base64').length, 512);
  const again = parse(configDriveFiles(bare)['openstack/latest/meta_data.json']) as Record<string, unknown>;
  t.not(again.random_seed, md.random_seed, 'a fresh seed each time');
  t.strictSame(parse(files['openstack/latest/network_data.json']), {}, 'no NICs: {} (Nova: no network info)');
  const ec2 = parse(files['ec2/latest/meta-data.json']) as Record<string, unknown>;
  t.notOk('public-keys' in ec2 || 'instance-type' in ec2 || 'local-ipv4' in ec2);
  const plain = parse(configDriveFiles(bare, { dhcpDomain: '', availabilityZone: null })['openstack/latest/meta_data.json']) as Record<string, unknown>;
  t.equal(plain.hostname, 'my-server-x');
  t.equal(plain.availability_zone, null);
});

t.test('names from the spec never become file names', async (t) => {
  const evil: GuestSpec = { ...spec, name: '../../../etc/cron.d/x', hostname: '../x', metadata: { '../../../root/.ssh/authorized_keys': 'k', 'openstack/latest/user_data': 'y' } };
  t.same(Object.keys(configDriveFiles(evil, { randomSeed: seed })).sort(), ALL);
});

t.test('the ISO: labelled config-2, holding exactly the files, atomically replaced', async (t) => {
  const dir = join(root, 'guest');
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir);
  const iso = join(dir, 'disk.config');
  await writeFile(iso, 'an older drive');
  const ctx = { availabilityZone: 'az1', randomSeed: seed };
  await buildConfigDrive(spec, iso, ctx);
  t.same(await readdir(dir), ['disk.config'], 'no .part and no build tree left');

  const pvd = await run('xorriso', ['-indev', iso, '-pvd_info']);
  t.match(pvd, /Volume Id\s*:\s*config-2\s*$/m);
  const listed = (await run('xorriso', ['-indev', iso, '-find', '/', '-type', 'f']))
    .trim().split('\n').map((l) => l.replace(/^'\/|'$/g, '')).sort();
  t.same(listed, ALL);

  const out = join(root, 'extracted');
  await rm(out, { recursive: true, force: true });
  await run('osirrox', ['-indev', iso, '-extract', '/', out]);
  const files = configDriveFiles(spec, ctx);
  for (const p of ALL) t.same(await readFile(join(out, p)), Buffer.from(files[p]!), p);
  t.same(await readFile(join(out, 'openstack/latest/user_data')), hostile, 'hostile user data round-trips exactly');
});

t.test('failures are DriverErrors and leave nothing', async (t) => {
  const missing = join(root, 'no-such-dir', 'disk.config');
  const e = await buildConfigDrive(spec, missing).then(() => undefined, (err: unknown) => err);
  t.ok(e instanceof DriverError);
  t.equal((e as DriverError).kind, 'failed');
  const ac = new AbortController();
  ac.abort();
  const dir = join(root, 'aborted');
  await mkdir(dir, { recursive: true });
  const a = await buildConfigDrive(spec, join(dir, 'disk.config'), {}, { signal: ac.signal }).then(() => undefined, (err: unknown) => err);
  t.equal((a as DriverError).kind, 'aborted');
  t.same(await readdir(dir), []);
});
