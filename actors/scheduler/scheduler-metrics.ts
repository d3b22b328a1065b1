/**
 * The scheduler's metrics: per decision its time (by outcome) and candidates, NoValidHost by the
 * filter that removed the last candidates, claims lost to another replica, and at scrape time the
 * hosts in its view by state (up: heard within the service down time, as ComputeFilter judges)
 * and status (enabled or disabled by an operator). Children are made once, at the role's start.
 */
import type { Clock } from '../../runtime/clock.js';
import type { HistogramChild, HotCounter } from '../../runtime/metrics/hot.js';
import type { Metrics } from '../../runtime/metrics/metrics.js';
import type { HostStates } from './host-states.js';

export interface DecisionMetrics {
  placed: HistogramChild;
  failed: HistogramChild;
  candidates: HistogramChild;
  noValidHost: HotCounter;
}

/** The reason label when no filter removed anything: there was no host to consider. */
export const NO_HOSTS = 'no_hosts';

export function decisionMetrics(metrics: Metrics | undefined): DecisionMetrics | undefined {
  if (!metrics) return undefined;
  const m = metrics.m;
  return { placed: m.decisionSeconds.child('placed'), failed: m.decisionSeconds.child('no_valid_host'), candidates: m.decisionCandidates.child(), noValidHost: m.noValidHost };
}

/** The filter that emptied the candidate list: the last one (in filter order) that removed hosts. */
export function lastRemover(removedBy: Record<string, number>): string {
  let last = NO_HOSTS;
  for (const [filter, n] of Object.entries(removedBy)) if (n > 0) last = filter;
  return last;
}

/** Registers the scrape-time gauges; returns their removal. */
export function watchHosts(metrics: Metrics, states: HostStates, stats: { readonly lostClaims: number }, clock: Clock, serviceDownTimeMs: number): () => void {
  const m = metrics.m;
  const lost = m.lostClaims.child();
  return metrics.onScrape(() => {
    const oldest = clock.now() - serviceDownTimeMs;
    let upOn = 0;
    let upOff = 0;
    let downOn = 0;
    let downOff = 0;
    for (const h of states.all()) {
      const up = h.lastSeenAt >= oldest;
      if (up && h.enabled) upOn++;
      else if (up) upOff++;
      else if (h.enabled) downOn++;
      else downOff++;
    }
    m.hosts.set({ state: 'up', status: 'enabled' }, upOn);
    m.hosts.set({ state: 'up', status: 'disabled' }, upOff);
    m.hosts.set({ state: 'down', status: 'enabled' }, downOn);
    m.hosts.set({ state: 'down', status: 'disabled' }, downOff);
    lost.value = stats.lostClaims;
  });
}
