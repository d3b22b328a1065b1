/**
 * From a guest spec to a domain plan (pure): the image properties Nova's libvirt driver reads
 * (hw_machine_type, hw_disk_bus, hw_firmware_type, kernel_id / ramdisk_id, os_command_line), the
 * flavor's disk split, and the files under the instance directory. The plan is kept as the
 * instance's `plan.json` so later definitions (rescue, unrescue, revert) rebuild the same domain;
 * it is read back through a schema (a file on disk is an edge).
 */
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DriverError } from '../driver.js';
import type { GuestSpec } from '../../protocols/host.js';
import type { DiskBus, DomainPlan, DomainType, Firmware, PlanDisk } from './domain-xml.js';
import type { InstanceFiles } from './layout.js';
import type { GuestMeta } from './metadata.js';
import { NIC_BACKENDS, planNics, VIF_MODELS, type NicBackend } from './nics.js';

export interface ImageSettings {
  machine: string;
  diskBus: DiskBus;
  firmware: Firmware;
  kernelId?: string;
  ramdiskId?: string;
  cmdline: string;
}

const BUSES: readonly DiskBus[] = ['virtio', 'scsi', 'sata', 'ide', 'usb'];
const FIRMWARES: Record<string, Firmware> = { bios: 'bios', uefi: 'uefi' };
const MACHINE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Nova's image properties for the domain; a value libvirt could not take is refused here. */
export function imageSettings(props: Record<string, string>): ImageSettings {
  const machine = props.hw_machine_type ?? 'pc';
  if (!MACHINE.test(machine)) throw new DriverError('failed', `image property hw_machine_type is not a machine type: ${JSON.stringify(machine)}`);
  const diskBus = (props.hw_disk_bus ?? 'virtio') as DiskBus;
  if (!BUSES.includes(diskBus)) throw new DriverError('failed', `image property hw_disk_bus must be one of ${BUSES.join(', ')}`);
  const firmware = FIRMWARES[props.hw_firmware_type ?? 'bios'];
  if (!firmware) throw new DriverError('failed', 'image property hw_firmware_type must be bios or uefi');
  return {
    machine, diskBus, firmware, cmdline: props.os_command_line ?? 'console=ttyS0',
    ...(props.kernel_id ? { kernelId: props.kernel_id } : {}),
    ...(props.ramdisk_id ? { ramdiskId: props.ramdisk_id } : {}),
  };
}

export interface PlanInput {
  spec: GuestSpec;
  host: string;
  type: DomainType;
  files: InstanceFiles;
  /** ISO 8601; kept across rebuilds and migrations. */
  created: string;
  /** The cached kernel and ramdisk when the image names them. */
  kernel?: string;
  initrd?: string;
  /** How NICs are plugged (default `user`: QEMU's user-mode networking). */
  nicBackend?: NicBackend;
}

const GIB = 1024 ** 3;

/** The flavor's disk split (absent: everything is root, no ephemeral, no swap). */
export function diskSizes(spec: GuestSpec): { rootGb: number; ephemeralGb: number; swapMb: number } {
  return { rootGb: spec.rootGb ?? spec.diskGb, ephemeralGb: spec.ephemeralGb ?? 0, swapMb: spec.swapMb ?? 0 };
}
export const gib = (n: number): number => n * GIB;

/** The domain name: unique per daemon, never the tenant's display name. */
export const domainName = (uuid: string): string => `novact-${uuid}`;

export function planDomain(p: PlanInput): DomainPlan {
  const { spec, files } = p;
  const s = imageSettings(spec.image.properties);
  const sizes = diskSizes(spec);
  const disk = (path: string, format: PlanDisk['format'] = 'qcow2'): PlanDisk => ({ path, format, device: 'disk', bus: s.diskBus });
  const disks = [disk(files.disk)];
  if (sizes.ephemeralGb > 0) disks.push(disk(files.eph0));
  if (sizes.swapMb > 0) disks.push(disk(files.swap));
  // Nova: the config drive is a cdrom on IDE, on SATA where the machine has no IDE (q35).
  if (spec.configDrive) disks.push({ path: files.config, format: 'raw', device: 'cdrom', bus: s.machine.includes('q35') ? 'sata' : 'ide' });
  const nics = planNics(spec, p.type, p.nicBackend ?? 'user');
  const meta: GuestMeta = {
    uuid: spec.uuid, name: spec.name, host: p.host, created: p.created,
    vcpus: spec.vcpus, memoryMb: spec.memoryMb, diskGb: spec.diskGb, ...sizes,
    imageId: spec.image.id, imageFormat: spec.image.diskFormat,
    ...(s.kernelId === undefined ? {} : { kernelId: s.kernelId }),
    ...(s.ramdiskId === undefined ? {} : { ramdiskId: s.ramdiskId }),
    ...(spec.flavor ? { flavorId: spec.flavor.id, flavorName: spec.flavor.name } : {}),
    ...(spec.projectId === undefined ? {} : { projectId: spec.projectId }),
    ...(spec.userId === undefined ? {} : { userId: spec.userId }),
  };
  return {
    uuid: spec.uuid, name: domainName(spec.uuid), type: p.type, vcpus: spec.vcpus, memoryMb: spec.memoryMb,
    machine: s.machine, firmware: s.firmware,
    ...(p.kernel === undefined ? {} : { kernel: p.kernel, cmdline: s.cmdline }),
    ...(p.initrd === undefined ? {} : { initrd: p.initrd }),
    disks, ...(nics.length > 0 ? { nics } : {}), consoleLog: files.console, meta,
  };
}

/** The rescue domain: the rescue image's overlay boots first, the guest's own disk is attached second. */
export function rescuePlan(plan: DomainPlan, files: InstanceFiles, rescueImage: string): DomainPlan {
  const own = plan.disks.filter((d) => d.path === files.disk || d.device === 'cdrom');
  const root = own.find((d) => d.path === files.disk)!;
  return { ...plan, disks: [{ ...root, path: files.rescue }, ...own], meta: { ...plan.meta, rescueImage } };
}

const Str = Type.String();
const Int = Type.Integer({ minimum: 0 });
const PlanSchema = Type.Object({
  uuid: Str, name: Str, type: Type.Union([Type.Literal('kvm'), Type.Literal('qemu')]), vcpus: Int, memoryMb: Int,
  machine: Str, firmware: Type.Union([Type.Literal('bios'), Type.Literal('uefi')]),
  kernel: Type.Optional(Str), initrd: Type.Optional(Str), cmdline: Type.Optional(Str),
  disks: Type.Array(Type.Object({
    path: Str, format: Type.Union([Type.Literal('raw'), Type.Literal('qcow2')]),
    device: Type.Union([Type.Literal('disk'), Type.Literal('cdrom')]),
    bus: Type.Union(BUSES.map((b) => Type.Literal(b))),
  }, { additionalProperties: false })),
  nics: Type.Optional(Type.Array(Type.Object({
    mac: Str, mtu: Int, model: Type.Union(VIF_MODELS.map((m) => Type.Literal(m))),
    backend: Type.Union(NIC_BACKENDS.map((b) => Type.Literal(b))), dev: Str,
  }, { additionalProperties: false }))),
  consoleLog: Str,
  meta: Type.Object({
    uuid: Str, name: Str, host: Str, created: Str, vcpus: Int, memoryMb: Int, diskGb: Int, rootGb: Int, ephemeralGb: Int,
    swapMb: Int, imageId: Str, imageFormat: Str, kernelId: Type.Optional(Str), ramdiskId: Type.Optional(Str),
    flavorId: Type.Optional(Str), flavorName: Type.Optional(Str), projectId: Type.Optional(Str), userId: Type.Optional(Str),
    rescueImage: Type.Optional(Str),
  }, { additionalProperties: false }),
}, { additionalProperties: false });

/** `plan.json`'s text as a plan; a file that does not match is `failed` (it was not written by us). */
export function readPlan(text: string, path: string): DomainPlan {
  let v: unknown;
  try { v = JSON.parse(text); } catch { throw new DriverError('failed', `${path}: not JSON`); }
  if (!Value.Check(PlanSchema, v)) throw new DriverError('failed', `${path}: not a domain plan`);
  return v as Static<typeof PlanSchema> as DomainPlan;
}
