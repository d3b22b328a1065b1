/**
 * The libvirt driver on a real (session) libvirtd with real TCG guests: novact's tiny test image
 * (a Debian kernel booted directly, a busybox initramfs that prints its config drive on the serial
 * console and powers off on the ACPI button). One daemon for the file, two guests: one lives
 * through every operation, one boots with a config drive whose user data powers it off.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { createReadStream, existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { guestSpec, MemorySink } from '../../hosts/contract.js';
import type { DriverEvent, ImageFetcher } from '../../hosts/driver.js';
import type { GuestImage, GuestNic } from '../../protocols/host.js';
import { networkData } from '../../protocols/network/network-data.js';
import { LibvirtDriver } from '../../hosts/libvirt/libvirt-driver.js';
import { buildDomainXml } from '../../hosts/libvirt/domain-xml.js';
import { planDomain } from '../../hosts/libvirt/domain-plan.js';
import { instanceFiles } from '../../hosts/libvirt/layout.js';
import { PowerState } from '../../protocols/states.js';
import { startLibvirtd } from '../../runtime/services/libvirtd.js';
import { testImage } from '../../runtime/services/test-image.js';
import { waitFor } from '../harness/poll.js';

const exec = promisify(execFile);
const { RUNNING, PAUSED, SHUTDOWN, SUSPENDED } = PowerState;

const [lvd, image] = await Promise.all([startLibvirtd(), testImage()]);
const root = await mkdtemp(join(tmpdir(), 'novact-lv-session-'));
t.teardown(async () => {
  await lvd.stop(); // after the restarted daemon's own stop (teardowns run last first)
  await rm(root, { recursive: true, force: true });
});

// The image source: the tiny guest's disk, and the kernel (PVH: ~10 s sooner under TCG) and ramdisk it names.
const files: Record<string, string> = { tiny: image.disk, 'tiny-kernel': image.pvhKernel, 'tiny-ramdisk': image.ramdisk };
const images: ImageFetcher = {
  async fetch(id, onChunk) {
    const path = files[id];
    if (!path) throw new Error(`no image ${id}`);
    let n = 0;
    for await (const chunk of createReadStream(path)) { await onChunk(chunk as Buffer); n += (chunk as Buffer).length; }
    return { sizeBytes: n };
  },
};
const TINY: GuestImage = {
  id: 'tiny', diskFormat: 'qcow2',
  properties: { kernel_id: 'tiny-kernel', ramdisk_id: 'tiny-ramdisk', os_command_line: image.manifest.osCommandLine },
};

const instancesPath = join(root, 'instances');
function driver(): LibvirtDriver {
  // The tiny guest's acpid answers the power button at once; before it runs (early boot) nothing does.
  const d = new LibvirtDriver({ uri: lvd.uri, instancesPath, host: 'session-host', domainType: 'qemu', softShutdownMs: 5_000, pollMs: 200 });
  d.attach({ images });
  return d;
}
let d = driver();
await d.init();
t.teardown(() => d.close());

const events: DriverEvent[] = [];
d.onEvent((e) => events.push(e));
const console_ = (uuid: string) => d.consoleOutput(uuid);
const count = (text: string, line: string) => text.split('\n').filter((l) => l.includes(line)).length;
const consoleHas = async (uuid: string, line: string, times = 1) => count(await console_(uuid), line) >= times;
const domains = async () => (await exec('virsh', ['-c', lvd.uri, 'list', '--all', '--name'])).stdout.split('\n').filter(Boolean);
/** Timings go to the TAP output (comments), never into assertions. */
const note = (t: { comment(...a: unknown[]): void }, what: string, ms: number) => t.comment(`${what}: ${ms} ms`);

/** A port as the conductor hands it over. */
const port = (portId: string, mac: string, mtu: number, address: string): GuestNic => ({
  portId, networkId: '7e6d5c4b-3a29-4817-9605-f4e3d2c1b0a9', mac, mtu,
  fixedIps: [{ address, version: 4, cidr: '10.20.0.0/24', gateway: '10.20.0.1', dns: ['10.20.0.2'] }],
});
const mainNic = port('3c2b1a09-8f7e-4d6c-9b5a-493827161504', 'fa:16:3e:aa:00:01', 1450, '10.20.0.11');
const shortNic = port('9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d', 'fa:16:3e:aa:00:02', 1400, '10.20.0.12');
const main = guestSpec({ name: 'main <&> "guest"', image: TINY, vcpus: 1, memoryMb: 256, diskGb: 1, nics: [mainNic] });
const shortLived = guestSpec({
  name: 'short-lived', image: TINY, vcpus: 1, memoryMb: 256, diskGb: 1, configDrive: true, nics: [shortNic],
  metadata: { role: 'poweroff-test' },
  userData: Buffer.from('#!/bin/sh\n(sleep 1; poweroff -f) &\n').toString('base64'),
});

t.test('spawn: RUNNING at once, the kernel boots to ready on the serial console', async (t) => {
  const t0 = Date.now();
  t.equal((await d.spawn(main)).powerState, RUNNING);
  note(t, 'spawn → RUNNING, cold cache (fetching the 65 MB kernel, the ramdisk and the disk)', Date.now() - t0);
  const t1 = Date.now();
  t.equal((await d.spawn(shortLived)).powerState, RUNNING);
  note(t, 'spawn → RUNNING, warm cache, with a config drive', Date.now() - t1);
  await waitFor('the main guest\'s ready marker', () => consoleHas(main.uuid, 'novact-tiny: ready'), 120_000);
  note(t, 'spawn → "novact-tiny: ready" (TCG)', Date.now() - t0);
  const out = await console_(main.uuid);
  t.match(out, /Linux version 6\./, 'the kernel\'s lines');
  t.match(out, /novact-tiny: no config drive/);
  t.match(out, /^novact-tiny: nic eth0 fa:16:3e:aa:00:01 mtu 1450$/m, 'the guest\'s kernel has the port\'s NIC: its MAC, its MTU');
  t.equal((await d.consoleOutput(main.uuid, 1)), 'novact-tiny: ready', 'the last line');
  // The domain as libvirt holds it (not as we wrote it).
  const live = (await exec('virsh', ['-c', lvd.uri, 'dumpxml', `novact-${main.uuid}`])).stdout;
  t.match(live, /<interface type='user'>\s*<mac address='fa:16:3e:aa:00:01'\/>\s*<model type='virtio'\/>\s*<alias name='ua-nic0'\/>/);
  t.match(live, /<qemu:property name='host_mtu' type='unsigned' value='1450'\/>/);
});

t.test('a config drive\'s metadata printed by the guest; its own poweroff is a SHUTDOWN event', async (t) => {
  await waitFor('the short-lived guest to power itself off', () => events.some((e) => e.uuid === shortLived.uuid), 120_000);
  t.match(events.filter((e) => e.uuid === shortLived.uuid), [{ uuid: shortLived.uuid, powerState: SHUTDOWN }], 'one event: SHUTDOWN');
  t.equal((await d.getGuest(shortLived.uuid))?.powerState, SHUTDOWN);
  const out = await console_(shortLived.uuid);
  t.match(out, /novact-tiny: config drive \/dev\/\w+/);
  const meta = out.split('novact-tiny: begin meta_data.json\n')[1]?.split('\nnovact-tiny: end meta_data.json')[0] ?? '';
  t.match(JSON.parse(meta), { uuid: shortLived.uuid, name: 'short-lived', meta: { role: 'poweroff-test' } }, 'meta_data.json as the guest read it');
  const network = out.split('novact-tiny: begin network_data.json\n')[1]?.split('\nnovact-tiny: end network_data.json')[0] ?? '';
  t.strictSame(JSON.parse(network), networkData([shortNic]), 'network_data.json as the guest read it');
  t.match(JSON.parse(network), { links: [{ id: 'tap9a8b7c6d-5e', mtu: 1400, ethernet_mac_address: 'fa:16:3e:aa:00:02' }], networks: [{ ip_address: '10.20.0.12', netmask: '255.255.255.0' }] });
  t.match(out, /^novact-tiny: nic eth0 fa:16:3e:aa:00:02 mtu 1400$/m);
  t.match(out, /novact-tiny: running user_data/);
});

t.test('the ethernet backend\'s domain (a tap the host made, with <mtu>) is one libvirt defines as written', async (t) => {
  // Defined only: starting it needs the tap, which a session daemon cannot make.
  const spec = guestSpec({ name: 'tap-guest', image: { id: 'tiny', diskFormat: 'qcow2', properties: { hw_vif_model: 'e1000' } }, nics: [mainNic, shortNic] });
  const plan = planDomain({ spec, host: 'session-host', type: 'qemu', files: instanceFiles(join(root, 'tap-guest')), created: 'c', nicBackend: 'ethernet' });
  const file = join(root, 'tap-guest.xml');
  await writeFile(file, buildDomainXml(plan));
  await exec('virsh', ['-c', lvd.uri, 'define', file]);
  const held = (await exec('virsh', ['-c', lvd.uri, 'dumpxml', `novact-${spec.uuid}`])).stdout;
  await exec('virsh', ['-c', lvd.uri, 'undefine', `novact-${spec.uuid}`]);
  const ifaces = held.match(/<interface[\s\S]*?<\/interface>/g) ?? [];
  t.equal(ifaces.length, 2, 'both NICs, in order');
  t.match(ifaces[0], /<interface type='ethernet'>\s*<mac address='fa:16:3e:aa:00:01'\/>\s*<target dev='tap3c2b1a09-8f' managed='no'\/>\s*<model type='e1000'\/>\s*<mtu size='1450'\/>/);
  t.match(ifaces[1], /<mac address='fa:16:3e:aa:00:02'\/>[\s\S]*<target dev='tap9a8b7c6d-5e' managed='no'\/>[\s\S]*<mtu size='1400'\/>/);
});

t.test('destroy leaves no domain and no files', async (t) => {
  await d.destroy(shortLived.uuid);
  t.notOk((await domains()).includes(`novact-${shortLived.uuid}`), 'no domain');
  t.notOk(existsSync(join(instancesPath, shortLived.uuid)), 'no instance directory');
  t.equal(await d.getGuest(shortLived.uuid), undefined);
});

t.test('pause and unpause; diagnostics; an NMI reaches the kernel', async (t) => {
  t.equal((await d.pause(main.uuid)).powerState, PAUSED);
  t.match(await d.diagnostics(main.uuid), { state: 'paused' });
  t.equal((await d.unpause(main.uuid)).powerState, RUNNING);
  const diag = await d.diagnostics(main.uuid);
  t.match(diag, { state: 'running', driver: 'libvirt', hypervisor: 'qemu', num_cpus: 1, num_disks: 1, num_nics: 1, memory_details: { maximum: 256 } });
  t.match(diag.nic_details, [{ mac_address: 'fa:16:3e:aa:00:01', rx_octets: 0, rx_rate: null }], 'the NIC, without counters (a user-mode NIC has no host device)');
  t.ok(diag.cpu_details[0]!.time > 0, 'per-vCPU time from domstats');
  t.ok(diag.disk_details[0]!.read_requests > 0, 'the kernel read its disk');
  await d.triggerCrashDump(main.uuid);
  await waitFor('the NMI on the console', () => consoleHas(main.uuid, 'NMI'), 30_000);
  t.equal((await d.getGuest(main.uuid))?.powerState, RUNNING, 'the guest runs on');
});

t.test('snapshot of the running guest into a sink: a standalone qcow2', async (t) => {
  const sink = new MemorySink();
  await d.snapshot(main.uuid, sink);
  t.equal(sink.finished, 1);
  const file = join(root, 'snapshot.qcow2');
  await writeFile(file, Buffer.concat(sink.chunks));
  const info = JSON.parse((await exec('qemu-img', ['info', '--output=json', file])).stdout) as Record<string, unknown>;
  t.equal(info.format, 'qcow2');
  t.equal(info['backing-filename'], undefined, 'no backing file');
  t.equal(info['virtual-size'], 1024 ** 3, 'the root disk\'s size');
  t.equal((await d.getGuest(main.uuid))?.powerState, RUNNING);
});

t.test('suspend and resume: the guest comes back where it was, and shuts down cleanly', async (t) => {
  let t0 = Date.now();
  t.equal((await d.suspend(main.uuid)).powerState, SUSPENDED);
  note(t, 'suspend (save to managed.save)', Date.now() - t0);
  t.ok(existsSync(join(instancesPath, main.uuid, 'managed.save')), 'the save file');
  t0 = Date.now();
  t.equal((await d.resume(main.uuid)).powerState, RUNNING);
  note(t, 'resume (restore)', Date.now() - t0);
  t.notOk(existsSync(join(instancesPath, main.uuid, 'managed.save')), 'the save file is gone');
  // The restored guest answers the power button: it is alive, with its acpid from before.
  t0 = Date.now();
  t.equal((await d.powerOff(main.uuid)).powerState, SHUTDOWN);
  note(t, 'clean power off', Date.now() - t0);
  t.ok(await consoleHas(main.uuid, 'novact-tiny: power button, powering off'), 'a clean shutdown, not a destroy');
  t.match(await exec('virsh', ['-c', lvd.uri, 'dumpxml', '--inactive', `novact-${main.uuid}`]).then((r) => r.stdout), "<mac address='fa:16:3e:aa:00:01'/>", 'the NIC outlived save and restore');
});

t.test('start, soft reboot (a clean one once the guest is up), hard reboot', async (t) => {
  const t0 = Date.now();
  t.equal((await d.powerOn(main.uuid)).powerState, RUNNING);
  note(t, 'power on (define was done; start only)', Date.now() - t0);
  await waitFor('ready after power on', () => consoleHas(main.uuid, 'novact-tiny: ready', 2), 120_000);
  const r0 = Date.now();
  t.equal((await d.reboot(main.uuid, false)).powerState, RUNNING);
  note(t, 'soft reboot', Date.now() - r0);
  t.ok(await consoleHas(main.uuid, 'novact-tiny: power button, powering off', 2), 'the soft reboot shut the guest down cleanly');
  await waitFor('the kernel booting again', () => consoleHas(main.uuid, 'novact-tiny: booted', 3), 60_000);
  t.equal((await d.reboot(main.uuid, true)).powerState, RUNNING);
  await waitFor('the kernel booting after the hard reboot', () => consoleHas(main.uuid, 'novact-tiny: booted', 4), 60_000);
  t.same(events.filter((e) => e.uuid === main.uuid), [], 'no event for any of the operations asked for');
});

t.test('a new driver on the same daemon and path lists the guest again (a host restart)', async (t) => {
  await d.close();
  d = driver();
  await d.init();
  const found = (await d.listGuests()).find((g) => g.uuid === main.uuid);
  t.match(found, { uuid: main.uuid, name: main.name, powerState: RUNNING, vcpus: 1, memoryMb: 256, diskGb: 1 });
  t.equal((await d.pause(main.uuid)).powerState, PAUSED, 'and drives it');
});

t.test('the daemon dies and comes back: the driver says down, then reconnects to the guest', async (t) => {
  lvd.kill();
  await waitFor('the driver to notice', async () => (await d.health()).state === 'down', 30_000);
  t.match(await d.listGuests().catch((e: unknown) => e), { kind: 'failed', retryable: true }, 'calls fail, retryably');
  const again = await startLibvirtd({ dir: lvd.dir });
  t.teardown(() => again.stop());
  t.equal(again.uri, lvd.uri, 'the same socket');
  await waitFor('the driver to reconnect', async () => (await d.health()).state === 'up', 30_000);
  t.equal((await d.getGuest(main.uuid))?.powerState, PAUSED, 'the guest outlived its daemon, still paused');
  await d.destroy(main.uuid);
  t.same((await domains()).filter((n) => n.startsWith('novact-')), [], 'no domain left');
  t.notOk(existsSync(join(instancesPath, main.uuid)), 'no files left');
});
