/**
 * Cold and live migration between two session libvirtds on this machine (two novact hosts on one
 * LibvirtFabric): the contract's migration rows with real QEMU guests, then the tiny guest moved
 * live after it booted, still answering on the destination.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { promisify } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrationRows } from '../../hosts/contract-migration.js';
import { guestSpec } from '../../hosts/contract.js';
import type { ImageFetcher } from '../../hosts/driver.js';
import { LibvirtDriver } from '../../hosts/libvirt/libvirt-driver.js';
import { LibvirtFabric } from '../../hosts/libvirt/fabric.js';
import { PowerState } from '../../protocols/states.js';
import { startLibvirtd, type LibvirtdHandle } from '../../runtime/services/libvirtd.js';
import { testImage } from '../../runtime/services/test-image.js';
import { waitFor } from '../harness/poll.js';

const exec = promisify(execFile);
const [a, b, image] = await Promise.all([startLibvirtd(), startLibvirtd(), testImage()]);
const root = await mkdtemp(join(tmpdir(), 'novact-lv-migration-'));
t.teardown(async () => {
  await Promise.all([a.stop(), b.stop()]);
  await rm(root, { recursive: true, force: true });
});

// The contract's guests use image `cirros`: the tiny disk (nothing boots from it: the BIOS waits,
// which is all a migration needs). `tiny` names the kernel and ramdisk and boots.
const files: Record<string, string> = { cirros: image.disk, tiny: image.disk, 'tiny-kernel': image.pvhKernel, 'tiny-ramdisk': image.ramdisk };
const images: ImageFetcher = {
  async fetch(id, onChunk) {
    let n = 0;
    for await (const chunk of createReadStream(files[id] ?? '/nonexistent')) { await onChunk(chunk as Buffer); n += (chunk as Buffer).length; }
    return { sizeBytes: n };
  },
};

let n = 0;
function host(lvd: LibvirtdHandle, fabric: LibvirtFabric, softShutdownMs: number): LibvirtDriver {
  const name = `mig-${++n}`;
  const d = new LibvirtDriver({ uri: lvd.uri, instancesPath: join(root, name), host: name, domainType: 'qemu', softShutdownMs, pollMs: 0, fabric });
  d.attach({ images });
  return d;
}
// The contract's guests never boot far enough to answer the power button: no clean shutdown for them.
const pair = async (softShutdownMs = 0) => {
  const fabric = new LibvirtFabric();
  const source = host(a, fabric, softShutdownMs);
  const dest = host(b, fabric, softShutdownMs);
  await Promise.all([source.init(), dest.init()]);
  return { source, dest, target: { host: dest.host } };
};

migrationRows(t, 'LibvirtDriver(two session daemons)', {
  pair: () => pair(),
  hang: (d, op) => d.faults.addRule({ op, action: 'hang', times: 1 }),
  failNext: (d, op) => d.faults.addRule({ op, action: 'fail', times: 1 }),
});

t.test('a booted guest moves live and runs on at the destination', async (t) => {
  const { source, dest, target } = await pair(30_000);
  t.teardown(() => Promise.all([source.close(), dest.close()]));
  const spec = guestSpec({
    image: { id: 'tiny', diskFormat: 'qcow2', properties: { kernel_id: 'tiny-kernel', ramdisk_id: 'tiny-ramdisk', os_command_line: image.manifest.osCommandLine } },
    memoryMb: 256, diskGb: 1,
  });
  await source.spawn(spec);
  await waitFor('the guest to be ready', async () => (await source.consoleOutput(spec.uuid)).includes('novact-tiny: ready'), 120_000);
  await dest.prepareIncoming(spec);
  const t0 = Date.now();
  await source.liveMigrate(spec.uuid, target);
  t.comment(`live migration (256 MiB guest, --copy-storage-inc, one machine): ${Date.now() - t0} ms`);
  t.equal(await source.getGuest(spec.uuid), undefined, 'gone from the source');
  t.equal((await dest.finishIncoming(spec.uuid)).powerState, PowerState.RUNNING);
  // Its acpid, started before the move, answers the power button on the destination.
  t.equal((await dest.powerOff(spec.uuid)).powerState, PowerState.SHUTDOWN);
  t.match(await dest.consoleOutput(spec.uuid), /novact-tiny: power button, powering off/, 'the guest shut down cleanly on the destination');
  await dest.destroy(spec.uuid);
});

t.test('a transfer under way is aborted: the guest runs on at the source, the destination drops its half', async (t) => {
  const { source, dest, target } = await pair();
  t.teardown(() => Promise.all([source.close(), dest.close()]));
  const spec = guestSpec({ memoryMb: 256 });
  await source.spawn(spec);
  await dest.prepareIncoming(spec);
  // 1 MiB/s: the move takes minutes, so it is surely under way when the abort comes.
  await exec('virsh', ['-c', a.uri, 'migrate-setspeed', `novact-${spec.uuid}`, '1']);
  const moving = source.liveMigrate(spec.uuid, target).then(() => undefined, (e: unknown) => e);
  await waitFor('the migration job', async () => /Job type:\s+Unbounded/.test((await exec('virsh', ['-c', a.uri, 'domjobinfo', `novact-${spec.uuid}`])).stdout), 30_000);
  await source.abortLiveMigration(spec.uuid);
  t.match(await moving, { kind: 'aborted' }, 'the transfer rejects aborted');
  await waitFor('the job to end', async () => /Job type:\s+None/.test((await exec('virsh', ['-c', a.uri, 'domjobinfo', `novact-${spec.uuid}`])).stdout), 30_000);
  t.equal((await source.getGuest(spec.uuid))?.powerState, PowerState.RUNNING, 'the guest runs on at the source');
  await dest.abortIncoming(spec.uuid);
  t.equal(await dest.getGuest(spec.uuid), undefined, 'nothing at the destination');
  t.notOk((await exec('virsh', ['-c', b.uri, 'list', '--all', '--name'])).stdout.includes(spec.uuid), 'no domain left on the destination daemon');
  await source.destroy(spec.uuid);
});
