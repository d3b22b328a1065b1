/** The hostname and access addresses of a build or an update, checked the same way for both. */
import { BadRequestError } from '../../protocols/errors.js';
import { optStr } from '../../protocols/validate.js';
import { isAccessIpV4, isAccessIpV6, isValidHostname } from '../../protocols/server-fields.js';

export interface AddressFields {
  hostname?: string;
  accessIPv4?: string;
  accessIPv6?: string;
}

const RULES: [keyof AddressFields, number, (v: string) => boolean, (v: string) => string][] = [
  ['hostname', 63, isValidHostname, (v) => `Invalid hostname '${v}'`],
  ['accessIPv4', 64, isAccessIpV4, (v) => `'accessIPv4' is not an IPv4 address: ${v}`],
  ['accessIPv6', 64, isAccessIpV6, (v) => `'accessIPv6' is not an IPv6 address: ${v}`],
];

export function addressFields(o: Record<string, unknown>): AddressFields {
  const out: AddressFields = {};
  for (const [key, max, valid, why] of RULES) {
    const v = optStr(o, key, { max });
    if (v === undefined) continue;
    if (!valid(v)) throw new BadRequestError(why(v));
    out[key] = v;
  }
  return out;
}
