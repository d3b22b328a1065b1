/**
 * A subnet's address book: the free addresses of its pools as sorted, disjoint, non-adjacent
 * intervals (binary search, never one entry per address), so an IPv6 /64 costs what an IPv4 /24
 * does. Addresses outside the pools can be taken too (Neutron allows a port's fixed_ips anywhere
 * in the subnet); those are kept in a set, since each one was asked for by name.
 */
import type { IpRange } from './ip-pools.js';

/** Sorted, merged copy of ranges (overlapping or adjacent ones joined, empty ones dropped). */
export function mergeRanges(ranges: Iterable<IpRange>): IpRange[] {
  const sorted = [...ranges].filter((r) => r.start <= r.end).sort((a, b) => (a.start < b.start ? -1 : a.start > b.start ? 1 : 0));
  const out: IpRange[] = [];
  for (const r of sorted) {
    const last = out[out.length - 1];
    if (last && r.start <= last.end + 1n) {
      if (r.end > last.end) last.end = r.end;
    } else {
      out.push({ start: r.start, end: r.end });
    }
  }
  return out;
}

/** Index of the last range starting at or before `ip`, or -1. */
function floorIndex(ranges: readonly IpRange[], ip: bigint): number {
  let lo = 0;
  let hi = ranges.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (ranges[mid]!.start <= ip) { found = mid; lo = mid + 1; } else { hi = mid - 1; }
  }
  return found;
}

function rangeHolding(ranges: readonly IpRange[], ip: bigint): number {
  const i = floorIndex(ranges, ip);
  return i >= 0 && ranges[i]!.end >= ip ? i : -1;
}

export class IpAllocator {
  private readonly pools: IpRange[];
  private readonly free: IpRange[];
  private readonly outside = new Set<bigint>();
  private freeTotal = 0n;
  private usedInPools = 0;

  constructor(pools: IpRange[], used: Iterable<bigint> = []) {
    this.pools = mergeRanges(pools);
    this.free = this.pools.map((r) => ({ ...r }));
    for (const r of this.free) this.freeTotal += r.end - r.start + 1n;
    for (const ip of used) this.take(ip);
  }

  /** The lowest free address of the pools, now used; undefined when the pools are full. */
  allocate(): bigint | undefined {
    const first = this.free[0];
    if (!first) return undefined;
    const ip = first.start;
    if (first.start === first.end) this.free.shift(); else first.start += 1n;
    this.freeTotal -= 1n;
    this.usedInPools += 1;
    return ip;
  }

  /**
   * Neutron's choice for a port without a fixed IP: one of the first `window` free addresses
   * (neutrondb_ipam takes a random one of the first 1,000 so concurrent creates rarely collide).
   * `pick(n)` returns an index below n; undefined when the pools are full.
   */
  allocateWithin(window: number, pick: (n: number) => number): bigint | undefined {
    const available = this.freeTotal < BigInt(window) ? Number(this.freeTotal) : window;
    if (available <= 0) return undefined;
    let k = BigInt(Math.min(Math.max(Math.trunc(pick(available)), 0), available - 1));
    for (const r of this.free) {
      const size = r.end - r.start + 1n;
      if (k < size) {
        const ip = r.start + k;
        this.take(ip);
        return ip;
      }
      k -= size;
    }
    return undefined;
  }

  /** Marks an address used, in the pools or not; false when it already was. */
  take(ip: bigint): boolean {
    const i = rangeHolding(this.free, ip);
    if (i < 0) {
      if (rangeHolding(this.pools, ip) >= 0 || this.outside.has(ip)) return false;
      this.outside.add(ip);
      return true;
    }
    const r = this.free[i]!;
    if (r.start === r.end) this.free.splice(i, 1);
    else if (ip === r.start) r.start += 1n;
    else if (ip === r.end) r.end -= 1n;
    else {
      this.free.splice(i + 1, 0, { start: ip + 1n, end: r.end });
      r.end = ip - 1n;
    }
    this.freeTotal -= 1n;
    this.usedInPools += 1;
    return true;
  }

  /** Gives an address back (a no-op when it was not used). */
  release(ip: bigint): void {
    if (this.outside.delete(ip)) return;
    if (rangeHolding(this.pools, ip) < 0 || rangeHolding(this.free, ip) >= 0) return;
    const i = floorIndex(this.free, ip); // the free range before ip, or -1
    const before = i >= 0 ? this.free[i]! : undefined;
    const after = this.free[i + 1];
    const joinsBefore = before !== undefined && before.end + 1n === ip;
    const joinsAfter = after !== undefined && after.start - 1n === ip;
    if (joinsBefore && joinsAfter) {
      before.end = after.end;
      this.free.splice(i + 1, 1);
    } else if (joinsBefore) {
      before.end = ip;
    } else if (joinsAfter) {
      after.start = ip;
    } else {
      this.free.splice(i + 1, 0, { start: ip, end: ip });
    }
    this.freeTotal += 1n;
    this.usedInPools -= 1;
  }

  isUsed(ip: bigint): boolean {
    if (this.outside.has(ip)) return true;
    return rangeHolding(this.pools, ip) >= 0 && rangeHolding(this.free, ip) < 0;
  }

  /** Whether the address lies in one of the pools (used or not). */
  inPools(ip: bigint): boolean {
    return rangeHolding(this.pools, ip) >= 0;
  }

  /** Free addresses in the pools. */
  freeCount(): bigint {
    return this.freeTotal;
  }

  /** Used addresses, in the pools and outside them. */
  usedCount(): number {
    return this.usedInPools + this.outside.size;
  }

  /** The free intervals, lowest first (copies). */
  freeRanges(): IpRange[] {
    return this.free.map((r) => ({ ...r }));
  }
}
