/**
 * Capacity arithmetic shared by the Ram/Disk/Core filters and the resource weighers. Callers pass
 * the inventory record and usage with literal property reads (`host.inventory.MEMORY_MB`): a
 * helper indexing `inventory[rc]` with a variable key is a polymorphic keyed load, several times
 * slower in the 10k-host loop.
 */
import { usableCapacity, type Inventory } from '../../../protocols/resources.js';

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
