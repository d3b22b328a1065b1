/**
 * ISO 8601 instants as Nova's query filters take them (`changes-since`, `changes-before`: the
 * schema's `date-time`, parsed by oslo's `parse_isotime`). `Date.parse` alone is far more lenient
 * (`2011/01/01`, `1`, `May 5`), so the shape is checked first. Pure: no I/O.
 */
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:[Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

/** The instant `s` names, or undefined when it is not an ISO 8601 date or date-time. */
export function parseIsoTime(s: string): Date | undefined {
  if (!ISO_8601.test(s)) return undefined;
  // A date-time without an offset is UTC to Nova; JavaScript would read it as local time.
  const zoned = /T|t| /.test(s) && !/(?:[Zz]|[+-]\d{2}(?::?\d{2})?)$/.test(s.slice(10)) ? `${s}Z` : s;
  const t = new Date(zoned.replace(' ', 'T'));
  return Number.isNaN(t.getTime()) ? undefined : t;
}
