/**
 * IP addresses and prefixes as numbers: an address is its version and a bigint (IPv6 needs 128
 * bits), so ranges, pools and allocation are integer arithmetic. Parsing is strict in the way
 * Neutron's validators are (netaddr over glibc's inet_pton): IPv4 only as a dotted quad without
 * leading zeros, IPv6 in RFC 4291's text forms, no zone ids, no whitespace.
 */

import { pyStr } from './py-text.js';

export type IpVersion = 4 | 6;

export interface IpAddress { version: IpVersion; value: bigint }

export interface Cidr { version: IpVersion; network: bigint; prefix: number }

/** Longest text form of an address (`ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`). */
export const MAX_IP_TEXT = 45;

/** Bits in an address of the version. */
export function ipBits(version: IpVersion): number {
  return version === 4 ? 32 : 128;
}

/** The highest address of the version. */
export function maxAddress(version: IpVersion): bigint {
  return (1n << BigInt(ipBits(version))) - 1n;
}

const OCTET = /^(0|[1-9][0-9]{0,2})$/;
const HEXTET = /^[0-9a-fA-F]{1,4}$/;

/** A dotted quad; undefined for anything else (leading zeros, octets over 255, fewer parts). */
export function parseIpv4(s: string): bigint | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  let v = 0n;
  for (const p of parts) {
    if (!OCTET.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

/** Groups of one side of `::` (or the whole address), the last one possibly a dotted quad. */
function hextets(side: string, dottedAllowed: boolean): bigint[] | undefined {
  if (side === '') return [];
  const parts = side.split(':');
  const out: bigint[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (dottedAllowed && i === parts.length - 1 && p.includes('.')) {
      const v4 = parseIpv4(p);
      if (v4 === undefined) return undefined;
      out.push(v4 >> 16n, v4 & 0xffffn);
    } else if (HEXTET.test(p)) {
      out.push(BigInt(parseInt(p, 16)));
    } else {
      return undefined;
    }
  }
  return out;
}

/** RFC 4291 §2.2 text: eight groups, or fewer around one `::` (one or more zero groups). */
export function parseIpv6(s: string): bigint | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  let groups: bigint[];
  if (halves.length === 1) {
    const all = hextets(s, true);
    if (!all || all.length !== 8) return undefined;
    groups = all;
  } else {
    const head = hextets(halves[0]!, false);
    const tail = hextets(halves[1]!, true);
    if (!head || !tail || head.length + tail.length > 7) return undefined;
    groups = [...head, ...new Array<bigint>(8 - head.length - tail.length).fill(0n), ...tail];
  }
  return groups.reduce((v, g) => (v << 16n) | g, 0n);
}

/** An IPv4 or IPv6 address in text; undefined when it is not one (strictly). */
export function parseIp(s: string): IpAddress | undefined {
  if (typeof s !== 'string' || s.length === 0 || s.length > MAX_IP_TEXT) return undefined;
  if (s.includes(':')) {
    const value = parseIpv6(s);
    return value === undefined ? undefined : { version: 6, value };
  }
  const value = parseIpv4(s);
  return value === undefined ? undefined : { version: 4, value };
}

function formatIpv4(v: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((v >> shift) & 255n)).join('.');
}

/**
 * RFC 5952: lowercase, no leading zeros, the longest run of two or more zero groups as `::`
 * (the first of equal runs), and an IPv4-mapped address (`::ffff:0:0/96`) with its dotted quad.
 */
function formatIpv6(v: bigint): string {
  const words: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) words.push(Number((v >> shift) & 0xffffn));
  if (v >> 32n === 0xffffn) return `::ffff:${formatIpv4(v & 0xffffffffn)}`;
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestLen < 2) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
}

/** The canonical text of an address (dotted quad; RFC 5952 for IPv6). */
export function formatIp(a: IpAddress): string {
  return a.version === 4 ? formatIpv4(a.value) : formatIpv6(a.value);
}

/** The same for a bare value of a known version. */
export function formatAddress(version: IpVersion, value: bigint): string {
  return formatIp({ version, value });
}

const PREFIX = /^(0|[1-9][0-9]{0,2})$/;

/**
 * `address/prefix` (the prefix a plain decimal, 0–32 or 0–128). The network has its host bits
 * cleared, as Neutron stores a subnet's cidr; `hostBitsSet` says whether the text had any.
 */
export function parseCidr(s: string): { cidr: Cidr; hostBitsSet: boolean } | undefined {
  if (typeof s !== 'string') return undefined;
  const slash = s.indexOf('/');
  if (slash < 0) return undefined;
  const ip = parseIp(s.slice(0, slash));
  const prefixText = s.slice(slash + 1);
  if (!ip || !PREFIX.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  if (prefix > ipBits(ip.version)) return undefined;
  const network = ip.value & prefixMask(ip.version, prefix);
  return { cidr: { version: ip.version, network, prefix }, hostBitsSet: network !== ip.value };
}

/** The netmask of a prefix as a number. */
export function prefixMask(version: IpVersion, prefix: number): bigint {
  const bits = ipBits(version);
  return maxAddress(version) ^ ((1n << BigInt(bits - prefix)) - 1n);
}

/** `network/prefix` in canonical text. */
export function formatCidr(c: Cidr): string {
  return `${formatAddress(c.version, c.network)}/${c.prefix}`;
}

/** Addresses in the prefix. */
export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(ipBits(c.version) - c.prefix);
}

export function firstAddress(c: Cidr): bigint {
  return c.network;
}

export function lastAddress(c: Cidr): bigint {
  return c.network + cidrSize(c) - 1n;
}

/** Whether the address (of the prefix's version; the caller checks that) lies in the prefix. */
export function cidrContains(c: Cidr, ip: bigint): boolean {
  return ip >= c.network && ip <= lastAddress(c);
}

/** Whether two prefixes share an address (never across versions). */
export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  return a.version === b.version && a.network <= lastAddress(b) && b.network <= lastAddress(a);
}

/** The address with each IPv4 octet's leading zeros dropped (netaddr's ZEROFILL), if that parses. */
function zeroFilled(s: string): string | undefined {
  const parts = s.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^[0-9]+$/.test(p))) return undefined;
  const stripped = parts.map((p) => p.replace(/^0+(?=[0-9])/, '')).join('.');
  return parseIpv4(stripped) === undefined ? undefined : stripped;
}

/**
 * Neutron's `validate_ip_address` reason for a request value, undefined when it is an address:
 * `'x' is not a valid IP address`, or for IPv4 with leading zeros
 * `'010.0.0.1' is not an accepted IP address, '10.0.0.1' is recommended`.
 */
export function ipAddressError(data: unknown): string | undefined {
  if (typeof data === 'string' && !/\s/.test(data)) {
    if (parseIp(data)) return undefined;
    const recommended = zeroFilled(data);
    if (recommended !== undefined) return `'${data}' is not an accepted IP address, '${recommended}' is recommended`;
  }
  return `'${pyStr(data)}' is not a valid IP address`;
}

/** Neutron's `validate_subnet` reason for a cidr value, undefined when it is one. */
export function subnetError(data: unknown): string | undefined {
  if (typeof data === 'string' && !/\s/.test(data) && parseCidr(data)) return undefined;
  return `'${pyStr(data)}' is not a valid IP subnet`;
}
