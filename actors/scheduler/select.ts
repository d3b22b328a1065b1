/**
 * The filter-and-weigh runner (Nova's FilterScheduler._schedule minus the claim), built for
 * 10k–100k in-memory hosts:
 *   0. per request, drop the filters and weighers that cannot matter (`appliesTo`), and weighers
 *      with multiplier 0;
 *   1. one pass over the hosts: RetryFilter, then the filter chain (stopping at the first failing
 *      filter, which gets the blame), and for each survivor the raw weight of every weigher written
 *      into a reusable Float64Array while tracking its min/max;
 *   2. one pass over the survivors: normalised weights times multipliers, summed, fed into a
 *      best-N insertion array (N = max(count, hostSubsetSize)) instead of sorting everyone.
 */
import type { FilterContext, HostFilter, HostState, HostWeigher, RequestSpec } from './types.js';

export interface SelectOptions {
  /** Hosts to return: the chosen one plus alternates (Nova's max_attempts, e.g. 3). */
  count: number;
  /** Nova's host_subset_size (default 1): the chosen host is drawn uniformly from the best N. */
  hostSubsetSize?: number;
  /** Uniform [0, 1) source for the subset draw (default Math.random). */
  random?: () => number;
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

// Scratch reused across calls (selectHosts is synchronous and filters or weighers never call back
// into it): candidate positions in the host list, and one row of raw weights per weigher. Typed
// arrays hold no host references, so nothing is kept alive between calls.
let candIdx = new Int32Array(0);
let rawRows: Float64Array[] = [];

function ensureScratch(rows: number, capacity: number): void {
  if (capacity > candIdx.length) {
    const size = Math.max(capacity, candIdx.length * 2, 1024);
    candIdx = new Int32Array(size);
    rawRows = rawRows.map(() => new Float64Array(size));
  }
  while (rawRows.length < rows) rawRows.push(new Float64Array(candIdx.length));
}

export function selectHosts(
  hosts: Iterable<HostState> | HostState[],
  spec: RequestSpec,
  filters: readonly HostFilter[],
  weighers: readonly HostWeigher[],
  ctx: FilterContext,
  opts: SelectOptions,
): Selection {
  // Positions index the host list, so an iterable is read into an array once (pass arrays to skip it).
  const list: readonly HostState[] = Array.isArray(hosts) ? hosts : Array.from(hosts);
  const total = list.length;
  const ignore = spec.ignoreHosts.length > 0 ? new Set(spec.ignoreHosts) : null;
  let retried = 0;

  // Only filters that can reject something for this request run per host; `removed` stays indexed
  // by position in `filters` so removedBy still reports the skipped ones (with 0).
  const run: HostFilter[] = [];
  const runPos: number[] = [];
  for (let j = 0; j < filters.length; j++) {
    const f = filters[j]!;
    if (f.appliesTo === undefined || f.appliesTo(spec, ctx)) {
      run.push(f);
      runPos.push(j);
    }
  }
  const nf = run.length;
  const removed = new Array<number>(filters.length).fill(0);
  // A zero multiplier, or a weigher that is flat for this request, cannot change any total.
  const active = weighers.filter((w) => w.multiplier !== 0 && (w.appliesTo === undefined || w.appliesTo(spec)));
  const nw = active.length;
  const mins = new Float64Array(nw).fill(Infinity);
  const maxs = new Float64Array(nw).fill(-Infinity);
  ensureScratch(nw, total);
  const idx = candIdx;

  // Pass 1: filter, and record the raw weights of the survivors.
  let n = 0;
  for (let i = 0; i < total; i++) {
    const host = list[i]!;
    if (ignore !== null && ignore.has(host.host)) {
      retried++;
      continue;
    }
    let j = 0;
    while (j < nf && run[j]!.passes(host, spec, ctx)) j++;
    if (j < nf) {
      removed[runPos[j]!]!++;
      continue;
    }
    for (let k = 0; k < nw; k++) {
      const raw = active[k]!.weigh(host, spec);
      rawRows[k]![n] = raw;
      if (raw < mins[k]!) mins[k] = raw;
      if (raw > maxs[k]!) maxs[k] = raw;
    }
    idx[n++] = i;
  }

  const removedBy: Record<string, number> = {};
  if (ignore !== null) removedBy[RETRY_FILTER] = retried;
  for (let j = 0; j < filters.length; j++) {
    const name = filters[j]!.name;
    removedBy[name] = (removedBy[name] ?? 0) + removed[j]!;
  }

  const count = Math.max(0, Math.floor(opts.count));
  const subset = Math.max(1, Math.floor(opts.hostSubsetSize ?? 1));
  const keep = Math.min(n, Math.max(count, subset));
  if (keep === 0) return { hosts: [], removedBy, candidates: n };

  // Pass 2: total = Σ multiplier × (raw − min) / (max − min). A weigher whose raw weights are all
  // equal normalises to 0 everywhere, so it is dropped here.
  const rows: Float64Array[] = [];
  const offsets: number[] = [];
  const scales: number[] = [];
  for (let k = 0; k < nw; k++) {
    const range = maxs[k]! - mins[k]!;
    if (range > 0 && Number.isFinite(range)) {
      rows.push(rawRows[k]!);
      offsets.push(mins[k]!);
      scales.push(active[k]!.multiplier / range);
    }
  }
  const nr = rows.length;

  // Best `keep` candidates, best first. Strict comparisons keep earlier hosts ahead on ties, which
  // makes the result stable in input order; with no effective weigher this is just the first `keep`.
  const bestPos = new Int32Array(keep);
  const bestW = new Float64Array(keep);
  let size = 0;
  if (nr === 0) {
    for (; size < keep; size++) bestPos[size] = size;
  } else {
    for (let c = 0; c < n; c++) {
      let w = 0;
      for (let k = 0; k < nr; k++) w += (rows[k]![c]! - offsets[k]!) * scales[k]!;
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
  }

  const picked: HostState[] = [];
  for (let i = 0; i < size; i++) picked.push(list[idx[bestPos[i]!]!]!);
  // host_subset_size: draw the chosen host from the best N and move it to the front; the rest keep
  // their weighed order as alternates (Nova's _get_sorted_hosts).
  const draw = Math.min(subset, size);
  if (draw > 1) {
    const r = (opts.random ?? Math.random)();
    const at = Math.min(draw - 1, Math.max(0, Math.floor(r * draw)));
    if (at > 0) picked.unshift(picked.splice(at, 1)[0]!);
  }
  if (picked.length > count) picked.length = count;
  return { hosts: picked, removedBy, candidates: n };
}
