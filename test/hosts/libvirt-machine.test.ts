/**
 * What a libvirt host reads of its machine: the uptime line from /proc and utmp (fixture files, and
 * this machine's own), the default route's address, and the guests' disks' room to grow (real
 * qcow2 and sparse raw files under a temporary instances path).
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { machineIp, machineUptime, PROC, type MachinePaths } from '../../hosts/libvirt/machine.js';
import { overCommittedBytes } from '../../hosts/libvirt/overcommit.js';
import { Layout } from '../../hosts/libvirt/layout.js';
import { UPTIME_LINE } from '../../hosts/uptime-line.js';

const dir = await mkdtemp(join(tmpdir(), 'novact-machine-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

/** A utmp record: `ut_type` at 0, `ut_user` at 44, 384 bytes in all. */
function utmpRecord(type: number, user: string): Buffer {
  const b = Buffer.alloc(384);
  b.writeInt16LE(type, 0);
  b.write(user, 44, 'utf8');
  return b;
}

async function fixture(name: string, files: { uptime?: string; loadavg?: string; utmp?: Buffer; route?: string }): Promise<MachinePaths> {
  const base = join(dir, name);
  await mkdir(base);
  const paths: MachinePaths = { uptime: join(base, 'uptime'), loadavg: join(base, 'loadavg'), utmp: join(base, 'utmp'), route: join(base, 'route') };
  for (const k of ['uptime', 'loadavg', 'utmp', 'route'] as const) if (files[k] !== undefined) await writeFile(paths[k], files[k]!);
  return paths;
}

t.test('the uptime line from /proc/uptime, /proc/loadavg and utmp\'s logged-in users', async (t) => {
  const paths = await fixture('one', {
    uptime: '8059513.42 31234567.80\n',
    loadavg: '0.20 0.12 0.14 1/234 5678\n',
    // A session, a record with no user (a login prompt's), and the boot record: one user.
    utmp: Buffer.concat([utmpRecord(7, 'alice'), utmpRecord(7, ''), utmpRecord(2, 'reboot')]),
  });
  const at = new Date(2026, 0, 1, 8, 32, 11);
  t.equal(await machineUptime(at, paths), ' 08:32:11 up 93 days,  6:45,  1 user,  load average: 0.20, 0.12, 0.14');
  const noUtmp = await fixture('two', { uptime: '59.9 1.0\n', loadavg: '1.5 0.25 0 1/1 1\n' });
  t.equal(await machineUptime(at, noUtmp), ' 08:32:11 up 0 min,  0 users,  load average: 1.50, 0.25, 0.00', 'no utmp: nobody logged in');
  t.equal(await machineUptime(at, await fixture('three', { loadavg: '0 0 0 1/1 1\n' })), undefined, 'no /proc/uptime: cannot tell');
  t.equal(await machineUptime(at, await fixture('four', { uptime: 'x y\n', loadavg: '0 0 0 1/1 1\n' })), undefined, 'unreadable: cannot tell');
  t.match(await machineUptime(), UPTIME_LINE, 'this machine\'s');
});

t.test('the address: the default route\'s interface first, then any external one', async (t) => {
  const external = Object.entries(networkInterfaces()).flatMap(([name, a]) => (a ?? []).map((x) => ({ name, ...x }))).filter((a) => !a.internal);
  const firstV4 = external.find((a) => a.family === 'IPv4');
  const noRoute = await fixture('route-none', { route: 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\n' });
  if (firstV4) t.equal(await machineIp(noRoute), firstV4.address, 'no default route: the first external IPv4');
  const table = await readFile(PROC.route, 'utf8').catch(() => '');
  const viaDefault = table.split('\n').map((l) => l.trim().split(/\s+/)).find((c) => c[1] === '00000000' && c[7] === '00000000')?.[0];
  const own = external.find((a) => a.family === 'IPv4' && a.name === viaDefault);
  if (own) t.equal(await machineIp(), own.address, `this machine's default route leaves by ${viaDefault}`);
  const elsewhere = await fixture('route-other', { route: `Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\nnosuch0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\n` });
  t.equal(await machineIp(elsewhere), firstV4?.address ?? external.find((a) => a.family === 'IPv6' && a.scopeid === 0)?.address, 'an interface that is not there: any external one');
});

t.test('room to grow: a qcow2\'s virtual size from its header, a raw file\'s length, less the blocks each holds', async (t) => {
  const root = join(dir, 'instances');
  const layout = new Layout(root);
  const uuid = randomUUID();
  const g = layout.guest(uuid);
  await mkdir(g.dir, { recursive: true });
  await mkdir(join(root, '_base'));
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', g.disk, '10G']);
  execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', g.swap, '512M']);
  await writeFile(g.eph0, Buffer.alloc(4096, 1));
  await truncate(g.eph0, 2 * 1024 ** 3);
  // Not a guest's: a kept revert and the image cache are already on the disk as they are.
  await writeFile(join(root, '_base', 'image'), '');
  await mkdir(join(root, `${randomUUID()}_resize`));
  const held = async (p: string) => (await stat(p)).blocks * 512;
  const want = 10 * 1024 ** 3 - (await held(g.disk)) + 512 * 1024 ** 2 - (await held(g.swap)) + 2 * 1024 ** 3 - (await held(g.eph0));
  t.equal(await overCommittedBytes(layout), want);
  t.equal(await overCommittedBytes(new Layout(join(dir, 'nowhere'))), 0, 'no instances path: nothing');
});
