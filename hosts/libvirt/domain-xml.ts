/**
 * A guest's libvirt domain XML from a plan (pure). Every value that reaches the XML is escaped
 * (`xmlText`): names, paths and image properties are tenant input. Devices are few on purpose: the
 * disks, the NICs (nics.ts), a serial console written to a file, nothing else (no graphics), so a
 * TCG guest boots as fast as it can.
 */
import { formatMeta, xmlText, type GuestMeta } from './metadata.js';
import { interfaceXml, mtuOverrides, QEMU_NS, type PlanNic } from './nics.js';

export type DomainType = 'kvm' | 'qemu';
export type DiskBus = 'virtio' | 'scsi' | 'sata' | 'ide' | 'usb';
export type Firmware = 'bios' | 'uefi';

export interface PlanDisk {
  path: string;
  format: 'raw' | 'qcow2';
  device: 'disk' | 'cdrom';
  bus: DiskBus;
}

export interface DomainPlan {
  uuid: string;
  /** The libvirt domain name (unique per daemon; the display name is in `meta`). */
  name: string;
  type: DomainType;
  vcpus: number;
  memoryMb: number;
  machine: string;
  firmware: Firmware;
  /** Direct kernel boot (Nova's AMI style: the image's kernel_id / ramdisk_id). */
  kernel?: string;
  initrd?: string;
  cmdline?: string;
  /** In boot order. */
  disks: PlanDisk[];
  /** In the spec's order (absent: none; plans written before NICs have none). */
  nics?: PlanNic[];
  consoleLog: string;
  meta: GuestMeta;
}

// Target device name prefix per bus, as libvirt names them.
const DEV_PREFIX: Record<DiskBus, string> = { virtio: 'vd', scsi: 'sd', sata: 'sd', usb: 'sd', ide: 'hd' };

/** `a`, `b`, … `z`, `aa`, … as in vda, vdb, … */
function devSuffix(n: number): string {
  let s = '';
  for (let i = n + 1; i > 0; i = Math.floor((i - 1) / 26)) s = String.fromCharCode(97 + ((i - 1) % 26)) + s;
  return s;
}

function diskXml(d: PlanDisk, dev: string, bootOrder: number | undefined): string {
  const ro = d.device === 'cdrom' ? '\n      <readonly/>' : '';
  const boot = bootOrder === undefined ? '' : `\n      <boot order='${bootOrder}'/>`;
  return `    <disk type='file' device='${d.device}'>
      <driver name='qemu' type='${d.format}'/>
      <source file='${xmlText(d.path)}'/>
      <target dev='${dev}' bus='${d.bus}'/>${ro}${boot}
    </disk>`;
}

export function buildDomainXml(p: DomainPlan): string {
  const used = new Map<string, number>();
  const disks = p.disks.map((d, i) => {
    const prefix = DEV_PREFIX[d.bus];
    const n = used.get(prefix) ?? 0;
    used.set(prefix, n + 1);
    // Per-device boot order: the first disk boots (a rescue disk before the guest's own).
    return diskXml(d, prefix + devSuffix(n), p.kernel === undefined && i === 0 ? 1 : undefined);
  });
  const os = [
    `    <type machine='${xmlText(p.machine)}'>hvm</type>`,
    ...(p.kernel === undefined ? [] : [`    <kernel>${xmlText(p.kernel)}</kernel>`]),
    ...(p.initrd === undefined ? [] : [`    <initrd>${xmlText(p.initrd)}</initrd>`]),
    ...(p.kernel === undefined || p.cmdline === undefined ? [] : [`    <cmdline>${xmlText(p.cmdline)}</cmdline>`]),
  ];
  const controllers = p.disks.some((d) => d.bus === 'scsi') ? ["    <controller type='scsi' model='virtio-scsi'/>"] : [];
  const nics = (p.nics ?? []).map((n, i) => interfaceXml(n, i));
  const overrides = mtuOverrides(p.nics ?? []);
  return `<domain type='${p.type}'${overrides ? ` xmlns:qemu='${QEMU_NS}'` : ''}>
  <name>${xmlText(p.name)}</name>
  <uuid>${xmlText(p.uuid)}</uuid>
  <metadata>
${formatMeta(p.meta)}
  </metadata>
  <memory unit='MiB'>${p.memoryMb}</memory>
  <vcpu>${p.vcpus}</vcpu>
  <os${p.firmware === 'uefi' ? " firmware='efi'" : ''}>
${os.join('\n')}
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>${p.type === 'kvm' ? "\n  <cpu mode='host-model'/>" : ''}
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
${[...disks, ...controllers, ...nics].join('\n')}
    <serial type='file'>
      <source path='${xmlText(p.consoleLog)}' append='on'/>
      <target port='0'/>
    </serial>
    <controller type='usb' model='none'/>
    <memballoon model='none'/>
  </devices>
${overrides}</domain>
`;
}

/** The number of `<disk>` devices in a domain XML (diagnostics). */
export function countDisks(domainXml: string): number {
  return domainXml.match(/<disk\s/g)?.length ?? 0;
}
