/**
 * A guest's NICs in its domain (pure): one `<interface>` per port, in the spec's order, with the
 * port's MAC, the image's `hw_vif_model` (Nova's models per virt type, virtio by default) and the
 * network's MTU.
 *
 * Two backends. `user` (QEMU's user-mode networking) needs nothing on the host, so a session
 * libvirtd (which can make neither bridges nor taps) runs it: libvirt 9 refuses `<mtu>` on a user
 * interface, so a virtio NIC gets its MTU as virtio-net's `host_mtu` property (a `<qemu:override>`,
 * which the guest's driver reads), and other models get it from `network_data.json` only.
 * `ethernet` is a tap that the host made beforehand (`managed='no'`), named as Nova names it
 * (`tap` + the port id's first 11 characters), which the port's nftables rules match.
 */
import { DriverError, type GuestSpec } from '../driver.js';
import { portDeviceName } from '../../protocols/network/port-device.js';
import { xmlText } from './metadata.js';

export const VIF_MODELS = ['virtio', 'ne2k_pci', 'pcnet', 'rtl8139', 'e1000', 'e1000e', 'lan9118', 'spapr-vlan', 'vmxnet3', 'igb'] as const;
export type VifModel = (typeof VIF_MODELS)[number];
export const NIC_BACKENDS = ['user', 'ethernet'] as const;
export type NicBackend = (typeof NIC_BACKENDS)[number];

/** The domain types (domain-xml.ts's DomainType, repeated here so the two files do not import each other). */
type VirtType = 'kvm' | 'qemu';

/** Nova's SUPPORTED_VIF_MODELS (nova/virt/libvirt/vif.py): lan9118 under TCG only. */
const SUPPORTED: Record<VirtType, ReadonlySet<string>> = {
  qemu: new Set<string>(VIF_MODELS),
  kvm: new Set<string>(VIF_MODELS.filter((m) => m !== 'lan9118')),
};

export interface PlanNic {
  mac: string;
  mtu: number;
  model: VifModel;
  backend: NicBackend;
  /** The host-side device (a tap) for `ethernet`; for `user` only a name. */
  dev: string;
}

/** The image's `hw_vif_model`, refused as Nova refuses it (UnsupportedHardware) when the virt type has no such model. */
export function vifModel(props: Record<string, string>, type: VirtType): VifModel {
  const model = props.hw_vif_model ?? 'virtio';
  if (!SUPPORTED[type].has(model)) {
    throw new DriverError('failed', `Requested hardware '${model}' is not supported by the '${type}' virt driver`);
  }
  return model as VifModel;
}

export function planNics(spec: GuestSpec, type: VirtType, backend: NicBackend): PlanNic[] {
  const nics = spec.nics ?? [];
  if (nics.length === 0) return [];
  const model = vifModel(spec.image.properties, type);
  return nics.map((n) => ({ mac: n.mac, mtu: n.mtu, model, backend, dev: portDeviceName(n.portId) }));
}

/** The alias of the i-th NIC (`ua-` is libvirt's prefix for aliases a user chooses). */
const alias = (i: number): string => `ua-nic${i}`;

/** Whether the NIC's MTU goes in as virtio-net's `host_mtu` (a user-mode virtio NIC). */
const overridesMtu = (n: PlanNic): boolean => n.backend === 'user' && n.model === 'virtio';

export function interfaceXml(n: PlanNic, i: number): string {
  const lines = [
    `    <interface type='${n.backend}'>`,
    `      <mac address='${xmlText(n.mac)}'/>`,
    ...(n.backend === 'ethernet' ? [`      <target dev='${xmlText(n.dev)}' managed='no'/>`] : []),
    `      <model type='${n.model}'/>`,
    ...(n.backend === 'ethernet' ? [`      <mtu size='${n.mtu}'/>`] : []),
    `      <alias name='${alias(i)}'/>`,
    '    </interface>',
  ];
  return lines.join('\n');
}

export const QEMU_NS = 'http://libvirt.org/schemas/domain/qemu/1.0';

/** The `<qemu:override>` giving user-mode virtio NICs their MTU; empty when none needs it. */
export function mtuOverrides(nics: readonly PlanNic[]): string {
  const devices = nics.flatMap((n, i) => overridesMtu(n) ? [
    `    <qemu:device alias='${alias(i)}'>
      <qemu:frontend>
        <qemu:property name='host_mtu' type='unsigned' value='${n.mtu}'/>
      </qemu:frontend>
    </qemu:device>`,
  ] : []);
  return devices.length === 0 ? '' : `  <qemu:override>\n${devices.join('\n')}\n  </qemu:override>\n`;
}

/** A domain XML's interfaces, in order: the MAC and the host-side device when there is one (diagnostics). */
export function domainNics(domainXml: string): { mac: string; dev?: string }[] {
  return [...domainXml.matchAll(/<interface\s[\s\S]*?<\/interface>/g)].map(([block]) => {
    const mac = /<mac address=['"]([0-9a-fA-F:]+)['"]/.exec(block)?.[1]?.toLowerCase() ?? '';
    const dev = /<target dev=['"]([^'"]+)['"]/.exec(block)?.[1];
    return dev === undefined ? { mac } : { mac, dev };
  });
}
