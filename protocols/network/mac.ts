/**
 * Ethernet (EUI-48) addresses of ports: parsing a requested `mac_address` and generating one
 * from Neutron's `base_mac` (neutron_lib.utils.net.get_random_mac).
 */
import { pyStr } from './py-text.js';

/** Neutron's default `base_mac` (the OpenStack OUI, fa:16:3e). */
export const DEFAULT_BASE_MAC = 'fa:16:3e:00:00:00';

/** Six octets of one or two hex digits, all `:` or all `-` (netaddr's EUI-48 forms for these). */
const MAC = /^[0-9a-f]{1,2}([:-])[0-9a-f]{1,2}(\1[0-9a-f]{1,2}){4}$/i;

/** The six octets of a MAC address text, or undefined. */
export function macOctets(s: string): number[] | undefined {
  if (typeof s !== 'string' || !MAC.test(s)) return undefined;
  return s.split(/[:-]/).map((o) => parseInt(o, 16));
}

function formatMac(octets: readonly number[]): string {
  return octets.map((o) => o.toString(16).padStart(2, '0')).join(':');
}

export interface ParseMacOptions {
  /**
   * Whether a group address (the first octet's low bit set) is refused; by default it is, since a
   * port's address must be unicast. Neutron itself refuses only all-zero and broadcast.
   */
  refuseMulticast?: boolean;
}

/**
 * A port's MAC address in lower-case colon form, or undefined: `-` separators and upper case
 * accepted; all-zero, broadcast and (unless told otherwise) multicast addresses refused.
 */
export function parseMac(s: string, opts: ParseMacOptions = {}): string | undefined {
  const octets = macOctets(s);
  if (!octets) return undefined;
  if (octets.every((o) => o === 0) || octets.every((o) => o === 255)) return undefined;
  if ((opts.refuseMulticast ?? true) && (octets[0]! & 1) === 1) return undefined;
  return formatMac(octets);
}

/** Neutron's `validate_mac_address` reason, undefined for an accepted address. */
export function macError(data: unknown, opts: ParseMacOptions = {}): string | undefined {
  if (typeof data === 'string' && parseMac(data, opts) !== undefined) return undefined;
  return `'${pyStr(data)}' is not a valid MAC address`;
}

/**
 * A random MAC address under `base` (Neutron's `base_mac`): its first three octets kept, the
 * fourth too unless it is 00, the rest from `randomBytes`. Throws when `base` is not a MAC address
 * (a configuration error).
 */
export function macFromBase(base: string, randomBytes: (n: number) => Uint8Array): string {
  const octets = macOctets(base);
  if (!octets) throw new Error(`base_mac '${base}' is not a MAC address`);
  const keep = octets[3] !== 0 ? 4 : 3;
  const random = randomBytes(6 - keep);
  if (random.length < 6 - keep) throw new Error(`randomBytes(${6 - keep}) returned ${random.length} bytes`);
  const mac = [...octets.slice(0, keep), ...Array.from(random.subarray(0, 6 - keep))];
  return formatMac(mac);
}
