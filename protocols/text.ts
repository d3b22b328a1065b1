/**
 * What text novact accepts from outside, decided once for every path segment, query parameter and
 * body string (keys included). Refused everywhere: C0 controls (NUL, CR, LF, …), DEL, C1 controls
 * (U+0080–U+009F) and lone UTF-16 surrogates (what invalid UTF-8 or a `\ud800` escape becomes).
 * PostgreSQL cannot store NUL, NATS headers cannot carry CR/LF, and Nova's own `name` format refuses
 * all of them. Fields that legitimately hold multi-line text (an SSH public key, a password) may
 * additionally carry TAB, LF and CR, never the rest. Pure: no I/O.
 */

/** Nova's `name` format: printable, no leading or trailing whitespace (JSON-schema pattern, `u` flag). */
export const NAME_PATTERN = '^(?!\\s)[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029]+(?<!\\s)$';

/** Body fields whose values may span lines (TAB, LF, CR allowed; other controls still refused). */
export const MULTILINE_FIELDS: ReadonlySet<string> = new Set(['public_key', 'password', 'user_data']);

/** Deepest JSON accepted: every OpenStack body is a few levels deep. */
export const MAX_JSON_DEPTH = 32;

function describe(code: number): string {
  return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
}

/**
 * The first character of `s` that is not accepted, as `U+XXXX`, or undefined when `s` is clean.
 * `multiline` allows TAB, LF and CR.
 */
export function badChar(s: string, multiline = false): string | undefined {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20) {
      if (multiline && (c === 0x09 || c === 0x0a || c === 0x0d)) continue;
      return describe(c);
    }
    if (c < 0x7f) continue;
    if (c <= 0x9f) return describe(c);
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = s.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return describe(c);
    }
    if (c >= 0xdc00 && c <= 0xdfff) return describe(c);
  }
  return undefined;
}

export interface TextProblem {
  /** Where: `body.server.name`, `query.marker`, `path.id`, … */
  where: string;
  why: string;
}

/**
 * The first unacceptable string in a parsed JSON value (object keys included), walked without
 * recursion so a hostile nesting depth cannot overflow the stack.
 */
export function findBadText(value: unknown, root: string): TextProblem | undefined {
  const stack: { v: unknown; where: string; field: string; depth: number }[] = [{ v: value, where: root, field: '', depth: 0 }];
  while (stack.length > 0) {
    const { v, where, field, depth } = stack.pop()!;
    if (typeof v === 'string') {
      const bad = badChar(v, MULTILINE_FIELDS.has(field));
      if (bad) return { where, why: `contains the control or invalid character ${bad}` };
      continue;
    }
    if (typeof v !== 'object' || v === null) continue;
    if (depth >= MAX_JSON_DEPTH) return { where, why: `is nested deeper than ${MAX_JSON_DEPTH} levels` };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], where: `${where}[${i}]`, field, depth: depth + 1 });
      continue;
    }
    for (const [k, child] of Object.entries(v as Record<string, unknown>)) {
      const bad = badChar(k);
      if (bad) return { where: `${where} (a key)`, why: `contains the control or invalid character ${bad}` };
      stack.push({ v: child, where: `${where}.${k.slice(0, 64)}`, field: k, depth: depth + 1 });
    }
  }
  return undefined;
}

/**
 * A raw query string's components must decode as UTF-8 (`%FF` or an encoded surrogate is refused:
 * the query parser would otherwise keep such a component undecoded, as is).
 */
export function badQueryEncoding(rawQuery: string): string | undefined {
  for (const part of rawQuery.split('&')) {
    for (const component of part.split('=')) {
      try {
        decodeURIComponent(component.replace(/\+/g, ' '));
      } catch {
        return component.slice(0, 64);
      }
    }
  }
  return undefined;
}

/** UTF-8 bytes of a string map's keys and values: the bound on how large one entity's map may grow. */
export function mapBytes(m: Record<string, string>): number {
  let n = 0;
  for (const [k, v] of Object.entries(m)) n += Buffer.byteLength(k) + Buffer.byteLength(v);
  return n;
}

/** The most bytes (keys + values, UTF-8) one server's metadata or one image's properties may hold. */
export const MAX_MAP_BYTES = 128 * 1024;
