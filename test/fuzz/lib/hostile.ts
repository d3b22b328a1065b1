/**
 * Hostile inputs for the fuzz suites, as fast-check arbitraries: strings that break parsers,
 * headers, SQL and logs (C0/C1 controls, CR/LF, NUL, 64 KiB, lone surrogates, bidi and zero-width
 * code points), raw invalid UTF-8, and JSON values of the wrong shape (huge and negative numbers,
 * deep nesting, prototype keys). Plus the encoders that put them on the wire unchanged: percent-
 * encoding byte by byte for paths and queries, and a JSON writer that can splice raw bytes and raw
 * number literals into a body. None of them contains text the leak checks look for (SQL verbs,
 * subjects), so an echo of the input is never mistaken for a leak.
 */
import fc from 'fast-check';

/** Bytes sent as they are: invalid UTF-8 inside a path, a query or a JSON string. */
export class Bytes {
  constructor(readonly bytes: Uint8Array, readonly label: string) {}
  toJSON(): string { return `<bytes ${this.label}>`; }
}

/** A JSON literal written verbatim into a body (numbers JSON.stringify cannot produce). */
export class RawJson {
  constructor(readonly text: string) {}
  toJSON(): string { return `<raw ${this.text.length > 40 ? `${this.text.slice(0, 40)}…` : this.text}>`; }
}

export type Hostile = string | Bytes;

const C0 = Array.from({ length: 32 }, (_, i) => String.fromCharCode(i));
const C1 = Array.from({ length: 32 }, (_, i) => String.fromCharCode(0x80 + i));
const KIB64 = 65_536;

/** Fixed strings every suite must see: the crash vectors of the review and their cousins. */
export const CORE_STRINGS: readonly string[] = [
  '\u0000', 'a\u0000b', '\n', 'a\r\nb', '\r', 'x\ny', '\u001b[31m', '\u007f', '\u0085', '\u009b',
  '\ud800', 'a\udfffb', '\u202e', '\u200b', '\ufeff', '\u2028', '',
];

const INVALID_UTF8: readonly [string, number[]][] = [
  ['ff', [0xff]], ['c3-28', [0xc3, 0x28]], ['lone-continuation', [0x80]], ['overlong-slash', [0xc0, 0xaf]],
  ['surrogate-d800', [0xed, 0xa0, 0x80]], ['beyond-10ffff', [0xf4, 0x90, 0x80, 0x80]], ['truncated-3', [0xe2, 0x82]],
  ['fe-ff', [0xfe, 0xff]],
];

export const invalidUtf8: fc.Arbitrary<Bytes> = fc
  .tuple(fc.constantFrom(...INVALID_UTF8), fc.constantFrom('', 'a', 'name-'))
  .map(([[label, b], prefix]) => new Bytes(new Uint8Array([...Buffer.from(prefix), ...b]), `${prefix}${label}`));

const control = fc.constantFrom(...C0, ...C1, '\u007f');
const meta = fc.constantFrom(
  "'", '"', '\\', '%', '_', '*', '(', '[', '(a+)+$', '.*', '%00', '%0a', '../', '..', '.', '/', '?', '#', '&', '=', ';',
  "' or '1'='1", "x'; drop table t; --", '${x}', '{{x}}', '%s%n', '<script>', '\\u0000', 'null', 'undefined', 'true',
  '__proto__', 'constructor', 'prototype', 'hasOwnProperty', 'toString',
);
const numeric = fc.constantFrom('-1', '0', '-0', '1e308', '1e400', '99999999999999999999', 'NaN', 'Infinity', '-Infinity', '0x10', ' 1', '1.5', '+1', '2147483648', '-2147483649', '9007199254740993');
const odd = fc.constantFrom('\ud800', '\udfff', '\udbff\udbff', '\u202e', '\u200b', '\u200d', '\ufeff', '\u2028', '\u2029', '\ufffd', '\uffff', 'e\u0301', '\u{1f600}', '\u{10ffff}', 'İ', 'ß');

/** Long strings: 64 KiB of one character, of a control character, or of 4-byte code points. */
export const longString: fc.Arbitrary<string> = fc.constantFrom('a', '\u0000', '\n', '€', '\u{1f600}', '%').map((c) => c.repeat(Math.ceil(KIB64 / c.length)).slice(0, KIB64 * (c.length > 1 ? 2 : 1)));

/** One hostile string (or invalid UTF-8), weighted toward the classes that found crashes. */
export const hostileString: fc.Arbitrary<Hostile> = fc.oneof(
  { arbitrary: fc.constantFrom(...CORE_STRINGS), weight: 4 },
  { arbitrary: fc.tuple(fc.constantFrom('', 'fz', 'name '), control, fc.constantFrom('', 'x', '\n')).map(([a, c, b]) => `${a}${c}${b}`), weight: 4 },
  { arbitrary: invalidUtf8, weight: 2 },
  { arbitrary: meta, weight: 2 },
  { arbitrary: numeric, weight: 1 },
  { arbitrary: odd, weight: 2 },
  { arbitrary: longString, weight: 1 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 24 }), weight: 2 },
  { arbitrary: fc.string({ unit: fc.constantFrom(...C0, ...C1, '\ud800', 'a', '/'), minLength: 1, maxLength: 12 }), weight: 2 },
);

function deep(depth: number, kind: 'array' | 'object'): RawJson {
  return new RawJson(kind === 'array' ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}{}${'}'.repeat(depth)}`);
}

/** A JSON value of the wrong type or an extreme one, for a body field. */
export const hostileJson: fc.Arbitrary<unknown> = fc.oneof(
  { arbitrary: hostileString, weight: 6 },
  { arbitrary: fc.constantFrom(null, true, false, 0, -1, -0.5, 1.5, -2_147_483_649, 2_147_483_648, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, -Number.MAX_VALUE, 1e308), weight: 3 },
  { arbitrary: fc.constantFrom(new RawJson('1e400'), new RawJson('-1e400'), new RawJson('123456789012345678901234567890'), new RawJson('-0'), new RawJson('1E+2')), weight: 1 },
  { arbitrary: fc.constantFrom([], {}, [null], ['\u0000'], [[[]]], { '': '' }), weight: 2 },
  { arbitrary: fc.constantFrom(deep(2_000, 'array'), deep(10_000, 'array'), deep(2_000, 'object')), weight: 1 },
  { arbitrary: fc.constantFrom(new RawJson('{"__proto__":{"isAdmin":true}}'), new RawJson('{"constructor":{"prototype":{"isAdmin":true}}}'), { toString: 'x', valueOf: 1, hasOwnProperty: null }), weight: 1 },
  { arbitrary: fc.array(hostileString, { maxLength: 3 }), weight: 1 },
  { arbitrary: fc.dictionary(hostileString.filter((k): k is string => typeof k === 'string'), hostileString, { maxKeys: 3 }), weight: 1 },
);

/** Whole bodies that are not what any route takes. */
export const hostileBody: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, [], '', 'x', 0, -1, true, {}, new RawJson('1e400'), deep(10_000, 'array'), deep(3_000, 'object')),
  fc.constantFrom(new RawJson('{"__proto__":{"a":1}}'), new RawJson('{"constructor":{"prototype":{"a":1}}}'), new RawJson('{"a":1,"a":2}'), new RawJson('{"a":'), new RawJson('\u0000')),
  invalidUtf8.map((b) => ({ name: b })),
  hostileJson,
);

/** UTF-8 of a JS string, lone surrogates written as their 3-byte (WTF-8) form rather than U+FFFD. */
export function wtf8(s: string): Uint8Array {
  const out: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const next = s.charCodeAt(i + 1);
    if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
      out.push(...Buffer.from(s.slice(i, i + 2)));
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 0x3f), 0x80 | (c & 0x3f));
    else out.push(...Buffer.from(String.fromCharCode(c)));
  }
  return new Uint8Array(out);
}

/** Percent-encodes every byte but the unreserved ones, so the server sees exactly these bytes. */
export function percent(v: Hostile): string {
  const bytes = v instanceof Bytes ? v.bytes : wtf8(v);
  let out = '';
  for (const b of bytes) {
    const ch = String.fromCharCode(b);
    out += /[A-Za-z0-9\-._~]/.test(ch) ? ch : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Serialises a body to bytes: JSON, with `Bytes` as raw bytes inside a string and `RawJson` verbatim. */
export function writeJson(v: unknown): Buffer {
  const parts: Buffer[] = [];
  const walk = (x: unknown): void => {
    if (x instanceof Bytes) parts.push(Buffer.from('"'), Buffer.from(x.bytes), Buffer.from('"'));
    else if (x instanceof RawJson) parts.push(Buffer.from(x.text));
    else if (Array.isArray(x)) {
      parts.push(Buffer.from('['));
      x.forEach((e, i) => { if (i) parts.push(Buffer.from(',')); walk(e); });
      parts.push(Buffer.from(']'));
    } else if (x !== null && typeof x === 'object') {
      parts.push(Buffer.from('{'));
      Object.keys(x).forEach((k, i) => {
        if (i) parts.push(Buffer.from(','));
        parts.push(Buffer.from(JSON.stringify(k)), Buffer.from(':'));
        walk((x as Record<string, unknown>)[k]);
      });
      parts.push(Buffer.from('}'));
    } else parts.push(Buffer.from(x === undefined ? 'null' : JSON.stringify(x)));
  };
  walk(v);
  return Buffer.concat(parts);
}

/** A short, printable description of an input for failure reports. */
export function describe(v: unknown, max = 80): string {
  const s = v instanceof Bytes ? `<bytes ${v.label}>` : typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > max ? `${s.slice(0, max)}…(${s.length} chars)` : s;
}
