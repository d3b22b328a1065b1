/** Hosts (admins): the compute services with their usage, disable/enable, and one host's detail. */
import type { Api, Hypervisor, Service } from './api';
import type { Cloud } from './store';
import { Badge, Bar, Failure, Field, useAction, when } from './widgets';

function Toggle({ api, service, done }: { api: Api; service: Service; done: () => void }) {
  const { busy, error, run } = useAction();
  const disable = service.status === 'enabled';
  const click = () => run(async () => {
    await api.put(`/v2.1/os-services/${service.id}`, disable ? { status: 'disabled', disabled_reason: 'disabled from the dashboard' } : { status: 'enabled' });
    done();
  });
  return (
    <>
      <button class={disable ? 'warn' : ''} disabled={busy} onClick={click} data-action={disable ? 'disable' : 'enable'}>{disable ? 'Disable' : 'Enable'}</button>
      <Failure message={error} />
    </>
  );
}

export function Hosts({ api, cloud }: { api: Api; cloud: Cloud }) {
  const usage = new Map(cloud.hypervisors.map((h) => [h.service.host, h]));
  return (
    <section>
      <h2>Hosts</h2>
      <table>
        <thead><tr><th>Host</th><th>Zone</th><th>Status</th><th>State</th><th>vCPUs</th><th>RAM</th><th>Running</th><th /></tr></thead>
        <tbody>
          {cloud.services.map((s) => {
            const h = usage.get(s.host);
            return (
              <tr key={s.id} data-host={s.host} data-status={s.status}>
                <td><a href={`#/hosts/${encodeURIComponent(s.host)}`}>{s.host}</a></td>
                <td>{s.zone}</td>
                <td><Badge value={s.status} /></td>
                <td><Badge value={s.state} /></td>
                <td>{h ? <Bar used={h.vcpus_used} total={h.vcpus} label="" /> : '—'}</td>
                <td>{h ? <Bar used={h.memory_mb_used} total={h.memory_mb} label="" /> : '—'}</td>
                <td>{h?.running_vms ?? '—'}</td>
                <td><Toggle api={api} service={s} done={cloud.refresh} /></td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

export function HostDetail({ api, cloud, host }: { api: Api; cloud: Cloud; host: string }) {
  const s = cloud.services.find((x) => x.host === host);
  const h: Hypervisor | undefined = cloud.hypervisors.find((x) => x.service.host === host);
  if (!s) return <p class="muted">No host {host}.</p>;
  const here = (cloud.servers ?? []).filter((x) => x['OS-EXT-SRV-ATTR:host'] === host);
  return (
    <section>
      <h2>Host {host} <Badge value={s.status} /> <Badge value={s.state} /></h2>
      <dl class="fields">
        <Field label="Zone">{s.zone}</Field>
        <Field label="Disabled reason">{s.disabled_reason ?? '—'}</Field>
        <Field label="Last report">{when(s.updated_at)}</Field>
        {h && <Field label="Hypervisor">{h.hypervisor_type} · {h.hypervisor_hostname}</Field>}
      </dl>
      {h && (
        <div class="bars">
          <Bar used={h.vcpus_used} total={h.vcpus} label="vCPU" />
          <Bar used={h.memory_mb_used} total={h.memory_mb} label="RAM MB" />
          <Bar used={h.local_gb_used} total={h.local_gb} label="Disk GB" />
        </div>
      )}
      <p><Toggle api={api} service={s} done={cloud.refresh} /></p>
      <h3>Instances on this host</h3>
      {here.length === 0 ? <p class="muted">None.</p> : (
        <ul>{here.map((x) => <li key={x.id}><a href={`#/instances/${x.id}`}>{x.name}</a> <Badge value={x.status} /></li>)}</ul>
      )}
    </section>
  );
}
