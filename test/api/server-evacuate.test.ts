/**
 * Evacuate over HTTP: refused while the source's compute service is up (Nova's 400
 * ComputeServiceInUse), allowed once it is forced down; the instance rebuilt on a scheduled host
 * (stopped stays stopped), the source's allocation released, the record done, the old host's guest
 * reaped when it reconciles again; an instance-actor crash while spawning ends the same way.
 * Afterwards the ledger equals the hypervisors.
 */
import t from 'tap';
import { startMoveCluster } from '../harness/move-cluster.js';
import { waitFor } from '../harness/poll.js';

const { cluster, http, admin, drivers, alice, mv, idle, consistent, boot } = await startMoveCluster(t);
const evacuate = (id: string, body: unknown, n = 14, token = admin) => http.post(`/v2.1/servers/${id}/action`, { token, body: { evacuate: body }, headers: mv(n) });
const forceDown = async (host: string, down: boolean) => {
  const svc = (await http.get(`/v2.1/os-services?host=${host}`, { token: admin, headers: mv(53) })).body.services[0];
  const r = await http.put(`/v2.1/os-services/${svc.id}`, { token: admin, body: { forced_down: down }, headers: mv(53) });
  if (r.status !== 200) throw new Error(`force down ${host}: ${r.status} ${r.text}`);
};
const recordOf = async (id: string) => (await http.get(`/v2.1/os-migrations?instance_uuid=${id}`, { token: admin, headers: mv(59) })).body.migrations[0];
const onHost = async (host: string) => (await drivers.get(host)!.listGuests()).map((g) => g.uuid);

t.test('evacuate: refused while the source is up, rebuilt elsewhere once it is down, the stale guest reaped', async (t) => {
  const s = await boot('evacuee');
  const src = s.host;
  const inUse = await evacuate(s.id, {});
  t.equal(inUse.status, 400);
  t.same(inUse.body, { badRequest: { code: 400, message: `Compute service of ${src} is still in use.` } });
  const mine = await boot('alices', alice.token);
  t.equal((await evacuate(mine.id, {}, 14, alice.token)).status, 403, 'admin only');

  // A second, stopped server on the same host: it must end stopped.
  let stopped = await boot('stopped');
  while (stopped.host !== src) {
    await http.delete(`/v2.1/servers/${stopped.id}`, { token: admin });
    stopped = await boot('stopped');
  }
  t.equal((await http.post(`/v2.1/servers/${stopped.id}/action`, { token: admin, body: { 'os-stop': null } })).status, 202);
  await idle(stopped.id);

  await forceDown(src, true);
  t.equal((await evacuate(s.id, { host: src })).status, 400, "the target host can't be the same one");
  t.equal((await evacuate(s.id, { host: 'nowhere' })).status, 404, 'unknown target host');
  t.equal((await evacuate(s.id, { onSharedStorage: false }, 14)).status, 400, 'onSharedStorage is gone at 2.14');
  t.equal((await evacuate(s.id, { host: null, force: true }, 29)).status, 400, "can't force to a non-provided destination");

  const old = await evacuate(s.id, { onSharedStorage: false }, 13);
  t.equal(old.status, 200, 'evacuate answers 200');
  t.type(old.body?.adminPass, 'string', 'with the admin password below 2.14');
  const moved = await idle(s.id);
  t.match(moved, { status: 'ACTIVE' });
  t.not(moved.host, src, 'on a new host');
  t.ok((await onHost(moved.host!)).includes(s.id), 'the guest runs on the destination');
  t.match(await recordOf(s.id), { migration_type: 'evacuation', status: 'done', source_compute: src, dest_compute: moved.host });
  t.equal(cluster.scheduler!.states.allocationOf((await recordOf(s.id)).uuid), undefined, "the source's allocation is released");
  t.equal(cluster.scheduler!.states.allocationOf(s.id)?.host, moved.host, 'the instance is allocated on the destination');

  const quiet = await evacuate(stopped.id, {}, 14);
  t.equal(quiet.status, 200);
  t.equal(quiet.text, '', 'no body from 2.14');
  const stoppedNow = await idle(stopped.id);
  t.match(stoppedNow, { status: 'SHUTOFF' });
  t.not(stoppedNow.host, src);

  const actions = (await http.get(`/v2.1/servers/${s.id}/os-instance-actions`, { token: admin })).body.instanceActions.map((a: { action: string }) => a.action);
  t.equal(actions[0], 'evacuate');

  // The source comes back: its guests are not the instances' any more, and are reaped, not resurrected.
  await forceDown(src, false);
  t.ok((await onHost(src)).includes(s.id), 'the stale guest is still on the returned host');
  const reaped = await cluster.compute!.reaper.reconcile(src);
  t.same([...reaped].sort(), [s.id, stopped.id].sort(), 'both stale guests reaped');
  t.same((await onHost(src)).filter((u) => u === s.id || u === stopped.id), []);
  t.match(await cluster.client.getServer(s.id), { status: 'ACTIVE', host: moved.host }, 'the instance stays where it was evacuated to');
  await waitFor('reports after the reap', async () => (await cluster.ledger!.snapshot()).length === 3);
  await consistent(t, 'after evacuate and reap');
});

t.test('an instance-actor crash while spawning on the destination ends consistent', async (t) => {
  const s = await boot('crash-evac');
  for (const d of drivers.values()) d.faults.addRule({ op: 'spawn', action: 'slow', delayMs: 400, uuid: s.id, times: 1 });
  await forceDown(s.host, true);
  t.equal((await evacuate(s.id, {}, 14)).status, 200);
  await waitFor('pre-migrating', async () => (await recordOf(s.id))?.status === 'pre-migrating');
  cluster.conductor!.crashInstance(s.id);
  const done = await idle(s.id);
  t.match(done, { status: 'ACTIVE' });
  t.not(done.host, s.host);
  t.equal((await recordOf(s.id)).status, 'done');
  await forceDown(s.host, false);
  t.same(await cluster.compute!.reaper.reconcile(s.host), [s.id], 'the stale guest reaped');
  await consistent(t, 'crash while spawning');
});
