/** The libvirt domain XML and novact's metadata in it (pure: no libvirt). */
import t from 'tap';
import fc from 'fast-check';
import { buildDomainXml, countDisks } from '../../hosts/libvirt/domain-xml.js';
import { imageSettings, planDomain, readPlan, rescuePlan, type PlanInput } from '../../hosts/libvirt/domain-plan.js';
import { instanceFiles } from '../../hosts/libvirt/layout.js';
import { formatMeta, parseMeta, xmlText, NOVACT_NS, type GuestMeta } from '../../hosts/libvirt/metadata.js';
import { domainNics, VIF_MODELS } from '../../hosts/libvirt/nics.js';
import { guestSpec } from '../../hosts/contract.js';
import type { GuestNic, GuestSpec } from '../../protocols/host.js';
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
  t.notMatch(xml, /<interface/, 'no ports, no NICs');
  t.notMatch(xml, /qemu:/, 'and no QEMU namespace');
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

const PORT_A = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const PORT_B = 'ffeeddcc-bbaa-4998-8776-655443322110';
const nic = (portId: string, mac: string, mtu: number): GuestNic => ({
  portId, networkId: '11111111-2222-4333-8444-555555555555', mac, mtu,
  fixedIps: [{ address: '10.0.0.5', version: 4, cidr: '10.0.0.0/24', gateway: '10.0.0.1' }],
});
const twoNics = [nic(PORT_A, 'fa:16:3e:00:00:0a', 1450), nic(PORT_B, 'fa:16:3e:00:00:0b', 9000)];
const withModel = (model: string) => ({ image: { id: 'img', diskFormat: 'qcow2', properties: { hw_vif_model: model } } });
/** The `<interface>` blocks of a domain XML. */
const interfaces = (xml: string) => xml.match(/<interface[\s\S]*?<\/interface>/g) ?? [];

t.test('NICs: one user-mode interface per port, in order, with its MAC, virtio, and its MTU as host_mtu', async (t) => {
  const xml = xmlOf({ nics: twoNics });
  t.match(xml, `<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>`, 'the QEMU namespace for the override');
  t.same(interfaces(xml), [
    "<interface type='user'>\n      <mac address='fa:16:3e:00:00:0a'/>\n      <model type='virtio'/>\n      <alias name='ua-nic0'/>\n    </interface>",
    "<interface type='user'>\n      <mac address='fa:16:3e:00:00:0b'/>\n      <model type='virtio'/>\n      <alias name='ua-nic1'/>\n    </interface>",
  ]);
  t.notMatch(xml, /<mtu /, 'libvirt refuses <mtu> on a user interface');
  t.match(xml, /<qemu:override>\s*<qemu:device alias='ua-nic0'>\s*<qemu:frontend>\s*<qemu:property name='host_mtu' type='unsigned' value='1450'\/>/);
  t.match(xml, /<qemu:device alias='ua-nic1'>\s*<qemu:frontend>\s*<qemu:property name='host_mtu' type='unsigned' value='9000'\/>/);
  t.match(xml, /<\/devices>\n  <qemu:override>[\s\S]*<\/qemu:override>\n<\/domain>\n$/, 'the override after the devices, inside the domain');
  t.ok(xml.indexOf('<interface') > xml.lastIndexOf('</disk>') && xml.indexOf('<interface') < xml.indexOf('<serial'), 'after the disks, before the console');
  t.same(domainNics(xml), [{ mac: 'fa:16:3e:00:00:0a' }, { mac: 'fa:16:3e:00:00:0b' }]);
  t.same(planDomain(input({ nics: twoNics })).nics?.map((n) => n.dev), ['tap0a1b2c3d-4e', 'tapffeeddcc-bb'], 'Nova\'s tap names');
  t.equal(planDomain(input({ nics: [] })).nics, undefined, 'an empty list is no NICs');
});

t.test('NICs: hw_vif_model as Nova takes it; other models get no host_mtu', async (t) => {
  for (const model of ['e1000', 'rtl8139', 'e1000e', 'ne2k_pci', 'pcnet', 'vmxnet3', 'igb']) {
    const xml = xmlOf({ nics: twoNics, ...withModel(model) });
    t.equal(interfaces(xml).filter((i) => i.includes(`<model type='${model}'/>`)).length, 2, model);
    t.notMatch(xml, /qemu:/, `${model}: no override, no namespace`);
  }
  t.match(xmlOf({ nics: twoNics, ...withModel('lan9118') }), "<model type='lan9118'/>", 'lan9118 under TCG');
  t.throws(() => xmlOf({ nics: twoNics, ...withModel('lan9118') }, { type: 'kvm' }),
    { kind: 'failed', message: "Requested hardware 'lan9118' is not supported by the 'kvm' virt driver" }, 'but not under KVM (Nova\'s table)');
  for (const bad of ['virtio-net', 'VIRTIO', "virtio'/><disk", 'netfront']) {
    t.throws(() => xmlOf({ nics: twoNics, ...withModel(bad) }), { kind: 'failed', message: /^Requested hardware '.*' is not supported by the 'qemu' virt driver$/ }, bad);
  }
  t.doesNotThrow(() => xmlOf(withModel('nonsense')), 'no NICs: the property is not read, as in Nova');
  t.equal(VIF_MODELS.length, 10);
});

t.test('NICs: the ethernet backend plugs the tap the host made, with <mtu>', async (t) => {
  const xml = xmlOf({ nics: twoNics }, { nicBackend: 'ethernet' });
  t.same(interfaces(xml)[0], "<interface type='ethernet'>\n      <mac address='fa:16:3e:00:00:0a'/>\n      <target dev='tap0a1b2c3d-4e' managed='no'/>\n      <model type='virtio'/>\n      <mtu size='1450'/>\n      <alias name='ua-nic0'/>\n    </interface>");
  t.match(interfaces(xml)[1], "<mtu size='9000'/>");
  t.notMatch(xml, /qemu:/, 'the MTU is libvirt\'s own here');
  t.same(domainNics(xml), [{ mac: 'fa:16:3e:00:00:0a', dev: 'tap0a1b2c3d-4e' }, { mac: 'fa:16:3e:00:00:0b', dev: 'tapffeeddcc-bb' }]);
});

t.test('NICs: in the plan file, kept by rescue; a plan from before NICs still reads', async (t) => {
  const plan = planDomain(input({ nics: twoNics, configDrive: true }));
  t.same(readPlan(JSON.stringify(plan), 'p'), plan);
  const { nics: _, ...old } = plan;
  t.same(readPlan(JSON.stringify(old), 'p'), old);
  t.throws(() => readPlan(JSON.stringify({ ...plan, nics: [{ ...plan.nics![0], model: 'bogus' }] }), 'p'), { kind: 'failed', message: /not a domain plan/ });
  t.same(rescuePlan(plan, files, 'r').nics, plan.nics, 'a rescued guest keeps its NICs');
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
  const nicPlan = planDomain(input({ nics: twoNics }));
  const withMac = (mac: string) => buildDomainXml({ ...nicPlan, nics: nicPlan.nics!.map((n) => ({ ...n, mac })) });
  // An attribute's value may change, the markup around it may not.
  const markup = (xml: string) => tags(xml).replace(/'[^']*'/g, "''");
  fc.assert(fc.property(hostile, (mac) => markup(withMac(mac)) === markup(withMac('x'))), { numRuns: 200 });
  t.pass('200 hostile MACs (the schema refuses them first) leave the markup alone');
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
