/**
 * Rules for the server fields users set (Nova's, checked against nova/api/validation/parameter_types.py
 * and nova/objects/tag.py): tags, description, hostname, access addresses. Pure: no I/O.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** Nova's `objects.instance.MAX_TAG_COUNT` and `objects.tag.MAX_TAG_LENGTH`. */
export const MAX_TAGS = 50;
export const MAX_TAG_LENGTH = 60;
/** No `/` (it would end the path segment) and no `,` (the list filters split on it). */
export const TAG_PATTERN = '^[^,/]*$';
const TAG_RE = new RegExp(TAG_PATTERN);

export function isValidTag(t: string): boolean {
  return t.length >= 1 && t.length <= MAX_TAG_LENGTH && TAG_RE.test(t);
}

/** Tags in first-seen order, duplicates dropped (Nova stores a set). */
export function uniqueTags(tags: readonly string[]): string[] {
  return [...new Set(tags)];
}

/** Nova 2.90's `hostname`: a single DNS label (2–63 characters; `_` tolerated as Nova does). */
export const HOSTNAME_PATTERN = '^[a-zA-Z0-9-._]*$';
export const HOSTNAME_MIN = 2;
export const HOSTNAME_MAX = 63;
const HOSTNAME_RE = new RegExp(HOSTNAME_PATTERN);

export function isValidHostname(h: string): boolean {
  return h.length >= HOSTNAME_MIN && h.length <= HOSTNAME_MAX && HOSTNAME_RE.test(h);
}

/**
 * Nova's `utils.sanitize_hostname`: the hostname a server gets from its display name when none was
 * asked for (latin-1 only, spaces, `_` and `.` become `-`, other symbols dropped, lower case, 63
 * characters, no leading or trailing `-`/`.`); `Server-<uuid>` when nothing is left.
 */
export function sanitizeHostname(name: string, uuid: string): string {
  const h = [...name].filter((c) => c.charCodeAt(0) <= 0xff).join('')
    .replace(/[ _.]/g, '-')
    .replace(/[^\w.-]+/g, '')
    .toLowerCase()
    .slice(0, HOSTNAME_MAX)
    .replace(/^[.-]+|[.-]+$/g, '');
  return h === '' ? `Server-${uuid}` : h;
}

export const isAccessIpV4 = (s: string): boolean => isIPv4(s);
export const isAccessIpV6 = (s: string): boolean => isIPv6(s);
