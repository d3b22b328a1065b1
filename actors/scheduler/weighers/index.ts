/** Registry of the built-in weighers; each factory's default multiplier is Nova's default. */
import type { HostWeigher } from '../types.js';
import { BuildFailureWeigher } from './BuildFailureWeigher.js';
import { CPUWeigher } from './CPUWeigher.js';
import { DiskWeigher } from './DiskWeigher.js';
import { NumInstancesWeigher } from './NumInstancesWeigher.js';
import { RAMWeigher } from './RAMWeigher.js';
import { ServerGroupSoftAffinityWeigher } from './ServerGroupSoftAffinityWeigher.js';
import { ServerGroupSoftAntiAffinityWeigher } from './ServerGroupSoftAntiAffinityWeigher.js';

export type WeigherFactory = (multiplier?: number) => HostWeigher;

export const builtinWeighers: Record<string, WeigherFactory> = Object.freeze({
  RAMWeigher,
  CPUWeigher,
  DiskWeigher,
  NumInstancesWeigher,
  BuildFailureWeigher,
  ServerGroupSoftAffinityWeigher,
  ServerGroupSoftAntiAffinityWeigher,
});

/** Nova's `[filter_scheduler] *_weight_multiplier` defaults, read off the factories. */
export const DEFAULT_WEIGHER_MULTIPLIERS: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(Object.entries(builtinWeighers).map(([name, make]) => [name, make().multiplier])),
);

/** Every built-in weigher (Nova enables all by default), with multipliers overridable by name. */
export function defaultWeighers(multipliers: Readonly<Record<string, number>> = {}): HostWeigher[] {
  for (const name of Object.keys(multipliers)) {
    if (!Object.prototype.hasOwnProperty.call(builtinWeighers, name)) throw new Error(`unknown scheduler weigher: ${name}`);
  }
  return Object.entries(builtinWeighers).map(([name, make]) => make(multipliers[name]));
}
