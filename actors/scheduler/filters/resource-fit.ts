/**
 * Capacity arithmetic shared by the Ram/Disk/Core filters and the resource weighers, row-wise (over
 * one HostState) and columnar (over `HostColumns`). Row-wise callers pass the inventory record and
 * usage with literal property reads (`host.inventory.MEMORY_MB`): a helper indexing `inventory[rc]`
 * with a variable key is a polymorphic keyed load, several times slower in a 10k-host loop.
 */
import { usableCapacity, type Inventory } from '../../../protocols/resources.js';
import type { ResourceColumn } from '../host-columns.js';

/** Usable capacity (allocation ratio and reserved applied) minus claimed usage; 0 without inventory. */
export function freeOf(inv: Inventory | undefined, used: number | undefined): number {
  return inv === undefined ? 0 : usableCapacity(inv) - (used ?? 0);
}

/**
 * Placement's check for one resource class: the amount respects min_unit, max_unit and step_size,
 * and fits in the free usable capacity. A class the request does not ask for never constrains
 * (Placement only looks at requested classes, so an overcommitted class does not block it).
 */
export function fits(inv: Inventory | undefined, used: number | undefined, requested: number): boolean {
  if (!(requested > 0)) return true;
  if (inv === undefined) return false;
  if (requested < inv.minUnit || requested > inv.maxUnit) return false;
  if (inv.stepSize > 1 && requested % inv.stepSize !== 0) return false;
  return usableCapacity(inv) - (used ?? 0) >= requested;
}

/** `fits` over the slots `slots[0..n)`, keeping those that pass (in order); returns how many. */
export function narrowFits(col: ResourceColumn, slots: Int32Array, n: number, requested: number): number {
  if (!(requested > 0)) return n;
  const { free, minUnit, maxUnit, stepSize } = col;
  let m = 0;
  for (let k = 0; k < n; k++) {
    const i = slots[k]!;
    const step = stepSize[i]!;
    if (free[i]! >= requested && requested >= minUnit[i]! && requested <= maxUnit[i]! && (step <= 1 || requested % step === 0)) slots[m++] = i;
  }
  return m;
}

/** Free usable capacity per slot: the raw weight of the RAM/CPU/disk weighers. */
export function weighFree(col: ResourceColumn, slots: Int32Array, n: number, out: Float64Array): void {
  const free = col.free;
  for (let k = 0; k < n; k++) out[k] = free[slots[k]!]!;
}
