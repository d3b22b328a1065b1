import type { HostFilter } from '../types.js';
import { hostRunsAny, isEmptyHint } from './instance-hint.js';

/** Hint `different_host`: only hosts running none of the named instances. */
export const DifferentHostFilter: HostFilter = {
  name: 'DifferentHostFilter',
  passes: (host, spec) => {
    const hint = spec.schedulerHints['different_host'];
    return isEmptyHint(hint) || !hostRunsAny(host, hint);
  },
  appliesTo: (spec) => !isEmptyHint(spec.schedulerHints['different_host']),
};
