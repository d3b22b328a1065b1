/**
 * novact's own session-mode libvirtd: two side by side, each with only its own domains; a real
 * (TCG) guest defined, started and destroyed through @unraid/libvirt; SIGKILL leaves the guest as a
 * crash would, and stop() leaves no process behind (the daemon, nor the qemu it started); its QEMU
 * probe seeds the next daemon.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, realpathSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as libvirt from '@unraid/libvirt';
import { pidsWithEnv, procStat } from '../../runtime/services/child-process.js';
import { startLibvirtd, type LibvirtdHandle } from '../../runtime/services/libvirtd.js';
import { waitFor } from '../harness/poll.js';

const exec = promisify(execFile);
const RUNNING = 1;
const SHUTOFF = 5;

/** A guest with no disk at all: the BIOS finds nothing to boot and waits, which is all we need. */
const bareGuest = (name: string): string => `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices><memballoon model='none'/></devices>
</domain>`;

const alive = (pid: number): boolean => {
  const s = procStat(pid);
  return s !== undefined && s.state !== 'Z';
};
/** What the daemon and every qemu it started carry in their environment. */
const homeOf = (d: LibvirtdHandle): string => `HOME=${join(realpathSync(d.dir), 'home')}`;
const leftovers = (home: string): number[] => pidsWithEnv(home).filter(alive);

async function connect(d: LibvirtdHandle): Promise<libvirt.Hypervisor> {
  const hv = new libvirt.Hypervisor({ uri: d.uri });
  await hv.connectOpen();
  return hv;
}

// A private capabilities cache, so the seeding below is this file's own.
const capabilitiesCache = await mkdtemp(join(tmpdir(), 'novact-lvd-caps-'));
const [a, b] = await Promise.all([startLibvirtd({ capabilitiesCache }), startLibvirtd({ capabilitiesCache })]);
t.teardown(async () => {
  await Promise.all([a.stop(), b.stop()]);
  await rm(capabilitiesCache, { recursive: true, force: true });
});
const hvA = await connect(a);
const hvB = await connect(b);

t.test('two daemons side by side, each on its own socket and dirs, QEMU only', async (t) => {
  t.not(a.uri, b.uri);
  t.not(a.dir, b.dir);
  t.match(a.uri, /^qemu\+unix:\/\/\/session\?socket=\/.+\/libvirt-sock$/);
  for (const d of [a, b]) {
    t.ok(alive(d.pid), 'daemon running');
    const { stdout } = await exec('virsh', ['-c', d.uri, 'list', '--all'], { timeout: 30_000 });
    t.match(stdout, /Id\s+Name\s+State/, 'virsh lists its domains');
    // Only the QEMU driver is loaded: no network (dnsmasq, root), storage or node device drivers.
    await t.rejects(exec('virsh', ['-c', d.uri, 'net-list', '--all'], { timeout: 30_000 }), 'no network driver');
    t.notOk(existsSync(join(d.dir, 'run', 'libvirt', 'network')), 'no network state');
  }
});

t.test('each daemon sees only its own domains', async (t) => {
  const onA = await hvA.domainDefineXML(bareGuest('only-on-a'));
  const onB = await hvB.domainDefineXML(bareGuest('only-on-b'));
  t.same(await hvA.connectListDefinedDomains(), ['only-on-a']);
  t.same(await hvB.connectListDefinedDomains(), ['only-on-b']);
  await t.rejects(hvB.domainLookupByName('only-on-a'), 'b does not know a\'s domain');
  await hvA.domainUndefine(onA);
  await hvB.domainUndefine(onB);
  t.same(await hvA.connectListDefinedDomains(), []);
});

t.test('a TCG guest is defined, started and destroyed; its qemu is found and ends', async (t) => {
  const dom = await hvA.domainDefineXML(bareGuest('tiny'));
  await hvA.domainCreate(dom);
  const info = await hvA.domainGetInfo(dom);
  t.equal(info.state, RUNNING);
  t.equal(info.nrVirtCpu, 1);
  const qemu = leftovers(homeOf(a)).filter((p) => p !== a.pid);
  t.equal(qemu.length, 1, 'one qemu process carries the daemon\'s HOME');
  t.same(leftovers(homeOf(b)).filter((p) => p !== b.pid), [], 'the other daemon has none');
  await hvA.domainDestroy(dom);
  t.equal((await hvA.domainGetInfo(dom)).state, SHUTOFF);
  await waitFor('qemu to exit after destroy', () => !alive(qemu[0]!), 10_000);
  await hvA.domainUndefine(dom);
});

t.test('kill() leaves the guest running as a crash would; stop() then ends it', async (t) => {
  const dom = await hvB.domainCreateXML(bareGuest('survivor'));
  t.equal((await hvB.domainGetInfo(dom)).state, RUNNING);
  const home = homeOf(b);
  const dir = b.dir;
  const qemu = leftovers(home).filter((p) => p !== b.pid);
  t.equal(qemu.length, 1);
  b.kill();
  await waitFor('the killed daemon to exit', () => !alive(b.pid), 10_000);
  t.ok(alive(qemu[0]!), 'qemu outlives the daemon');
  await hvB.connectClose().catch(() => undefined);
  await b.stop();
  t.same(leftovers(home), [], 'no process left');
  t.notOk(existsSync(dir), 'temp dir removed');
  // The URI names a socket: a client never starts a daemon of its own there.
  await t.rejects(exec('virsh', ['-c', b.uri, 'list'], { timeout: 30_000 }));
});

t.test('stop() with a running guest leaves no process', async (t) => {
  const dom = await hvA.domainCreateXML(bareGuest('left-running'));
  t.equal((await hvA.domainGetInfo(dom)).state, RUNNING);
  const home = homeOf(a);
  const dir = a.dir;
  t.equal(leftovers(home).length, 2, 'the daemon and its qemu');
  await hvA.connectClose();
  await a.stop();
  t.same(leftovers(home), []);
  t.notOk(alive(a.pid));
  t.notOk(existsSync(dir), 'temp dir removed');
  t.ok(readdirSync(capabilitiesCache).some((n) => n.endsWith('.xml')), 'its QEMU probe is kept for the next daemon');
});

t.test('a dir given by the caller is kept, and a second daemon on it is refused', async (t) => {
  // A short path: the socket's must fit a unix socket address (tap's testdir is too deep).
  const dir = await mkdtemp(join(tmpdir(), 'novact-lvd-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const d = await startLibvirtd({ dir, capabilitiesCache });
  t.teardown(() => d.stop());
  const seeded = readdirSync(join(dir, 'cache', 'libvirt', 'qemu', 'cache', 'capabilities'));
  t.same(seeded, readdirSync(capabilitiesCache).filter((n) => n.endsWith('.xml')), 'seeded with the earlier probe');
  await t.rejects(startLibvirtd({ dir, readyTimeoutMs: 10_000 }), /libvirtd exited during startup/);
  t.ok(alive(d.pid), 'the first one still runs');
  await d.stop();
  t.ok(existsSync(join(dir, 'config', 'libvirt', 'qemu.conf')), 'dir kept');
});

t.test('a dir too deep for QEMU monitor sockets still runs guests (through a short link), removed at stop', async (t) => {
  const dir = join(await mkdtemp(join(tmpdir(), 'novact-lvd-')), 'a-rather-long-host-name-1', 'libvirtd');
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const before = new Set(readdirSync('/tmp').filter((n) => n.startsWith('nvl-')));
  const d = await startLibvirtd({ dir, capabilitiesCache });
  t.teardown(() => d.stop());
  const hv = await connect(d);
  const dom = await hv.domainCreateXML(bareGuest('deep'));
  t.equal((await hv.domainGetInfo(dom)).state, RUNNING, 'started: its monitor socket fits');
  await hv.domainDestroy(dom);
  await hv.connectClose();
  const links = readdirSync('/tmp').filter((n) => n.startsWith('nvl-') && !before.has(n));
  t.equal(links.length, 1, 'one short link while it runs');
  await d.stop();
  t.notOk(existsSync(join('/tmp', links[0]!)), 'the link is gone after stop');
});
