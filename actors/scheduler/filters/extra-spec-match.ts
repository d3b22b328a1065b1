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

// Python's float(): decimal or inf/infinity/nan, surrounding whitespace allowed; no hex, no ''.
const FLOAT_RE = /^\s*[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?|inf|infinity|nan)\s*$/i;

/** Python float() semantics; NaN where Python would raise ValueError. */
export function toFloat(s: string): number {
  if (!FLOAT_RE.test(s)) return NaN;
  const n = Number(s); // handles the decimal forms (and whitespace) without allocating
  if (!Number.isNaN(n)) return n;
  if (!/inf/i.test(s)) return NaN; // 'nan'
  return s.includes('-') ? -Infinity : Infinity;
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

/** `rec[key]` when it is an own string value (never a prototype member such as `toString`). */
export function stringAt(rec: Record<string, string>, key: string): string | undefined {
  const v = rec[key];
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(rec, key) ? v : undefined;
}
