/**
 * Which libvirt domain type a host runs guests with: `kvm` needs a usable `/dev/kvm` and a daemon
 * that offers it; anything else is `qemu` (TCG, slow but everywhere). Detection is the default and
 * a setting overrides it: some machines (nested sandboxes) open /dev/kvm yet hang their guests.
 */
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import type { Bound } from './bound.js';
import type { Connection } from './connection.js';
import type { DomainType } from './domain-xml.js';

export type DomainTypeSetting = DomainType | 'auto';

export async function detectDomainType(conn: Connection, b: Bound, kvmDevice = '/dev/kvm'): Promise<DomainType> {
  if (!conn.virshReachesDomains) return 'qemu'; // libvirt's test driver
  const usable = await access(kvmDevice, constants.R_OK | constants.W_OK).then(() => true, () => false);
  if (!usable) return 'qemu';
  const caps = await conn.virsh(b, ['capabilities']).catch(() => '');
  return /<domain\s+type=['"]kvm['"]/.test(caps) ? 'kvm' : 'qemu';
}
