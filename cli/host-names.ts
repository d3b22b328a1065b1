/**
 * The names of the fake hosts `novact up` runs. The cluster's owner names them `compute-1…N`; a
 * `--join` process must not reuse those (registering a name moves it to the joiner's identity, which
 * would disconnect the owner's hosts), so by default it prefixes them with this machine's name and
 * a short random tag: `<hostname>-<tag>-1…N`, unique per joining process. `--host-prefix` picks one.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { isValidHostName } from '../protocols/host-identity.js';

export const OWNER_HOST_PREFIX = 'compute';
/** Room left in a 63-character host name for `-<tag>-<n>`. */
const MACHINE_PART_MAX = 40;

/** `<machine>-<4 hex>`: the machine name reduced to host-name characters, then a random tag. */
export function joinHostPrefix(machine: string = hostname(), tag: string = randomBytes(2).toString('hex')): string {
  const cleaned = machine.split('.')[0]!.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, MACHINE_PART_MAX);
  return `${cleaned || 'join'}-${tag}`;
}

/** `<prefix>-1` … `<prefix>-N`; an error names the first invalid one (a bad prefix). */
export function hostNames(prefix: string, n: number): string[] {
  const names = Array.from({ length: n }, (_, i) => `${prefix}-${i + 1}`);
  const bad = names.find((h) => !isValidHostName(h));
  if (bad !== undefined) throw new Error(`'${bad}' is not a valid host name (letters, digits, '-' and '_', at most 63)`);
  return names;
}
