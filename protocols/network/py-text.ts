/**
 * Neutron's messages interpolate request values with Python's `%s` and its `int()`: these give
 * a JSON value the same text and the same integer reading, so a message reads as Neutron's does.
 */

/** Python's `repr()` of a JSON value (strings quoted, lists and dicts as Python shows them). */
export function pyRepr(v: unknown): string {
  if (typeof v === 'string') {
    const escaped = v.replace(/\\/g, '\\\\');
    return v.includes("'") && !v.includes('"') ? `"${escaped}"` : `'${escaped.replace(/'/g, "\\'")}'`;
  }
  if (Array.isArray(v)) return `[${v.map(pyRepr).join(', ')}]`;
  if (v !== null && typeof v === 'object') {
    return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${pyRepr(k)}: ${pyRepr(x)}`).join(', ')}}`;
  }
  return pyStr(v);
}

/** Python's `str()` of a JSON value: `None`, `True`, numbers as written, containers as repr. */
export function pyStr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return pyRepr(v);
}

const PY_INT_TEXT = /^[+-]?[0-9]+(_[0-9]+)*$/;

/**
 * Python's `int(v)` for a JSON value: integers, floats truncated toward zero, booleans as 0/1,
 * and decimal strings (surrounding whitespace, a sign and single underscores between digits
 * allowed). Undefined where Python raises.
 */
export function pyInt(v: unknown): number | undefined {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'number') return Number.isFinite(v) ? Math.trunc(v) : undefined;
  if (typeof v !== 'string') return undefined;
  const t = v.trim();
  if (!PY_INT_TEXT.test(t)) return undefined;
  return Number(t.replace(/_/g, ''));
}
