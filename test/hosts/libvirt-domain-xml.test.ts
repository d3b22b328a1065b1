/** The libvirt domain XML and novact's metadata in it (pure: no libvirt). */
import t from 'tap';
import fc from 'fast-check';
import { buildDomainXml, countDisks } from '../../hosts/libvirt/domain-xml.js';
import { imageSettings, planDomain, readPlan, rescuePlan, type PlanInput } from '../../hosts/libvirt/domain-plan.js';
import { instanceFiles } from '../../hosts/libvirt/layout.js';
import { formatMeta, parseMeta, xmlText, NOVACT_NS, type GuestMeta } from '../../hosts/libvirt/metadata.js';
import { guestSpec } from '../../hosts/contract.js';
import type { GuestSpec } from '../../protocols/host.js';
import { hostileString } from '../fuzz/lib/hostile.js';

const UUID = '6f1c2d3e-4a5b-4c6d-8e7f-8091a2b3c4d5';
const files = instanceFiles(`/srv/novact/${UUID}`);
const input = (over: Partial<GuestSpec> = {}, extra: Partial<PlanInput> = {}): PlanInput => ({
  spec: guestSpec({ uuid: UUID, name: 'web-1', vcpus: 2, memoryMb: 1024, diskGb: 10, ...over }),
  host: 'compute-1', type: 'qemu', files, created: '2025-01-02T03:04:05.000Z', ...extra,
});
const xmlOf = (over: Partial<GuestSpec> = {}, extra: Partial<PlanInput> = {}) => buildDomainXml(planDomain(input(over, extra)));
/** The markup without its text: hostile text must never change it. */
const tags = (xml: string) => xml.match(/<[^>]*>/g)?.join('') ?? '';

t.test('the domain: identity, size, type, console, no network', async (t) => {
  const xml = xmlOf();
  t.match(xml, /^<domain type='qemu'>/);
  t.match(xml, `<name>novact-${UUID}</name>`, 'the domain name is derived from the uuid, not the display name');
  t.match(xml, `<uuid>${UUID}</uuid>`);
  t.match(xml, "<memory unit='MiB'>1024</memory>");
  t.match(xml, '<vcpu>2</vcpu>');
  t.match(xml, "<type machine='pc'>hvm</type>", 'machine type defaults to pc');
  t.match(xml, `<source path='/srv/novact/${UUID}/console.log' append='on'/>`, 'serial console to the instance directory');
  t.notMatch(xml, /<interface/, 'no network interface yet');
  t.notMatch(xml, /<cpu /, 'TCG gets no host-model CPU');
  t.match(xmlOf({}, { type: 'kvm' }), /^<domain type='kvm'>[\s\S]*<cpu mode='host-model'\/>/);
  t.equal(countDisks(xml), 1, 'only the root disk');
  t.match(xml, new RegExp(`<source file='/srv/novact/${UUID}/disk'/>\\s*<target dev='vda' bus='virtio'/>\\s*<boot order='1'/>`));
});

t.test('image properties: machine, disk bus, firmware, direct kernel boot', async (t) => {
  const props = (p: Record<string, string>) => ({ image: { id: 'img', diskFormat: 'qcow2', properties: p } });
  t.match(xmlOf(props({ hw_machine_type: 'q35' })), "<type machine='q35'>hvm</type>");
  const scsi = xmlOf(props({ hw_disk_bus: 'scsi' }));
  t.match(scsi, "<target dev='sda' bus='scsi'/>");
  t.match(scsi, "<controller type='scsi' model='virtio-scsi'/>", 'scsi disks get their controller');
  t.match(xmlOf(props({ hw_disk_bus: 'ide' })), "<target dev='hda' bus='ide'/>");
  t.match(xmlOf(props({ hw_firmware_type: 'uefi' })), "<os firmware='efi'>");
  t.notMatch(xmlOf(), /firmware=/, 'bios is the default');
  const kernel = xmlOf(props({ kernel_id: 'k', ramdisk_id: 'r' }), { kernel: '/srv/novact/_base/k', initrd: '/srv/novact/_base/r' });
  t.match(kernel, '<kernel>/srv/novact/_base/k</kernel>');
  t.match(kernel, '<initrd>/srv/novact/_base/r</initrd>');
  t.match(kernel, '<cmdline>console=ttyS0</cmdline>', 'Nova\'s default command line');
  t.notMatch(kernel, /<boot order/, 'a kernel boot needs no boot order');
  const cmd = xmlOf(props({ kernel_id: 'k', os_command_line: 'console=ttyS0 quiet & "x"' }), { kernel: '/k' });
  t.match(cmd, '<cmdline>console=ttyS0 quiet &amp; &quot;x&quot;</cmdline>');
  t.notMatch(xmlOf(props({ os_command_line: 'ignored' })), /<cmdline>/, 'no command line without a kernel');
  for (const [p, msg] of [
    [{ hw_machine_type: "pc'/><devices>" }, /hw_machine_type/], [{ hw_disk_bus: 'floppy' }, /hw_disk_bus/],
    [{ hw_firmware_type: 'coreboot' }, /hw_firmware_type/],
  ] as const) t.throws(() => imageSettings(p), { kind: 'failed', message: msg });
});

t.test('ephemeral, swap and config drive disks, in order', async (t) => {
  const plan = planDomain(input({ diskGb: 12, rootGb: 10, ephemeralGb: 2, swapMb: 512, configDrive: true }));
  t.same(plan.disks.map((d) => [d.path.split('/').pop(), d.device, d.bus]), [
    ['disk', 'disk', 'virtio'], ['disk.eph0', 'disk', 'virtio'], ['disk.swap', 'disk', 'virtio'], ['disk.config', 'cdrom', 'ide'],
  ]);
  const xml = buildDomainXml(plan);
  t.match(xml, /<target dev='vdc' bus='virtio'\/>/);
  t.match(xml, /<disk type='file' device='cdrom'>\s*<driver name='qemu' type='raw'\/>[\s\S]*?<target dev='hda' bus='ide'\/>\s*<readonly\/>/);
  t.match(plan.meta, { rootGb: 10, ephemeralGb: 2, swapMb: 512, diskGb: 12 });
  const q35 = planDomain(input({ configDrive: true, image: { id: 'i', diskFormat: 'qcow2', properties: { hw_machine_type: 'pc-q35-7.2' } } }));
  t.equal(q35.disks.at(-1)?.bus, 'sata', 'q35 has no IDE: the config drive goes on SATA');
  t.same(planDomain(input()).meta, {
    uuid: UUID, name: 'web-1', host: 'compute-1', created: '2025-01-02T03:04:05.000Z', vcpus: 2, memoryMb: 1024, diskGb: 10,
    rootGb: 10, ephemeralGb: 0, swapMb: 0, imageId: 'cirros', imageFormat: 'qcow2',
  }, 'without a split, all of diskGb is root');
});

t.test('rescue: the rescue overlay boots first, the own disk second', async (t) => {
  const plan = planDomain(input({ diskGb: 3, rootGb: 2, ephemeralGb: 1, configDrive: true }));
  const r = rescuePlan(plan, files, 'rescue-img');
  t.same(r.disks.map((d) => d.path.split('/').pop()), ['disk.rescue', 'disk', 'disk.config']);
  t.equal(r.meta.rescueImage, 'rescue-img');
  const xml = buildDomainXml(r);
  t.match(xml, /disk\.rescue'\/>\s*<target dev='vda' bus='virtio'\/>\s*<boot order='1'\/>/);
  t.match(xml, /disk'\/>\s*<target dev='vdb' bus='virtio'\/>\s*<\/disk>/);
  t.equal(parseMeta(xml)?.rescueImage, 'rescue-img');
});

t.test('the plan file is read back through its schema', async (t) => {
  const plan = planDomain(input({ configDrive: true }));
  t.same(readPlan(JSON.stringify(plan), 'p'), plan);
  t.throws(() => readPlan('{', 'p'), { kind: 'failed', message: /not JSON/ });
  t.throws(() => readPlan(JSON.stringify({ ...plan, type: 'xen' }), 'p'), { kind: 'failed', message: /not a domain plan/ });
  t.throws(() => readPlan(JSON.stringify({ ...plan, extra: 1 }), 'p'), { kind: 'failed', message: /not a domain plan/ });
});

const meta = (over: Partial<GuestMeta> = {}): GuestMeta => ({
  uuid: UUID, name: 'n', host: 'h', created: 'c', vcpus: 1, memoryMb: 512, diskGb: 1, rootGb: 1, ephemeralGb: 0, swapMb: 0,
  imageId: 'i', imageFormat: 'qcow2', ...over,
});
const inDomain = (m: string) => `<domain type='qemu'>\n  <name>x</name>\n  <metadata>\n${m}\n  </metadata>\n</domain>`;
/** Key order aside. */
const canon = (m: GuestMeta | undefined) => JSON.stringify(m && Object.entries(m).sort(([a], [b]) => a.localeCompare(b)));
const hostile = hostileString.filter((s): s is string => typeof s === 'string');

t.test('metadata round-trips hostile strings and never changes the markup', async (t) => {
  const base = planDomain(input());
  const shape = (m: GuestMeta) => tags(buildDomainXml({ ...base, meta: m }));
  // The same fields with harmless values: the markup a hostile value must not change.
  const tame = (m: GuestMeta) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, typeof v === 'string' ? 'x' : v])) as unknown as GuestMeta;
  fc.assert(fc.property(hostile, hostile, fc.option(hostile, { nil: undefined }), (name, project, flavor) => {
    const m = meta({ name, projectId: project, ...(flavor === undefined ? {} : { flavorId: flavor, flavorName: flavor }) });
    const xml = buildDomainXml({ ...base, meta: m });
    return shape(m) === shape(tame(m)) && canon(parseMeta(xml)) === canon(m);
  }), { numRuns: 300 });
  t.pass('300 hostile metadata sets');
  t.equal(xmlText('a<b>&"\'%\r\u0001'), 'a&lt;b&gt;&amp;&quot;&apos;%0025%000D%0001');
  t.equal(xmlText('tab\tnew\nline é \u{1f600}'), 'tab\tnew\nline é \u{1f600}', 'what XML carries stays as it is');
});

t.test('the reader takes what libvirt prints back: other quotes, references, empty elements', async (t) => {
  const printed = inDomain(`    <nv:instance xmlns:nv="${NOVACT_NS}">
      <nv:uuid>${UUID}</nv:uuid><nv:name>a&#60;b&#x26;c"d'</nv:name><nv:host>h</nv:host><nv:created>c</nv:created>
      <nv:vcpus>1</nv:vcpus><nv:memoryMb>512</nv:memoryMb><nv:diskGb>1</nv:diskGb><nv:rootGb>1</nv:rootGb>
      <nv:ephemeralGb>0</nv:ephemeralGb><nv:swapMb>0</nv:swapMb><nv:imageId>i</nv:imageId><nv:imageFormat>qcow2</nv:imageFormat>
      <nv:projectId/>
    </nv:instance>`);
  t.same(parseMeta(printed), meta({ name: 'a<b&c"d\'', projectId: '' }));
});

t.test('the reader is strict: anything not ours is not ours', async (t) => {
  const good = formatMeta(meta());
  t.ok(parseMeta(inDomain(good)), 'the well-formed one parses');
  const bad: [string, string][] = [
    ['no metadata', '<domain/>'],
    ['another namespace', inDomain(good.replaceAll(NOVACT_NS, 'https://example.com/other'))],
    ['an unknown key', inDomain(good.replace('<novact:host>', '<novact:shell>x</novact:shell><novact:host>'))],
    ['a key twice', inDomain(good.replace('<novact:host>h</novact:host>', '<novact:host>h</novact:host><novact:host>i</novact:host>'))],
    ['a missing key', inDomain(good.replace('<novact:host>h</novact:host>', ''))],
    ['a non-integer size', inDomain(good.replace('<novact:vcpus>1<', '<novact:vcpus>1.5<'))],
    ['a negative size', inDomain(good.replace('<novact:vcpus>1<', '<novact:vcpus>-1<'))],
    ['a nested element', inDomain(good.replace('<novact:name>n<', '<novact:name><x/>n<'))],
    ['an unknown entity', inDomain(good.replace('<novact:name>n<', '<novact:name>&nbsp;<'))],
    ['a bare ampersand', inDomain(good.replace('<novact:name>n<', '<novact:name>a & b<'))],
    ['a stray percent', inDomain(good.replace('<novact:name>n<', '<novact:name>100%<'))],
    ['unclosed', inDomain(good.replace('</novact:instance>', ''))],
    ['an attribute', inDomain(good.replace('<novact:name>', '<novact:name a="1">'))],
  ];
  for (const [what, xml] of bad) t.equal(parseMeta(xml), undefined, what);
});
