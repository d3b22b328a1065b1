/**
 * Nova's extra-spec operators (nova/scheduler/filters/extra_specs_ops.py), shared by
 * ComputeCapabilitiesFilter and AggregateInstanceExtraSpecsFilter.
 *
 * A requirement string is parsed once per flavor extra-specs object (cached by identity in a
 * WeakMap), so matching it against each of 10k+ hosts allocates nothing. Request specs are
 * treated as immutable while they are being scheduled.
 */

export type ExtraSpecOp =
  | '=' | '==' | '!=' | '>=' | '<='
  | 's==' | 's!=' | 's<' | 's<=' | 's>' | 's>='
  | '<in>' | '<all-in>' | '<or>'
  /** No operator: the whole requirement string must equal the value. */
  | 'literal';

export interface Requirement {
  readonly op: ExtraSpecOp;
  /** Operands after the operator (for `<or>`, the alternatives without the `<or>` keywords). */
  readonly args: readonly string[];
  /** args[0] as a number, for the numeric operators (NaN when not a number). */
  readonly num: number;
  readonly raw: string;
}

const OPS: ReadonlySet<string> = new Set([
  '=', '==', '!=', '>=', '<=', 's==', 's!=', 's<', 's<=', 's>', 's>=', '<in>', '<all-in>', '<or>',
]);

/**
 * Python's float(): decimal literals with optional surrounding whitespace, or inf/infinity/nan in
 * any case; NaN where Python would raise ValueError. Number() alone is close but also accepts '',
 * blanks and 0x/0o/0b literals, so the characters are checked first (no regex: this runs per host).
 */
export function toFloat(s: string): number {
  let digits = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) digits = true;
    else if (!(c === 46 || c === 43 || c === 45 || c === 101 || c === 69 || c === 32 || (c >= 9 && c <= 13))) return special(s);
  }
  return digits ? Number(s) : NaN; // Number() rejects misplaced signs, dots and exponents itself
}

function special(s: string): number {
  const t = s.trim().toLowerCase();
  const sign = t.startsWith('-') ? -1 : 1;
  const body = t.startsWith('-') || t.startsWith('+') ? t.slice(1) : t;
  if (body === 'inf' || body === 'infinity') return sign * Infinity;
  return NaN; // 'nan' and anything else
}

export function parseRequirement(req: string): Requirement {
  // str.split(): whitespace separated, empty words dropped.
  const words = req.split(/\s+/).filter((w) => w.length > 0);
  const op = words[0];
  if (op === undefined || !OPS.has(op)) return { op: 'literal', args: [], num: NaN, raw: req };
  let args = words.slice(1);
  // `<or> a <or> b <or> c`: operands sit at even positions; the odd ones are `<or>` keywords.
  if (op === '<or>') args = args.filter((_, i) => i % 2 === 0);
  const first = args[0];
  return { op: op as ExtraSpecOp, args, num: first === undefined ? NaN : toFloat(first), raw: req };
}

/** Does `value` (a capability or aggregate metadata value) satisfy the requirement? */
export function matches(value: string | undefined, r: Requirement): boolean {
  if (r.op === 'literal') return value === r.raw;
  if (value === undefined) return false;
  const a = r.args;
  const first = a[0];
  if (first === undefined) return false; // an operator with no operand never matches
  switch (r.op) {
    case '<or>':
      for (let i = 0; i < a.length; i++) if (a[i] === value) return true;
      return false;
    case '<in>':
      return value.includes(first);
    case '<all-in>':
      for (let i = 0; i < a.length; i++) if (!value.includes(a[i]!)) return false;
      return true;
    case 's==': return value === first;
    case 's!=': return value !== first;
    case 's<': return value < first;
    case 's<=': return value <= first;
    case 's>': return value > first;
    case 's>=': return value >= first;
    default: break;
  }
  const v = toFloat(value);
  const n = r.num;
  // Python raises on a non-number; here that is simply "does not match" (also for `!=`).
  if (Number.isNaN(v) || Number.isNaN(n)) return false;
  switch (r.op) {
    case '=': return v >= n; // Nova's `=` means "at least"
    case '==': return v === n;
    case '!=': return v !== n;
    case '>=': return v >= n;
    case '<=': return v <= n;
    default: return false;
  }
}

/** One flavor extra spec relevant to a scope. */
export interface ScopedRequirement {
  /** Key with the scope prefix removed (`capabilities:cpu_info:vendor` → `cpu_info:vendor`). */
  readonly key: string;
  /** True when the key carried the scope prefix; false for an unscoped key (no `:`). */
  readonly scoped: boolean;
  readonly req: Requirement;
}

interface ScopeCache {
  readonly byObject: WeakMap<object, readonly ScopedRequirement[]>;
  // The runner asks about one request for thousands of hosts in a row: check the last one first.
  lastSpecs: object | null;
  last: readonly ScopedRequirement[];
}

const caches = new Map<string, ScopeCache>();

/**
 * The extra specs that concern `scope`: keys `<scope>:…` and unscoped keys. Keys in any other
 * scope (`hw:`, `quota:`, …) are ignored, as Nova does. Cached per extra-specs object.
 */
export function scopedRequirements(extraSpecs: Record<string, string>, scope: string): readonly ScopedRequirement[] {
  let cache = caches.get(scope);
  if (cache === undefined) {
    cache = { byObject: new WeakMap(), lastSpecs: null, last: [] };
    caches.set(scope, cache);
  }
  if (cache.lastSpecs === extraSpecs) return cache.last;
  let reqs = cache.byObject.get(extraSpecs);
  if (reqs === undefined) {
    reqs = compile(extraSpecs, scope);
    cache.byObject.set(extraSpecs, reqs);
  }
  cache.lastSpecs = extraSpecs;
  cache.last = reqs;
  return reqs;
}

function compile(extraSpecs: Record<string, string>, scope: string): readonly ScopedRequirement[] {
  const prefix = `${scope}:`;
  const out: ScopedRequirement[] = [];
  for (const [key, value] of Object.entries(extraSpecs)) {
    if (!key.includes(':')) out.push({ key, scoped: false, req: parseRequirement(value) });
    else if (key.startsWith(prefix)) out.push({ key: key.slice(prefix.length), scoped: true, req: parseRequirement(value) });
  }
  return out;
}

/**
 * `rec[key]` when it is a string. Object.prototype has no string-valued members, so the type check
 * alone keeps out `toString` and friends without a per-host hasOwnProperty call.
 */
export function stringAt(rec: Record<string, string>, key: string): string | undefined {
  const v: unknown = rec[key];
  return typeof v === 'string' ? v : undefined;
}
