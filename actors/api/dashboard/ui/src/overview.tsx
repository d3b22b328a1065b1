/** The overview: hosts as a heat map of usage, instances by state, builds per second. */
import type { Hypervisor } from './api';
import type { Cloud } from './store';

/** The larger of vCPU and RAM use, 0..1: what limits the next placement. */
export const usage = (h: Hypervisor) => Math.max(h.vcpus > 0 ? h.vcpus_used / h.vcpus : 0, h.memory_mb > 0 ? h.memory_mb_used / h.memory_mb : 0);

/** Green (idle) through amber to red (full); grey for a host that is down or disabled. */
function colour(h: Hypervisor): string {
  if (h.state === 'down' || h.status === 'disabled') return 'hsl(220 8% 72%)';
  return `hsl(${Math.round(130 - Math.min(1, usage(h)) * 130)} 65% 48%)`;
}

export function HeatMap({ hypervisors }: { hypervisors: Hypervisor[] }) {
  if (hypervisors.length === 0) return <p class="muted">No hosts have reported yet.</p>;
  return (
    <div class="heatmap" aria-label="host usage">
      {hypervisors.map((h) => (
        <a class="cell" href={`#/hosts/${encodeURIComponent(h.service.host)}`} key={h.id} style={{ background: colour(h) }}
          data-host={h.service.host} data-vcpus-used={h.vcpus_used} data-ram-used={h.memory_mb_used} data-running={h.running_vms}
          title={`${h.service.host}: ${h.vcpus_used}/${h.vcpus} vCPUs, ${h.memory_mb_used}/${h.memory_mb} MB, ${h.running_vms} running`}>
          <strong>{h.service.host}</strong>
          <span>{Math.round(usage(h) * 100)}%</span>
          <small>{h.vcpus_used}/{h.vcpus} vCPU · {h.running_vms} running</small>
        </a>
      ))}
    </div>
  );
}

export function Overview({ cloud, admin }: { cloud: Cloud; admin: boolean }) {
  const byState = new Map<string, number>();
  for (const s of cloud.servers ?? []) byState.set(s.status, (byState.get(s.status) ?? 0) + 1);
  return (
    <section>
      <div class="tiles">
        <div class="tile"><span class="big" data-testid="server-count">{cloud.servers?.length ?? '…'}</span><span>instances</span></div>
        <div class="tile"><span class="big" data-testid="builds-per-second">{cloud.buildsPerSecond.toFixed(1)}</span><span>builds/s (10 s)</span></div>
        {admin && <div class="tile"><span class="big">{cloud.hypervisors.length}</span><span>hosts</span></div>}
        <div class="tile"><span class="big">{cloud.images.length}</span><span>images</span></div>
      </div>
      <h2>Instances by state</h2>
      <div class="states" data-testid="states">
        {[...byState].sort().map(([state, n]) => <span class="state" data-state={state} key={state}><b>{n}</b> {state}</span>)}
        {byState.size === 0 && <span class="muted">none</span>}
      </div>
      {admin && <><h2>Hosts</h2><HeatMap hypervisors={cloud.hypervisors} /></>}
    </section>
  );
}
