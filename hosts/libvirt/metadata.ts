/**
 * What a novact host writes into a domain's `<metadata>` (its own XML namespace) and reads back
 * from `domainGetXMLDesc`, so a restarted host rebuilds its view of its guests from libvirt alone.
 * Every value is hostile input (a tenant chose the name): it is written as escaped element text, and
 * the code units XML 1.0 cannot carry (C0 controls, CR, U+FFFE/U+FFFF, lone surrogates) as `%XXXX`,
 * with `%` itself as `%0025`, so any string round-trips through libvirt's parser and printer. The
 * reader is strict: one element per known key, text only, anything else and the domain is not ours.
 */

export const NOVACT_NS = 'https://novact.dev/xmlns/libvirt/instance/1';
const PREFIX = 'novact';

/** A guest as its host recorded it in the domain. */
export interface GuestMeta {
  uuid: string;
  name: string;
  /** The novact host that owns the domain (several may share one daemon in development). */
  host: string;
  /** ISO 8601. */
  created: string;
  vcpus: number;
  memoryMb: number;
  diskGb: number;
  rootGb: number;
  ephemeralGb: number;
  swapMb: number;
  imageId: string;
  imageFormat: string;
  /** The image's kernel_id / ramdisk_id (direct kernel boot), cached beside it. */
  kernelId?: string;
  ramdiskId?: string;
  flavorId?: string;
  flavorName?: string;
  projectId?: string;
  userId?: string;
  /** Set while the domain boots from a rescue image. */
  rescueImage?: string;
}

type Kind = 'string' | 'int';
// Key → value kind, and whether it must be present. The order is the order written.
const FIELDS: [keyof GuestMeta, Kind, boolean][] = [
  ['uuid', 'string', true], ['name', 'string', true], ['host', 'string', true], ['created', 'string', true],
  ['vcpus', 'int', true], ['memoryMb', 'int', true], ['diskGb', 'int', true], ['rootGb', 'int', true],
  ['ephemeralGb', 'int', true], ['swapMb', 'int', true], ['imageId', 'string', true], ['imageFormat', 'string', true],
  ['kernelId', 'string', false], ['ramdiskId', 'string', false], ['flavorId', 'string', false], ['flavorName', 'string', false],
  ['projectId', 'string', false], ['userId', 'string', false],
  ['rescueImage', 'string', false],
];
const KINDS = new Map(FIELDS.map(([k, kind]) => [k as string, kind]));

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** True for a UTF-16 code unit XML text cannot hold as is (or that a parser would rewrite, CR). */
function unsafeUnit(s: string, i: number): boolean {
  const c = s.charCodeAt(i);
  if (c === 0x25) return true; // '%', the escape itself
  if (c < 0x20) return c !== 0x09 && c !== 0x0a;
  if (c === 0xfffe || c === 0xffff) return true;
  if (c >= 0xd800 && c <= 0xdbff) { const n = s.charCodeAt(i + 1); return !(n >= 0xdc00 && n <= 0xdfff); }
  if (c >= 0xdc00 && c <= 0xdfff) { const p = s.charCodeAt(i - 1); return !(p >= 0xd800 && p <= 0xdbff); }
  return false;
}

/** Escapes `s` for XML element text (and attribute values: quotes are escaped too). */
export function xmlText(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (unsafeUnit(s, i)) out += `%${s.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0')}`;
    else out += ENTITIES[ch] ?? ch;
  }
  return out;
}

/** Inverse of `xmlText` after an XML printer had its way: named and numeric references, then `%XXXX`. */
function unText(s: string): string | undefined {
  let bad = false;
  const decoded = s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);|&/g, (m, ref: string | undefined) => {
    if (ref === undefined) { bad = true; return m; }
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    const v = NAMED[ref];
    if (v === undefined) bad = true;
    return v ?? m;
  });
  if (bad) return undefined;
  if (/%(?![0-9A-F]{4})/.test(decoded)) return undefined;
  return decoded.replace(/%([0-9A-F]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** The `<novact:instance>` element, to go inside the domain's `<metadata>`. */
export function formatMeta(m: GuestMeta, indent = '    '): string {
  const lines = [`${indent}<${PREFIX}:instance xmlns:${PREFIX}="${NOVACT_NS}">`];
  for (const [key] of FIELDS) {
    const v = m[key];
    if (v === undefined) continue;
    lines.push(`${indent}  <${PREFIX}:${key}>${xmlText(String(v))}</${PREFIX}:${key}>`);
  }
  lines.push(`${indent}</${PREFIX}:instance>`);
  return lines.join('\n');
}

const INT = /^(0|[1-9][0-9]{0,15})$/;

/**
 * Our metadata out of a whole domain XML (as `domainGetXMLDesc` gives it), or undefined when the
 * domain carries none or carries something malformed (then it is not ours to manage).
 */
export function parseMeta(domainXml: string): GuestMeta | undefined {
  // The element is found by its namespace, whatever prefix the printer kept.
  const open = /<([A-Za-z_][\w.-]*):instance\s+xmlns:\1\s*=\s*(["'])([^"']*)\2\s*>/g;
  let m: RegExpExecArray | null;
  while ((m = open.exec(domainXml)) !== null) {
    if (m[3] !== NOVACT_NS) continue;
    const p = m[1]!;
    const end = domainXml.indexOf(`</${p}:instance>`, open.lastIndex);
    if (end < 0) return undefined;
    return parseBody(domainXml.slice(open.lastIndex, end), p);
  }
  return undefined;
}

function parseBody(body: string, p: string): GuestMeta | undefined {
  const child = new RegExp(`^\\s*<${p}:([A-Za-z]+)(?:>([^<]*)</${p}:\\1>|\\s*/>)`);
  const out: Record<string, string | number> = {};
  let rest = body;
  while (rest.trim() !== '') {
    const c = child.exec(rest);
    if (!c) return undefined;
    const [whole, key, raw = ''] = c;
    const kind = KINDS.get(key!);
    if (kind === undefined || key! in out) return undefined;
    const text = unText(raw);
    if (text === undefined) return undefined;
    if (kind === 'int') {
      if (!INT.test(text)) return undefined;
      out[key!] = Number(text);
    } else out[key!] = text;
    rest = rest.slice(whole.length);
  }
  for (const [key, , required] of FIELDS) if (required && !(key in out)) return undefined;
  return out as unknown as GuestMeta;
}
