/**
 * The filter-and-weigh runner (Nova's FilterScheduler._schedule minus the claim), built for
 * 10k–100k in-memory hosts. It works on slot numbers over `HostColumns`:
 *   0. per request, switch off the filters and weighers that cannot matter (`appliesTo`), and
 *      weighers with multiplier 0;
 *   1. take the slots (less RetryFilter's) and let each filter in turn narrow the list in place: its
 *      columnar `narrow` when it has one (a tight loop over typed arrays), else its `passes` per
 *      surviving host. What a filter removes is blamed on it, as with Nova's chain. With a
 *      candidate cap this runs chunk by chunk and stops once enough hosts passed;
 *   2. each weigher writes the raw weights of the survivors into a reusable row (`weighAll`, else
 *      `weigh` per host), tracking min/max;
 *   3. one pass over the survivors: normalised weights times multipliers, summed, fed into a
 *      best-N insertion array (N = max(count, hostSubsetSize)) instead of sorting everyone.
 */
import { HostColumns } from './host-columns.js';
import type { FilterContext, HostFilter, HostState, HostWeigher, RequestSpec } from './types.js';

export interface SelectOptions {
  /** Hosts to return: the chosen one plus alternates (Nova's max_attempts, e.g. 3). */
  count: number;
  /** Nova's host_subset_size (default 1): the chosen host is drawn uniformly from the best N. */
  hostSubsetSize?: number;
  /** Uniform [0, 1) source for the subset draw (default Math.random). */
  random?: () => number;
  /**
   * Stop filtering once this many hosts passed, and weigh only those (Nova's
   * `[scheduler] max_placement_results`: the scheduler weighs what Placement returned, not the
   * whole fleet). Hosts are scanned from where the previous decision stopped, so successive
   * decisions see different parts of the fleet. Undefined or 0: every host.
   */
  maxCandidates?: number;
}

export interface Selection {
  /** Best first, at most `count`; empty when no host passed. */
  hosts: HostState[];
  /**
   * Filter name → hosts it removed. Every filter in the chain appears (0 when it removed none or did
   * not apply to the request); RetryFilter appears when the request had hosts to ignore.
   */
  removedBy: Record<string, number>;
  /** Hosts that passed every filter. */
  candidates: number;
}

const RETRY_FILTER = 'RetryFilter';
/** Hosts narrowed per chunk when candidates are capped: large enough for tight loops, small enough to stop early. */
const CHUNK = 1024;

// Scratch reused across calls (selectHosts is synchronous and filters or weighers never call back
// into it): the surviving slots, and one row of raw weights per weigher. Typed arrays hold no host
// references, so nothing is kept alive between calls.
let slotScratch = new Int32Array(0);
let rawRows: Float64Array[] = [];

function ensureScratch(rows: number, capacity: number): void {
  if (capacity > slotScratch.length) {
    const size = Math.max(capacity, slotScratch.length * 2, 1024);
    slotScratch = new Int32Array(size);
    rawRows = rawRows.map(() => new Float64Array(size));
  }
  while (rawRows.length < rows) rawRows.push(new Float64Array(slotScratch.length));
}

/** A filter without a columnar form: `passes` on each surviving host. */
function narrowRows(f: HostFilter, hosts: readonly HostState[], slots: Int32Array, n: number, spec: RequestSpec, ctx: FilterContext): number {
  let m = 0;
  for (let k = 0; k < n; k++) {
    const i = slots[k]!;
    if (f.passes(hosts[i]!, spec, ctx)) slots[m++] = i;
  }
  return m;
}

/**
 * Filters and weighs `hosts` for `spec`. Pass the scheduler's live `HostColumns` (kept in step by
 * `HostStates`); other hosts are turned into columns first (fine for tests and small lists).
 */
export function selectHosts(
  hosts: HostColumns | Iterable<HostState>,
  spec: RequestSpec,
  filters: readonly HostFilter[],
  weighers: readonly HostWeigher[],
  ctx: FilterContext,
  opts: SelectOptions,
): Selection {
  const cols = hosts instanceof HostColumns ? hosts : HostColumns.of(Array.isArray(hosts) ? hosts : [...hosts]);
  const list = cols.hosts;
  const total = cols.size;
  const nw = weighers.length;
  ensureScratch(nw, total);
  const slots = slotScratch;

  const count = Math.max(0, Math.floor(opts.count));
  const subset = Math.max(1, Math.floor(opts.hostSubsetSize ?? 1));
  const cap = opts.maxCandidates !== undefined && opts.maxCandidates > 0 ? opts.maxCandidates : Infinity;
  const enough = Math.max(cap, count, subset);

  // RetryFilter: never again a host this build already failed on.
  let skip: Uint8Array | undefined;
  if (spec.ignoreHosts.length > 0) {
    skip = new Uint8Array(total);
    for (const name of spec.ignoreHosts) {
      const at = cols.slotOf(name);
      if (at !== undefined) skip[at] = 1;
    }
  }
  const on = filters.map((f) => f.appliesTo === undefined || f.appliesTo(spec, ctx));
  const removed = new Float64Array(filters.length);
  let retried = 0;

  // Scan the fleet in chunks from the cursor, each chunk narrowed by the whole chain, until enough
  // candidates passed or every host was seen. With no cap (or few hosts) that is one chunk: all.
  const chunk = cap === Infinity ? total : Math.max(CHUNK, enough);
  const start = total > 0 ? cols.cursor % total : 0;
  let n = 0;
  let seen = 0;
  while (seen < total && n < enough) {
    const len = Math.min(chunk, total - seen);
    const part = n === 0 ? slots : slots.subarray(n);
    let m = 0;
    for (let j = 0; j < len; j++) {
      let i = start + seen + j;
      if (i >= total) i -= total;
      if (skip === undefined || skip[i] === 0) part[m++] = i;
    }
    retried += len - m;
    seen += len;
    for (let f = 0; f < filters.length && m > 0; f++) {
      if (!on[f]) continue;
      const before = m;
      const filter = filters[f]!;
      m = filter.narrow !== undefined ? filter.narrow(cols, part, m, spec, ctx) : narrowRows(filter, list, part, m, spec, ctx);
      removed[f]! += before - m;
    }
    n += m;
  }
  // The next decision starts where this one stopped: successive decisions look at different hosts.
  if (total > 0) cols.cursor = (start + seen) % total;

  const removedBy: Record<string, number> = {};
  if (skip !== undefined) removedBy[RETRY_FILTER] = retried;
  for (let f = 0; f < filters.length; f++) {
    const name = filters[f]!.name;
    removedBy[name] = (removedBy[name] ?? 0) + removed[f]!;
  }

  const keep = Math.min(n, Math.max(count, subset));
  if (keep === 0) return { hosts: [], removedBy, candidates: n };

  // Raw weights. A zero multiplier, or a weigher that is flat for this request, cannot change any total.
  const wOn = new Uint8Array(nw);
  const lo = new Float64Array(nw);
  const hi = new Float64Array(nw);
  for (let k = 0; k < nw; k++) {
    const w = weighers[k]!;
    if (w.multiplier === 0 || (w.appliesTo !== undefined && !w.appliesTo(spec, cols))) continue;
    wOn[k] = 1;
    const row = rawRows[k]!;
    if (w.weighAll !== undefined) w.weighAll(cols, slots, n, spec, row);
    else for (let c = 0; c < n; c++) row[c] = w.weigh(list[slots[c]!]!, spec);
    let min = Infinity;
    let max = -Infinity;
    for (let c = 0; c < n; c++) {
      const v = row[c]!;
      if (v < min) min = v;
      if (v > max) max = v;
    }
    lo[k] = min;
    hi[k] = max;
  }

  const best = bestCandidates(n, keep, weighers, wOn, lo, hi, rawRows);
  const picked: HostState[] = [];
  for (let i = 0; i < best.length; i++) picked.push(list[slots[best[i]!]!]!);
  // host_subset_size: draw the chosen host from the best N and move it to the front; the rest keep
  // their weighed order as alternates (Nova's _get_sorted_hosts).
  const draw = Math.min(subset, picked.length);
  if (draw > 1) {
    const r = (opts.random ?? Math.random)();
    const at = Math.min(draw - 1, Math.max(0, Math.floor(r * draw)));
    if (at > 0) picked.unshift(picked.splice(at, 1)[0]!);
  }
  if (picked.length > count) picked.length = count;
  return { hosts: picked, removedBy, candidates: n };
}

/**
 * Step 3: total = Σ multiplier × (raw − min) / (max − min) per candidate, accumulated one weigher at
 * a time into a scratch row, then the best `keep` (candidate numbers, best first) kept in a small
 * insertion array. A weigher whose raw weights are all equal normalises to 0 everywhere, so it is
 * dropped. Strict comparisons keep earlier candidates ahead on ties: the order is stable in input order.
 */
function bestCandidates(
  n: number,
  keep: number,
  weighers: readonly HostWeigher[],
  wOn: Uint8Array,
  lo: Float64Array,
  hi: Float64Array,
  rows: readonly Float64Array[],
): Int32Array {
  const bestPos = new Int32Array(keep);
  let total: Float64Array | undefined;
  for (let k = 0; k < weighers.length; k++) {
    const range = hi[k]! - lo[k]!;
    if (wOn[k] !== 1 || !(range > 0) || !Number.isFinite(range)) continue;
    const row = rows[k]!;
    const offset = lo[k]!;
    const scale = weighers[k]!.multiplier / range;
    if (total === undefined) {
      total = totalScratch(n);
      for (let c = 0; c < n; c++) total[c] = (row[c]! - offset) * scale;
    } else {
      for (let c = 0; c < n; c++) total[c]! += (row[c]! - offset) * scale;
    }
  }
  if (total === undefined) {
    for (let i = 0; i < keep; i++) bestPos[i] = i;
    return bestPos;
  }
  const bestW = new Float64Array(keep);
  let size = 0;
  for (let c = 0; c < n; c++) {
    const w = total[c]!;
    if (size === keep && !(w > bestW[keep - 1]!)) continue;
    let p = size < keep ? size++ : keep - 1;
    while (p > 0 && bestW[p - 1]! < w) {
      bestW[p] = bestW[p - 1]!;
      bestPos[p] = bestPos[p - 1]!;
      p--;
    }
    bestW[p] = w;
    bestPos[p] = c;
  }
  return size === keep ? bestPos : bestPos.subarray(0, size);
}

let totals = new Float64Array(0);
function totalScratch(n: number): Float64Array {
  if (totals.length < n) totals = new Float64Array(Math.max(n, totals.length * 2, 1024));
  return totals;
}
