import type { HostFilter } from '../types.js';
import { hostRunsAny, isEmptyHint } from './instance-hint.js';

/** Hint `same_host`: only hosts running at least one of the named instances. */
export const SameHostFilter: HostFilter = {
  name: 'SameHostFilter',
  passes: (host, spec) => {
    const hint = spec.schedulerHints['same_host'];
    return isEmptyHint(hint) || hostRunsAny(host, hint);
  },
  appliesTo: (spec) => !isEmptyHint(spec.schedulerHints['same_host']),
};
