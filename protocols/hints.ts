/** Nova's scheduler hints, validated where a build enters (conductor) and where it is placed (scheduler). */
import { BadRequestError } from './errors.js';
import { fieldsOf, isUuid } from './validate.js';

export const HINT_KEYS = ['group', 'same_host', 'different_host'] as const;

/** Nova's hints: a uuid or a list of uuids each; unknown hints are refused rather than ignored. */
export function parseHints(value: unknown): Record<string, string | string[]> {
  if (value === undefined || value === null) return {};
  const o = fieldsOf(value, HINT_KEYS, 'schedulerHints');
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(o)) {
    const list = Array.isArray(v) ? v : [v];
    if (list.length === 0 || list.length > 100 || list.some((x) => typeof x !== 'string' || !isUuid(x))) {
      throw new BadRequestError(`scheduler hint '${k}' must be a UUID or a list of UUIDs`);
    }
    if (k === 'group' && Array.isArray(v)) throw new BadRequestError("scheduler hint 'group' takes one server group UUID");
    out[k] = Array.isArray(v) ? (v as string[]).map((x) => x.toLowerCase()) : (v as string).toLowerCase();
  }
  return out;
}

