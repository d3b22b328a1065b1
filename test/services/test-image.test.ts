/**
 * The tiny test guest boots for real (TCG) on novact's own libvirtd, by direct kernel boot (the
 * bzImage, and the unpacked kernel through PVH): the kernel's lines and /init's markers reach the
 * serial log, /init prints the config drive's files (found on a virtio disk and on an IDE cdrom),
 * runs a `#!` user_data, and powers off on ACPI (libvirt's soft shutdown) or when user_data says
 * `poweroff -f`.
 */
import t from 'tap';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as libvirt from '@unraid/libvirt';
import { startLibvirtd } from '../../runtime/services/libvirtd.js';
import { testImage, type TestImage } from '../../runtime/services/test-image.js';
import { until, waitFor } from '../harness/poll.js';

const exec = promisify(execFile);
const SHUTOFF = 5;
const BOOT_BOUND_MS = 90_000;

const image = await testImage();
const daemon = await startLibvirtd();
const work = await mkdtemp(join(tmpdir(), 'novact-tiny-'));
const hv = new libvirt.Hypervisor({ uri: daemon.uri });
await hv.connectOpen();
t.teardown(async () => {
  await hv.connectClose().catch(() => undefined);
  await daemon.stop();
  await rm(work, { recursive: true, force: true });
});

interface Guest {
  name: string;
  console: string;
  xml: string;
}

/** A guest's disk (a qcow2 overlay on the image's), config drive and domain XML. */
async function guest(name: string, kernel: string, files: Record<string, string>, configDriveOn: 'virtio' | 'ide-cdrom', nic?: { mac: string; mtu: number }): Promise<Guest> {
  const dir = join(work, name);
  const latest = join(dir, 'drive', 'openstack', 'latest');
  await mkdir(latest, { recursive: true });
  for (const [file, text] of Object.entries(files)) await writeFile(join(latest, file), text);
  const iso = join(dir, 'config.iso');
  await exec('xorriso', ['-as', 'mkisofs', '-quiet', '-V', 'config-2', '-J', '-R', '-o', iso, join(dir, 'drive')], { timeout: 30_000 });
  const disk = join(dir, 'disk.qcow2');
  await exec('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', image.disk, disk], { timeout: 30_000 });
  const console = join(dir, 'console.log');
  const configDrive = configDriveOn === 'virtio'
    ? `<disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='${iso}'/>
      <target dev='vdb' bus='virtio'/>
      <readonly/>
    </disk>`
    : `<disk type='file' device='cdrom'>
      <driver name='qemu' type='raw'/>
      <source file='${iso}'/>
      <target dev='hdc' bus='ide'/>
      <readonly/>
    </disk>`;
  // A user-mode virtio NIC with its MTU as virtio-net's host_mtu, as the libvirt driver plugs one.
  const iface = nic ? `<interface type='user'>
      <mac address='${nic.mac}'/>
      <model type='virtio'/>
      <alias name='ua-nic0'/>
    </interface>` : '';
  const override = nic ? `<qemu:override>
    <qemu:device alias='ua-nic0'><qemu:frontend><qemu:property name='host_mtu' type='unsigned' value='${nic.mtu}'/></qemu:frontend></qemu:device>
  </qemu:override>` : '';
  const xml = `<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>${name}</name>
  <memory unit='MiB'>256</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${kernel}</kernel>
    <initrd>${image.ramdisk}</initrd>
    <cmdline>${image.manifest.osCommandLine}</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='${disk}'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    ${configDrive}
    ${iface}
    <serial type='file'>
      <source path='${console}'/>
      <target port='0'/>
    </serial>
    <console type='file'>
      <source path='${console}'/>
      <target type='serial' port='0'/>
    </console>
    <memballoon model='none'/>
  </devices>
  ${override}
</domain>`;
  return { name, console, xml };
}

const consoleText = (g: Guest): string => (existsSync(g.console) ? readFileSync(g.console, 'latin1') : '');
const seen = (g: Guest, marker: string): boolean => consoleText(g).split(/\r?\n/).some((l) => l.startsWith(`novact-tiny: ${marker}`));

/** The lines /init printed between `begin <file>` and `end <file>`. */
function between(text: string, file: string): string | undefined {
  const lines = text.split(/\r?\n/);
  const begin = lines.indexOf(`novact-tiny: begin ${file}`);
  const end = lines.indexOf(`novact-tiny: end ${file}`);
  return begin >= 0 && end > begin ? lines.slice(begin + 1, end).join('\n') : undefined;
}

t.test('the manifest describes the built files', async (t) => {
  const m = image.manifest;
  const files = [[image.kernel, m.files.kernel], [image.pvhKernel, m.files.pvhKernel], [image.ramdisk, m.files.ramdisk], [image.disk, m.files.disk]] as const;
  for (const [path, entry] of files) {
    const bytes = await readFile(path);
    t.equal((await stat(path)).size, entry.size, `${entry.name} size`);
    t.equal(createHash('sha256').update(bytes).digest('hex'), entry.sha256, `${entry.name} sha256`);
    t.equal(createHash('md5').update(bytes).digest('hex'), entry.md5, `${entry.name} md5`);
  }
  t.match(m.kernelVersion, /^\d+\.\d+\.\d+-\d+-amd64$/);
  t.notMatch(m.osCommandLine, /\bquiet\b/, 'kernel lines stay on the console');
  t.ok(m.modules.includes('virtio_blk') && m.modules.includes('isofs'), 'the config drive modules are in');
  t.ok(m.modules.includes('virtio_net'), 'and the NIC\'s');
  t.ok(m.modules.indexOf('virtio') < m.modules.indexOf('virtio_blk'), 'dependencies load first');
  const info = JSON.parse((await exec('qemu-img', ['info', '--output=json', image.disk])).stdout) as { format: string; 'virtual-size': number };
  t.equal(info.format, 'qcow2');
  t.equal(info['virtual-size'], m.diskVirtualSize);
});

t.test('testImage() again is the same build, without rebuilding', async (t) => {
  const again: TestImage = await testImage();
  t.equal(again, image, 'one build per process');
  const before = (await stat(join(image.dir, 'manifest.json'))).mtimeMs;
  await exec('bash', [join(import.meta.dirname, '..', '..', 'scripts', 'test-image.sh')], { env: { ...process.env, NOVACT_TEST_IMAGE_DIR: image.dir }, timeout: 60_000 });
  t.equal((await stat(join(image.dir, 'manifest.json'))).mtimeMs, before, 'the script leaves a finished build alone');
});

t.test('boots under TCG, prints its NIC and the config drive, runs user_data, powers off on ACPI', async (t) => {
  const meta = { uuid: '8a5c1d2e-0b7f-4d8e-9c3a-1f2e3d4c5b6a', name: 'tiny-one', hostname: 'tiny-one', availability_zone: 'nova' };
  const network = {
    links: [{ id: 'tap5b0c8e2a-1d', vif_id: '5b0c8e2a-1d3f-4e5a-9b6c-7d8e9f0a1b2c', type: 'phy', mtu: 1400, ethernet_mac_address: 'fa:16:3e:5b:0c:8e' }],
    networks: [], services: [],
  };
  const g = await guest('tiny-one', image.kernel, {
    'meta_data.json': JSON.stringify(meta),
    user_data: '#!/bin/sh\necho "user-data says $((6 * 7))"\n',
    'network_data.json': JSON.stringify(network),
  }, 'virtio', { mac: 'fa:16:3e:5b:0c:8e', mtu: 1400 });
  const t0 = Date.now();
  const dom = await hv.domainDefineXML(g.xml);
  await hv.domainCreate(dom);
  const started = Date.now() - t0;
  await waitFor('the booted marker', () => seen(g, 'booted'), BOOT_BOUND_MS);
  const booted = Date.now() - t0;
  await waitFor('the ready marker', () => seen(g, 'ready'), BOOT_BOUND_MS);
  t.comment(`define+start ${started} ms, booted marker ${booted} ms, ready marker ${Date.now() - t0} ms`);

  const log = consoleText(g);
  t.match(log, `Linux version ${image.manifest.kernelVersion}`, 'the kernel\'s own lines');
  t.match(log, /Command line: console=ttyS0/);
  t.match(log, `novact-tiny: booted ${image.manifest.kernelVersion}`);
  t.match(log, 'novact-tiny: config drive /dev/vdb');
  t.match(log, /^novact-tiny: nic eth0 fa:16:3e:5b:0c:8e mtu 1400$/m, 'the guest\'s kernel has the NIC, its MAC and its MTU');
  t.same(JSON.parse(between(log, 'meta_data.json') ?? 'null'), meta, 'meta_data.json as written');
  t.same(JSON.parse(between(log, 'network_data.json') ?? 'null'), network);
  t.equal(between(log, 'user_data'), '#!/bin/sh\necho "user-data says $((6 * 7))"');
  t.match(log, /^user-data says 42$/m, 'user_data ran');
  t.match(log, 'novact-tiny: user_data exited 0');

  await hv.domainShutdown(dom);
  t.ok(await until(async () => (await hv.domainGetInfo(dom)).state === SHUTOFF, 30_000, 100), 'soft shutdown lands shutoff');
  t.ok(seen(g, 'power button'), 'through acpid');
  await hv.domainUndefine(dom);
});

t.test('a user_data `poweroff -f` shuts the guest off by itself (PVH kernel, config drive on an IDE cdrom)', async (t) => {
  const g = await guest('tiny-off', image.pvhKernel, {
    'meta_data.json': JSON.stringify({ uuid: '0d9e8f7a-6b5c-4d3e-8f2a-9b8c7d6e5f4a', name: 'tiny-off' }),
    user_data: '#!/bin/sh\necho bye\npoweroff -f\n',
  }, 'ide-cdrom');
  const t0 = Date.now();
  const dom = await hv.domainCreateXML(g.xml);
  await waitFor('the booted marker', () => seen(g, 'booted'), BOOT_BOUND_MS);
  t.comment(`create -> booted marker ${Date.now() - t0} ms (PVH kernel)`);
  const off = await until(async () => (await hv.domainGetInfo(dom).catch(() => ({ state: SHUTOFF }))).state === SHUTOFF, BOOT_BOUND_MS, 200);
  t.ok(off, 'reached shutoff');
  const log = consoleText(g);
  t.match(log, `Linux version ${image.manifest.kernelVersion}`);
  t.match(log, 'novact-tiny: config drive /dev/sr0');
  t.match(log, 'novact-tiny: missing network_data.json');
  t.notMatch(log, /novact-tiny: nic /, 'no NIC in the domain, none in the guest');
  t.match(log, /^bye$/m);
  t.notOk(seen(g, 'ready'), 'it stopped in user_data');
});
