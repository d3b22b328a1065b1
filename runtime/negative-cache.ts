/**
 * Ids known not to exist, for a few seconds: repeated lookups of a missing instance or image are
 * answered 404 without spawning an actor or querying the database. Bounded (oldest forgotten
 * first) and short-lived, and the owner invalidates an id the moment it creates it, so a cached
 * miss can only be as stale as the TTL for an id created by another replica.
 */
import type { Clock } from './clock.js';

export class NegativeCache {
  private readonly until = new Map<string, number>();
  hits = 0;

  constructor(
    private readonly clock: Clock,
    private readonly ttlMs = 5_000,
    private readonly maxEntries = 10_000,
  ) {}

  add(id: string): void {
    this.until.delete(id);
    this.until.set(id, this.clock.now() + this.ttlMs);
    if (this.until.size > this.maxEntries) this.until.delete(this.until.keys().next().value as string);
  }

  /** True while `id` is known missing (counts a hit). */
  has(id: string): boolean {
    const t = this.until.get(id);
    if (t === undefined) return false;
    if (t < this.clock.now()) {
      this.until.delete(id);
      return false;
    }
    this.hits++;
    return true;
  }

  delete(id: string): void {
    this.until.delete(id);
  }

  get size(): number {
    return this.until.size;
  }
}
