/**
 * A starting scheduler's view: the scheduling catalog and the host states warmed from the ledger
 * (hosts stay down until they report), and the warm-up window in which it has not heard every
 * known host yet, so its "no valid host" would only mean "not listened long enough".
 */
import type { Clock } from '../../runtime/clock.js';
import { SchedulingCatalog } from './catalog.js';
import type { SchedulerConfig } from './config.js';
import { HostStates } from './host-states.js';
import type { PlacementLedger } from './ledger.js';

export async function warmFromLedger(ledger: PlacementLedger, cfg: SchedulerConfig): Promise<{ catalog: SchedulingCatalog; states: HostStates }> {
  const catalog = new SchedulingCatalog(ledger.orm);
  await catalog.load();
  const states = new HostStates(cfg.capacity, (host, zone) => {
    const p = catalog.placementOf(host, zone);
    return { aggregates: p.aggregates, zone: p.zone };
  });
  states.load(await ledger.snapshot(), await ledger.allocations());
  for (const h of await ledger.disabledHosts()) states.setEnabled(h, false);
  return { catalog, states };
}

/** True until every known host has been heard since the start, or the service down time has passed. */
export function warmUpWindow(states: HostStates, clock: Clock, serviceDownTimeMs: number): () => boolean {
  const startedAt = clock.now();
  let warm = false;
  return () => {
    if (warm) return false;
    warm = clock.now() - startedAt >= serviceDownTimeMs || states.all().every((h) => h.lastSeenAt >= startedAt);
    return !warm;
  };
}
