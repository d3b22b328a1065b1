/** Percentiles of a sample, nearest-rank. */
export function percentiles(values: number[], ps: number[]): Record<string, number> {
  const sorted = [...values].sort((a, b) => a - b);
  const out: Record<string, number> = {};
  for (const p of ps) {
    const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
    out[`p${p}`] = sorted.length ? Math.round((sorted[i] ?? 0) * 1000) / 1000 : 0;
  }
  return out;
}

/** p50/p95 in whole milliseconds, with the sample size. */
export function msSummary(xs: number[]): { p50: number; p95: number; n: number } {
  const p = percentiles(xs.map(Math.round), [50, 95]);
  return { p50: p.p50!, p95: p.p95!, n: xs.length };
}
