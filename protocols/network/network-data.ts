/**
 * A guest's `network_data.json` (config drive and metadata service), as Nova writes it
 * (nova/virt/netutils.py `get_network_metadata`): per NIC with an address a `links` entry (the
 * tap's name as its id, the port as `vif_id`, `phy`, the network's MTU, the MAC); per NIC its first
 * IPv4 and its first IPv6 address as `networks` entries (`network<n>` numbered across NICs, the
 * netmask, the subnet's gateway as the default route then its host routes, its DNS servers), and
 * every DNS server once in `services`. No NICs: `{}`, as Nova answers an empty network info.
 *
 * One departure: Nova writes a DHCP subnet as `ipv4_dhcp` / `ipv6_dhcp` without an address. novact
 * runs no DHCP server, so every subnet is written as Nova writes one without DHCP (static), and
 * the guest is told its address.
 */
import type { GuestFixedIp, GuestNic } from '../host.js';
import { formatAddress, parseCidr, prefixMask, type IpVersion } from './ip.js';
import { portDeviceName } from './port-device.js';

export interface NetworkDataLink {
  id: string;
  vif_id: string;
  type: 'phy';
  mtu: number | null;
  ethernet_mac_address: string;
}
export interface NetworkDataRoute { network: string; netmask: string; gateway: string }
export interface NetworkDataService { type: 'dns'; address: string }
export interface NetworkDataNetwork {
  id: string;
  type: string;
  link: string;
  ip_address: string;
  netmask: string;
  routes: NetworkDataRoute[];
  network_id: string;
  services: NetworkDataService[];
}
export interface NetworkData { links: NetworkDataLink[]; networks: NetworkDataNetwork[]; services: NetworkDataService[] }

/** A prefix's netmask as Nova prints it (netaddr: dotted for IPv4, RFC 5952 for IPv6). */
function netmask(version: IpVersion, prefix: number): string {
  return formatAddress(version, prefixMask(version, prefix));
}

const ANY: Record<IpVersion, string> = { 4: '0.0.0.0', 6: '::' };

function routesOf(ip: GuestFixedIp, version: IpVersion): NetworkDataRoute[] {
  const routes: NetworkDataRoute[] = ip.gateway ? [{ network: ANY[version], netmask: ANY[version], gateway: ip.gateway }] : [];
  for (const r of ip.routes ?? []) {
    const c = parseCidr(r.destination)?.cidr;
    // A destination that is no CIDR (the network role checked it) would be Nova's exception: left out.
    if (c) routes.push({ network: formatAddress(c.version, c.network), netmask: netmask(c.version, c.prefix), gateway: r.nexthop });
  }
  return routes;
}

const dnsOf = (ip: GuestFixedIp): NetworkDataService[] => (ip.dns ?? []).map((address) => ({ type: 'dns', address }));

function networkOf(nic: GuestNic, ip: GuestFixedIp, version: IpVersion, n: number, link: string): NetworkDataNetwork {
  const prefix = parseCidr(ip.cidr)?.cidr.prefix ?? (version === 4 ? 32 : 128);
  return {
    id: `network${n}`,
    type: `ipv${version}${version === 6 && ip.ipv6AddressMode ? `_${ip.ipv6AddressMode}` : ''}`,
    link,
    ip_address: ip.address,
    netmask: netmask(version, prefix),
    routes: routesOf(ip, version),
    network_id: nic.networkId,
    services: dnsOf(ip),
  };
}

export function networkData(nics: readonly GuestNic[] | undefined): NetworkData | Record<string, never> {
  if (!nics || nics.length === 0) return {};
  const links: NetworkDataLink[] = [];
  const networks: NetworkDataNetwork[] = [];
  const services: NetworkDataService[] = [];
  for (const nic of nics) {
    // Nova reads one subnet per IP version (the first), and of it the port's first address.
    const firsts = ([4, 6] as const).map((v) => [v, nic.fixedIps.find((f) => f.version === v)] as const)
      .filter((e): e is readonly [IpVersion, GuestFixedIp] => e[1] !== undefined);
    if (firsts.length === 0) continue;
    const link: NetworkDataLink = { id: portDeviceName(nic.portId), vif_id: nic.portId, type: 'phy', mtu: nic.mtu, ethernet_mac_address: nic.mac };
    links.push(link);
    for (const [version, ip] of firsts) {
      networks.push(networkOf(nic, ip, version, networks.length, link.id));
      for (const s of dnsOf(ip)) if (!services.some((x) => x.address === s.address)) services.push(s);
    }
  }
  return { links, networks, services };
}

/** The guest's first IPv4 address (EC2's `local-ipv4`). */
export function firstIpv4(nics: readonly GuestNic[] | undefined): string | undefined {
  for (const nic of nics ?? []) for (const f of nic.fixedIps) if (f.version === 4) return f.address;
  return undefined;
}
