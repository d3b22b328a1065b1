/**
 * Replies that fit the bus. NATS refuses a message over `max_payload` (1 MiB), so every listing
 * stops adding items before its JSON would pass a byte budget and says `more`; the caller continues
 * from its last item. The budget leaves room for the envelope and the fields beside the list.
 */

/** What a listing's items may take in one reply (JSON bytes). */
export const REPLY_BUDGET_BYTES = 768 * 1024;

/** Most items any one listing reply carries, whatever their size. */
export const MAX_PAGE_ITEMS = 1000;

/** A page of a listing: `more` when items were left out (by the limit or by the byte budget). */
export interface Page<T> { items: T[]; more: boolean }

/** UTF-8 bytes of a value's JSON. */
export function jsonBytes(v: unknown): number {
  return Buffer.byteLength(JSON.stringify(v) ?? '', 'utf8');
}

/**
 * Takes items in order while their JSON (with separating commas) fits `budget`. The first item is
 * always taken, so a caller paging on always advances; one item over the budget alone is the bus
 * guard's to refuse.
 */
export class BudgetedPage<T> {
  readonly items: T[] = [];
  private used = 2;
  full = false;

  constructor(private readonly budget = REPLY_BUDGET_BYTES, private readonly maxItems = MAX_PAGE_ITEMS) {}

  /** Adds an item if it fits; false (and the page full) when it does not. */
  add(item: T): boolean {
    if (this.full) return false;
    const n = jsonBytes(item) + (this.items.length > 0 ? 1 : 0);
    if (this.items.length > 0 && (this.used + n > this.budget || this.items.length >= this.maxItems)) {
      this.full = true;
      return false;
    }
    this.items.push(item);
    this.used += n;
    return true;
  }
}

/** A page of `items` that fits the budget; `more` when some were left out. */
export function fitPage<T>(items: readonly T[], budget = REPLY_BUDGET_BYTES): Page<T> {
  const page = new BudgetedPage<T>(budget, Number.MAX_SAFE_INTEGER);
  for (const item of items) if (!page.add(item)) break;
  return { items: page.items, more: page.items.length < items.length };
}
