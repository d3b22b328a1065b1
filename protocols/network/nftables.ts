/**
 * A port's security groups as an nftables rule set (pure), for `nft -f -` on the port's host.
 *
 * One `inet` table per port (`novact-port-<port id>`), so a port's rules are replaced or removed
 * in one atomic transaction without touching any other port's. Its base chains catch the traffic
 * of the port's tap (`tap` + 11 characters of the port id, Nova's name) on the host's `forward`
 * hook (routed to and from the guest), `input` (from the guest to the host) and `output` (from the
 * host to the guest), and jump to two chains named from the guest's side as Neutron names them:
 *
 * - `sg-ingress` (to the guest): neighbour discovery, DHCP replies, then conntrack (invalid
 *   dropped, established and related accepted), the group's ingress rules, and a counted drop.
 * - `sg-egress` (from the guest): DHCP and duplicate address detection before the guest has an
 *   address; anti-spoofing (only the port's MAC with its fixed IPs, its allowed address pairs and
 *   the IPv6 link-local address of each MAC may leave); no DHCP server or router advertisements
 *   from a guest; then conntrack, the egress rules, and a counted drop.
 *
 * After Neutron's iptables firewall driver. A port with port security off gets an empty table (no
 * filtering, as in Neutron). Every value placed in the text is parsed and printed again here
 * (addresses, MACs, numbers), and names are built from a checked port id, so no tenant text
 * reaches the rule set. The `inet` family sees routed traffic only: a tap on a Linux bridge
 * would need the bridge family with conntrack (not in this sandbox's kernel); ARP is not filtered.
 */
import { cidrContains, formatCidr, formatIp, ipBits, parseCidr, parseIp, type Cidr, type IpVersion } from './ip.js';
import { macOctets } from './mac.js';
import { portDeviceName } from './port-device.js';
import { ruleProtocolNumber, type Direction, type Ethertype, type RuleInput } from './security-group-rules.js';

/** A security group rule as the port's host gets it (Neutron's stored fields). */
export type PortRule = Pick<RuleInput, 'direction' | 'ethertype' | 'protocol' | 'port_range_min' | 'port_range_max' | 'remote_ip_prefix'> & {
  remote_group_id?: string | null;
};

export interface PortFirewall {
  portId: string;
  mac: string;
  /** The port's fixed addresses. */
  fixedIps: string[];
  /** Neutron's allowed address pairs: an address or a CIDR, with its own MAC or the port's. */
  allowedAddressPairs?: { ip_address: string; mac_address?: string | null }[];
  portSecurityEnabled: boolean;
  /** The rules of every group of the port. */
  rules: PortRule[];
  /** The addresses of each remote group's member ports, by group id (a rule naming a group not here matches nothing). */
  remoteGroups?: Record<string, string[]>;
}

const PORT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const portTableName = (portId: string): string => `novact-port-${checkPortId(portId)}`;

function checkPortId(portId: string): string {
  if (!PORT_ID.test(portId)) throw new RangeError(`not a port id: ${JSON.stringify(portId)}`);
  return portId;
}

function mac(s: string): string {
  const octets = macOctets(s);
  if (!octets) throw new RangeError(`not a MAC address: ${JSON.stringify(s)}`);
  return octets.map((o) => o.toString(16).padStart(2, '0')).join(':');
}

interface Prefix { version: IpVersion; cidr: Cidr; text: string }

/** An address or CIDR as nft reads it: an address alone, or the network with its host bits cleared. */
function addressOrCidr(s: string): Prefix {
  const ip = parseIp(s);
  const c = ip ? { version: ip.version, network: ip.value, prefix: ipBits(ip.version) } : parseCidr(s)?.cidr;
  if (!c) throw new RangeError(`not an address or CIDR: ${JSON.stringify(s)}`);
  const full = c.prefix === ipBits(c.version);
  return { version: c.version, cidr: c, text: full ? formatIp({ version: c.version, value: c.network }) : formatCidr(c) };
}

/**
 * The elements not inside another of the same key (prefixes nest or are disjoint): the kernel
 * refuses an interval set whose elements overlap (EEXIST), e.g. an allowed pair of `::/0` beside
 * the port's link-local address.
 */
function outermost<T extends { key: string; p: Prefix }>(items: readonly T[]): T[] {
  const inside = (a: T, b: T) => a.key === b.key && a.p.version === b.p.version && b.p.cidr.prefix <= a.p.cidr.prefix && cidrContains(b.p.cidr, a.p.cidr.network);
  return items.filter((a, i) => !items.some((b, j) => j !== i && inside(a, b) && (b.p.cidr.prefix < a.p.cidr.prefix || j < i)));
}

/** The IPv6 link-local address of a MAC (EUI-64: the universal/local bit flipped, ff:fe in the middle). */
export function linkLocal(macText: string): string {
  const o = macOctets(macText);
  if (!o) throw new RangeError(`not a MAC address: ${JSON.stringify(macText)}`);
  const bytes = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, o[0]! ^ 0x02, o[1]!, o[2]!, 0xff, 0xfe, o[3]!, o[4]!, o[5]!];
  const value = bytes.reduce((v, b) => (v << 8n) | BigInt(b), 0n);
  return formatIp({ version: 6, value });
}

const FAMILY: Record<Ethertype, { nfproto: string; addr: string; version: IpVersion }> = {
  IPv4: { nfproto: 'ipv4', addr: 'ip', version: 4 },
  IPv6: { nfproto: 'ipv6', addr: 'ip6', version: 6 },
};
/** The remote end's address: the source of what comes in, the destination of what goes out. */
const REMOTE_FIELD: Record<Direction, string> = { ingress: 'saddr', egress: 'daddr' };
/** Protocols whose range is a port range (their destination port sits where `th dport` reads it). */
const PORT_PROTOCOLS = new Set([6, 17, 33, 132, 136]);
/** ICMP's header per family (a port range on ICMP is its type and code). */
const ICMP: Record<IpVersion, { proto: number; name: string }> = { 4: { proto: 1, name: 'icmp' }, 6: { proto: 58, name: 'icmpv6' } };

const set = (items: readonly string[]): string => (items.length === 1 ? items[0]! : `{ ${items.join(', ')} }`);
const int = (n: number | null, max: number): number | null => {
  if (n === null) return null;
  if (!Number.isInteger(n) || n < 0 || n > max) throw new RangeError(`not a port, type or code: ${n}`);
  return n;
};

/** One rule's match; undefined when it can match nothing (a remote group with no members of its family). */
export function ruleMatch(rule: PortRule, remoteGroups: Record<string, string[]> = {}): string | undefined {
  const fam = FAMILY[rule.ethertype];
  if (!fam) throw new RangeError(`not an ethertype: ${JSON.stringify(rule.ethertype)}`);
  const parts = [`meta nfproto ${fam.nfproto}`];
  const field = `${fam.addr} ${REMOTE_FIELD[rule.direction]}`;
  if (rule.remote_ip_prefix !== null && rule.remote_ip_prefix !== undefined) {
    const p = addressOrCidr(rule.remote_ip_prefix);
    if (p.version !== fam.version) return undefined;
    if (!/\/0$/.test(p.text)) parts.push(`${field} ${p.text}`);
  } else if (rule.remote_group_id) {
    const members = outermost((remoteGroups[rule.remote_group_id] ?? []).map((a) => ({ key: '', p: addressOrCidr(a) }))
      .filter((m) => m.p.version === fam.version)).map((m) => m.p.text);
    if (members.length === 0) return undefined;
    parts.push(`${field} ${set(members)}`);
  }
  const proto = ruleProtocolNumber(rule);
  const min = int(rule.port_range_min, 65535);
  const max = int(rule.port_range_max, 65535);
  // Protocol 0 (`ip`, `hopopt`) is any protocol, as iptables' `-p 0` is.
  if (proto !== null && proto !== 0) {
    if (!Number.isInteger(proto) || proto < 0 || proto > 255) throw new RangeError(`not a protocol: ${JSON.stringify(rule.protocol)}`);
    const icmp = ICMP[fam.version];
    if (proto === icmp.proto && (min !== null || max !== null)) {
      parts.push(`meta l4proto ${proto}`);
      if (min !== null) parts.push(`${icmp.name} type ${int(min, 255)}`);
      if (max !== null) parts.push(`${icmp.name} code ${int(max, 255)}`);
    } else {
      parts.push(`meta l4proto ${proto}`);
      if (PORT_PROTOCOLS.has(proto) && min !== null && max !== null) parts.push(`th dport ${min === max ? min : `${min}-${max}`}`);
    }
  }
  return parts.join(' ');
}

/** The port's (MAC, address) pairs that may send, per family, as set elements. */
function sources(f: PortFirewall): Record<IpVersion, string[]> {
  const own = mac(f.mac);
  const pairs: { key: string; p: Prefix }[] = [];
  const macs = [own];
  for (const ip of f.fixedIps) pairs.push({ key: own, p: addressOrCidr(ip) });
  for (const pair of f.allowedAddressPairs ?? []) {
    const m = pair.mac_address ? mac(pair.mac_address) : own;
    pairs.push({ key: m, p: addressOrCidr(pair.ip_address) });
    if (!macs.includes(m)) macs.push(m);
  }
  for (const m of macs) pairs.push({ key: m, p: addressOrCidr(linkLocal(m)) });
  const out: Record<IpVersion, string[]> = { 4: [], 6: [] };
  for (const { key, p } of outermost(pairs)) out[p.version].push(`${key} . ${p.text}`);
  return out;
}

const tab = (lines: string[]): string => lines.map((l) => `\t\t${l}`).join('\n');

function chain(name: string, lines: string[]): string {
  return `\tchain ${name} {\n${tab(lines)}\n\t}`;
}

function baseChain(hook: string, lines: string[]): string {
  return chain(hook, [`type filter hook ${hook} priority filter; policy accept;`, ...lines]);
}

function rulesFor(f: PortFirewall, direction: Direction): string[] {
  const seen = new Set<string>();
  for (const r of f.rules) {
    if (r.direction !== direction) continue;
    const m = ruleMatch(r, f.remoteGroups);
    if (m !== undefined) seen.add(`${m} accept`);
  }
  return [...seen];
}

const CONNTRACK = ['ct state invalid drop', 'ct state established,related accept'];

function ingress(f: PortFirewall): string[] {
  return [
    // Neighbour discovery and MLD queries reach the guest whatever its groups say.
    'icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert, mld-listener-query } accept',
    'meta nfproto ipv4 udp sport 67 udp dport 68 accept',
    'meta nfproto ipv6 udp sport 547 udp dport 546 accept',
    ...CONNTRACK,
    ...rulesFor(f, 'ingress'),
    'counter drop',
  ];
}

function egress(f: PortFirewall): string[] {
  const src = sources(f);
  const spoof = (v: IpVersion, addr: string, nfproto: string) =>
    // A concatenation is matched against a set only, even of one element (nft refuses `a . b != c . d`).
    src[v].length === 0 ? `meta nfproto ${nfproto} counter drop` : `ether saddr . ${addr} saddr != { ${src[v].join(', ')} } counter drop`;
  return [
    // Before the guest has an address: DHCP discovery, and duplicate address detection from ::.
    'meta nfproto ipv4 udp sport 68 udp dport 67 accept',
    'ip6 saddr :: icmpv6 type { mld-listener-report, nd-neighbor-solicit, mld2-listener-report } accept',
    spoof(4, 'ip', 'ipv4'),
    spoof(6, 'ip6', 'ipv6'),
    // A guest is no DHCP server and no router.
    'meta nfproto ipv4 udp sport 67 udp dport 68 drop',
    'meta nfproto ipv6 udp sport 547 udp dport 546 drop',
    'icmpv6 type nd-router-advert drop',
    'icmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report, mld2-listener-report } accept',
    'meta nfproto ipv6 udp sport 546 udp dport 547 accept',
    ...CONNTRACK,
    ...rulesFor(f, 'egress'),
    'counter drop',
  ];
}

/** The port's table, created or replaced in one transaction. */
export function renderPortRuleset(f: PortFirewall): string {
  const table = portTableName(f.portId);
  const dev = `"${portDeviceName(f.portId)}"`;
  const body = f.portSecurityEnabled ? [
    baseChain('forward', [`oifname ${dev} jump sg-ingress`, `iifname ${dev} jump sg-egress`]),
    baseChain('input', [`iifname ${dev} jump sg-egress`]),
    baseChain('output', [`oifname ${dev} jump sg-ingress`]),
    chain('sg-ingress', ingress(f)),
    chain('sg-egress', egress(f)),
  ] : [];
  // Declaring the table first makes the delete succeed when it did not exist.
  return `table inet ${table}\ndelete table inet ${table}\ntable inet ${table} {\n${body.join('\n')}\n}\n`;
}

/** Removes the port's table (a missing one is fine). */
export function renderPortRemoval(portId: string): string {
  const table = portTableName(portId);
  return `table inet ${table}\ndelete table inet ${table}\n`;
}
