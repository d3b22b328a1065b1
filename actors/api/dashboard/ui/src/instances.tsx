/** Instances: the boot form, the list with state badges, and one instance's detail with its actions. */
import { useEffect, useState } from 'preact/hooks';
import type { Api, InstanceAction, Server } from './api';
import type { Cloud } from './store';
import { Badge, Failure, Field, useAction, when } from './widgets';

const POWER = ['NOSTATE', 'RUNNING', '', 'PAUSED', 'SHUTDOWN', '', 'CRASHED', 'SUSPENDED'];

function BootForm({ api, cloud }: { api: Api; cloud: Cloud }) {
  const [name, setName] = useState('');
  const [flavor, setFlavor] = useState('');
  const [image, setImage] = useState('');
  const { busy, error, run } = useAction();
  const images = cloud.images.filter((i) => i.status === 'active');
  const submit = (ev: Event) => {
    ev.preventDefault();
    void run(async () => {
      await api.post('/v2.1/servers', { server: { name, flavorRef: flavor || cloud.flavors[0]?.id, imageRef: image || images[0]?.id, networks: 'auto' } });
      setName('');
      cloud.refresh();
    });
  };
  return (
    <form class="boot" onSubmit={submit} aria-label="boot a server">
      <label>Name <input name="name" required maxLength={255} value={name} onInput={(e) => setName(e.currentTarget.value)} /></label>
      <label>Flavor <select name="flavor" value={flavor} onChange={(e) => setFlavor(e.currentTarget.value)}>
        {cloud.flavors.map((f) => <option value={f.id} key={f.id}>{f.name} ({f.vcpus} vCPU, {f.ram} MB)</option>)}
      </select></label>
      <label>Image <select name="image" value={image} onChange={(e) => setImage(e.currentTarget.value)}>
        {images.map((i) => <option value={i.id} key={i.id}>{i.name ?? i.id}</option>)}
      </select></label>
      <button type="submit" disabled={busy || cloud.flavors.length === 0 || images.length === 0}>Boot</button>
      <Failure message={error} />
    </form>
  );
}

export function Instances({ api, cloud, admin }: { api: Api; cloud: Cloud; admin: boolean }) {
  return (
    <section>
      <h2>Instances</h2>
      <BootForm api={api} cloud={cloud} />
      <table>
        <thead><tr><th>Name</th><th>Status</th><th>Task</th><th>Flavor</th>{admin && <th>Project</th>}{admin && <th>Host</th>}<th>Created</th></tr></thead>
        <tbody>
          {(cloud.servers ?? []).map((s) => (
            <tr key={s.id} data-server-id={s.id} data-server-name={s.name} data-status={s.status}>
              <td><a href={`#/instances/${s.id}`}>{s.name}</a></td>
              <td><Badge value={s.status} /></td>
              <td>{s['OS-EXT-STS:task_state'] ?? ''}</td>
              <td>{s.flavor.original_name}</td>
              {admin && <td class="id">{s.tenant_id.slice(0, 8)}</td>}
              {admin && <td>{s['OS-EXT-SRV-ATTR:host'] ?? '—'}</td>}
              <td>{when(s.created)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {cloud.servers?.length === 0 && <p class="muted">No instances.</p>}
    </section>
  );
}

/** What each button asks of Nova (a server action body, or DELETE). */
const ACTIONS: { label: string; body?: unknown; when: (s: Server) => boolean; tone?: string }[] = [
  { label: 'Start', body: { 'os-start': null }, when: (s) => s.status === 'SHUTOFF' },
  { label: 'Stop', body: { 'os-stop': null }, when: (s) => s.status === 'ACTIVE' || s.status === 'ERROR' },
  { label: 'Reboot', body: { reboot: { type: 'SOFT' } }, when: (s) => s.status === 'ACTIVE' },
  { label: 'Delete', when: () => true, tone: 'warn' },
];

function Actions({ api, id }: { api: Api; id: string }) {
  const [actions, setActions] = useState<InstanceAction[]>([]);
  const [open, setOpen] = useState<Record<string, InstanceAction>>({});
  useEffect(() => {
    let live = true;
    const load = () => api.get<{ instanceActions: InstanceAction[] }>(`/v2.1/servers/${id}/os-instance-actions`).then((b) => live && setActions(b.instanceActions), () => undefined);
    load();
    const t = setInterval(load, 3_000);
    return () => { live = false; clearInterval(t); };
  }, [api, id]);
  const expand = async (req: string) => {
    const b = await api.get<{ instanceAction: InstanceAction }>(`/v2.1/servers/${id}/os-instance-actions/${req}`);
    setOpen((o) => ({ ...o, [req]: b.instanceAction }));
  };
  return (
    <table class="actions">
      <thead><tr><th>Action</th><th>Started</th><th>Message</th><th>Events</th></tr></thead>
      <tbody>
        {actions.map((a) => (
          <tr key={a.request_id} data-action={a.action}>
            <td>{a.action}</td>
            <td>{when(a.start_time)}</td>
            <td>{a.message ?? ''}</td>
            <td>{open[a.request_id] ? (
              <ul>{(open[a.request_id]!.events ?? []).map((e) => <li key={e.event + e.start_time}>{e.event}: {e.result ?? 'running'}</li>)}</ul>
            ) : <button class="link" onClick={() => void expand(a.request_id)}>show</button>}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function InstanceDetail({ api, cloud, id }: { api: Api; cloud: Cloud; id: string }) {
  const { error, run } = useAction();
  const s = cloud.servers?.find((x) => x.id === id);
  if (!s) return <p class="muted">{cloud.servers ? 'This instance is gone.' : 'Loading…'} <a href="#/instances">All instances</a></p>;
  const act = (a: (typeof ACTIONS)[number]) => run(async () => {
    await (a.body === undefined ? api.del(`/v2.1/servers/${id}`) : api.post(`/v2.1/servers/${id}/action`, a.body));
    cloud.refresh();
  });
  return (
    <section data-server-id={s.id} data-status={s.status}>
      <h2>{s.name} <Badge value={s.status} /></h2>
      <div class="buttons">
        {ACTIONS.filter((a) => a.when(s)).map((a) => <button key={a.label} class={a.tone ?? ''} onClick={() => void act(a)} data-action={a.label.toLowerCase()}>{a.label}</button>)}
      </div>
      <Failure message={error} />
      <dl class="fields">
        <Field label="ID"><code>{s.id}</code></Field>
        <Field label="Task">{s['OS-EXT-STS:task_state'] ?? '—'}</Field>
        <Field label="Power">{POWER[s['OS-EXT-STS:power_state']] ?? s['OS-EXT-STS:power_state']}</Field>
        <Field label="Flavor">{s.flavor.original_name} ({s.flavor.vcpus} vCPU, {s.flavor.ram} MB)</Field>
        <Field label="Image"><code>{s.image ? s.image.id : '—'}</code></Field>
        {s['OS-EXT-SRV-ATTR:host'] !== undefined && <Field label="Host">{s['OS-EXT-SRV-ATTR:host'] ?? '—'}</Field>}
        <Field label="Created">{when(s.created)}</Field>
        <Field label="Updated">{when(s.updated)}</Field>
        {s.fault && <Field label="Fault">{s.fault.message}</Field>}
      </dl>
      <h3>Actions</h3>
      <Actions api={api} id={id} />
    </section>
  );
}
