/**
 * Nova's server JSON, by microversion. The shape follows nova/api/openstack/compute/views/servers.py:
 * the flavor is a link before 2.47 and an embedded copy from 2.47; `locked` from 2.9, `description`
 * from 2.19, `tags` from 2.26, `trusted_image_certificates` from 2.63, `locked_reason` from 2.73;
 * the `OS-EXT-SRV-ATTR:*` host attributes are an admin's (hostname for everyone from 2.90).
 * Status is Nova's mapping of vm_state and task_state (protocols/states.ts `apiStatus`).
 */
import type { Nic } from '../../../protocols/catalog/network.js';
import { createHash } from 'node:crypto';
import { canonicalIpv6 } from '../../../protocols/ipv6.js';
import type { ServerView } from '../../../protocols/messages.js';
import type { AuthContext } from '../context.js';
import type { Links } from '../links.js';
import { atLeast, type Microversion } from '../microversion.js';
import { visibleFaultMessage } from './fault-text.js';

export interface ServerViewContext {
  mv: Microversion;
  auth: AuthContext;
  links: Links;
  /** Extra specs of the server's flavor (2.47+ embeds them), when known. */
  flavorSpecs?: (flavorId: string) => Record<string, string> | undefined;
  /** The servers' NICs (from the network role), for `addresses`. */
  nics?: Record<string, Nic[]>;
}

/** The groups of the server's ports; none (no ports, or every group removed) leaves the key out, as Nova does. */
function securityGroupsOf(nics: Nic[] | undefined): { security_groups?: { name: string }[] } {
  const names = [...new Set((nics ?? []).flatMap((n) => n.securityGroups))];
  return names.length > 0 ? { security_groups: names.map((name) => ({ name })) } : {};
}

/** Nova's `addresses`: per network name, each fixed and floating address with its MAC. */
export function addressesOf(nics: Nic[] | undefined): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const n of nics ?? []) {
    const list = (out[n.networkName] ??= []);
    const mac = { 'OS-EXT-IPS-MAC:mac_addr': n.mac };
    for (const f of n.fixedIps) list.push({ version: f.version, addr: f.address, 'OS-EXT-IPS:type': 'fixed', ...mac });
    for (const a of n.floatingIps) list.push({ version: 4, addr: a, 'OS-EXT-IPS:type': 'floating', ...mac });
  }
  return out;
}

/** `2012-08-20T21:11:09Z`: Nova's API timestamps have no fractional seconds. */
export function novaTime(iso: string): string {
  return iso.replace(/\.\d+Z$/, 'Z');
}

/** `2013-09-23T13:53:12.774549`: the `OS-SRV-USG` times are printed as naive datetimes. */
export function usageTime(iso: string | null): string | null {
  return iso === null ? null : iso.replace(/\.(\d{3})Z$/, '.$1000').replace(/Z$/, '');
}

/** Nova's `hostId`: sha224(project_id + host), so projects cannot correlate hosts. */
export function hostId(projectId: string, host: string | null): string {
  return host ? createHash('sha224').update(projectId + host).digest('hex') : '';
}

/** Nova's statuses that carry a `progress`. */
const PROGRESS_STATUSES = new Set(['ACTIVE', 'BUILD', 'REBUILD', 'RESIZE', 'VERIFY_RESIZE', 'MIGRATING']);

export function serverLinks(s: { id: string }, links: Links): { rel: string; href: string }[] {
  return links.compLinks(`/servers/${s.id}`);
}

export function serverBrief(s: ServerView, links: Links): Record<string, unknown> {
  return { id: s.id, name: s.name, links: serverLinks(s, links) };
}

function flavorOf(s: ServerView, v: ServerViewContext): Record<string, unknown> {
  if (!atLeast(v.mv, 47)) {
    return { id: s.flavor.id, links: [{ rel: 'bookmark', href: `${v.links.base}/flavors/${s.flavor.id}` }] };
  }
  const f: Record<string, unknown> = {
    vcpus: s.flavor.vcpus, ram: s.flavor.ram, disk: s.flavor.disk, ephemeral: s.flavor.ephemeral, swap: s.flavor.swap, original_name: s.flavor.name,
  };
  const specs = v.flavorSpecs?.(s.flavor.id);
  if (specs !== undefined) f.extra_specs = specs;
  return f;
}

export function serverDetail(s: ServerView, v: ServerViewContext): Record<string, unknown> {
  const { mv, auth, links } = v;
  const out: Record<string, unknown> = {
    id: s.id,
    name: s.name,
    status: s.status,
    tenant_id: s.projectId,
    user_id: s.userId,
    metadata: s.metadata,
    hostId: hostId(s.projectId, s.host),
    image: s.imageId ? { id: s.imageId, links: [{ rel: 'bookmark', href: `${links.base}/images/${s.imageId}` }] } : '',
    flavor: flavorOf(s, v),
    created: novaTime(s.createdAt),
    updated: novaTime(s.updatedAt),
    addresses: addressesOf(v.nics?.[s.id]),
    accessIPv4: s.accessIPv4,
    // Nova keeps it as an address object: answered in its canonical form.
    accessIPv6: s.accessIPv6 ? canonicalIpv6(s.accessIPv6) : s.accessIPv6,
    links: serverLinks(s, links),
    'OS-DCF:diskConfig': 'MANUAL',
    'OS-EXT-AZ:availability_zone': s.availabilityZone ?? (s.host ? 'nova' : ''),
    // Nova's column is a string: "True", or "" for none.
    config_drive: s.configDrive ? 'True' : '',
    key_name: s.keyName,
    'OS-SRV-USG:launched_at': usageTime(s.launchedAt),
    'OS-SRV-USG:terminated_at': null,
    'OS-EXT-STS:task_state': s.taskState,
    'OS-EXT-STS:vm_state': s.vmState,
    'OS-EXT-STS:power_state': s.powerState,
    'os-extended-volumes:volumes_attached': [],
    ...securityGroupsOf(v.nics?.[s.id]),
  };
  if (PROGRESS_STATUSES.has(s.status)) out.progress = 0;
  if (auth.isAdmin) {
    out['OS-EXT-SRV-ATTR:host'] = s.host;
    out['OS-EXT-SRV-ATTR:instance_name'] = `instance-${s.id.slice(0, 8)}`;
    out['OS-EXT-SRV-ATTR:hypervisor_hostname'] = s.host;
    if (atLeast(mv, 3)) {
      Object.assign(out, {
        'OS-EXT-SRV-ATTR:reservation_id': `r-${s.id.slice(0, 8)}`,
        'OS-EXT-SRV-ATTR:launch_index': 0,
        'OS-EXT-SRV-ATTR:hostname': s.hostname,
        'OS-EXT-SRV-ATTR:kernel_id': '',
        'OS-EXT-SRV-ATTR:ramdisk_id': '',
        'OS-EXT-SRV-ATTR:root_device_name': null,
        'OS-EXT-SRV-ATTR:user_data': s.userData,
      });
    }
  } else if (atLeast(mv, 90)) {
    out['OS-EXT-SRV-ATTR:hostname'] = s.hostname;
  }
  if (atLeast(mv, 9)) out.locked = s.locked ?? false;
  if (atLeast(mv, 19)) out.description = s.description;
  if (atLeast(mv, 26)) out.tags = s.tags;
  if (atLeast(mv, 63)) out.trusted_image_certificates = null;
  if (atLeast(mv, 73)) out.locked_reason = s.lockedReason ?? null;
  if (s.fault) out.fault = { code: s.fault.code, message: visibleFaultMessage(auth, s.fault.code, s.fault.message), created: novaTime(s.updatedAt) };
  return out;
}

/** What Nova's update answer leaves out before 2.75 (its `show(..., show_extended_attr=False, …)`). */
const NOT_IN_UPDATE = new Set([
  'OS-EXT-AZ:availability_zone', 'config_drive', 'key_name', 'OS-SRV-USG:launched_at', 'OS-SRV-USG:terminated_at',
  'OS-EXT-STS:task_state', 'OS-EXT-STS:vm_state', 'OS-EXT-STS:power_state', 'os-extended-volumes:volumes_attached', 'security_groups',
]);

/** `PUT /servers/{id}`'s server: the detail view, without the extension attributes below 2.75. */
export function serverUpdateView(s: ServerView, v: ServerViewContext): Record<string, unknown> {
  const out = serverDetail(s, v);
  if (atLeast(v.mv, 75)) return out;
  return Object.fromEntries(Object.entries(out).filter(([k]) => !NOT_IN_UPDATE.has(k) && !k.startsWith('OS-EXT-SRV-ATTR:')));
}
