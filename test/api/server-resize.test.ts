/**
 * Resize, confirm, revert and cold migrate over HTTP against fake hosts sharing a fabric: status
 * codes, Nova's 400s/403s/409s, states and flavors after each step, the migration records, the
 * instance actions, the automatic confirm, a delete of a resized server, and a conductor crash while
 * each host call of a move is in flight. After every scenario the ledger equals the hypervisors
 * (per host) and no guest exists on two hosts.
 */
import t, { type Test } from 'tap';
import { startApiCluster } from '../harness/api-http.js';
import { waitFor } from '../harness/poll.js';
import { FakeDriver } from '../../hosts/fake/fake-driver.js';
import { FakeFabric } from '../../hosts/fake/fake-migration.js';
import type { DriverOp } from '../../hosts/driver.js';
import { confirmDueResizes } from '../../actors/conductor/resize-confirm-sweep.js';

const fabric = new FakeFabric();
const drivers = ['compute-1', 'compute-2', 'compute-3'].map((hostname) => new FakeDriver({ hostname, fabric }));
const { cluster, http, admin } = await startApiCluster(t, { hosts: drivers.map((d) => ({ name: d.hostname, driver: d })) });
const image = (await cluster.client.listImages())[0]!;
const alice = await http.member(admin, 'project-r', 'alice', 'member');
const mv256 = { 'OpenStack-API-Version': 'compute 2.56' };

const action = (id: string, body: unknown, token = alice.token, headers: Record<string, string> = {}) =>
  http.post(`/v2.1/servers/${id}/action`, { token, body, headers });
const settled = (id: string, status: string) => cluster.client.waitForServer(id, (s) => s.status === status && s.taskState === null);
const boot = async (name: string, flavorRef = '1') => {
  const r = await http.post('/v2.1/servers', { token: alice.token, body: { server: { name, flavorRef, imageRef: image.id } } });
  if (r.status !== 202) throw new Error(`boot ${name}: ${r.status} ${r.text}`);
  return (await settled(r.body.server.id, 'ACTIVE')).id;
};
const show = async (id: string) => (await http.get(`/v2.1/servers/${id}`, { token: admin, headers: { 'OpenStack-API-Version': 'compute 2.47' } })).body.server;
const migrations = async (id: string) => (await http.get(`/v2.1/os-migrations?instance_uuid=${id}`, { token: admin, headers: { 'OpenStack-API-Version': 'compute 2.59' } })).body.migrations;

/** The ledger's memory and vcpus per host equal what each fake hypervisor counts (guests and kept disks). */
async function ledgerMatchesHosts(t: Test, what: string) {
  const byHost = new Map<string, { mem: number; cpu: number }>();
  for (const a of await cluster.ledger!.allocations()) {
    const h = byHost.get(a.provider) ?? { mem: 0, cpu: 0 };
    byHost.set(a.provider, { mem: h.mem + a.resources.MEMORY_MB, cpu: h.cpu + a.resources.VCPU });
  }
  for (const d of drivers) {
    const u = await d.usage();
    t.same({ mem: u.memoryMbUsed, cpu: u.vcpusUsed }, byHost.get(d.hostname) ?? { mem: 0, cpu: 0 }, `${what}: ledger = hypervisor on ${d.hostname}`);
  }
}
/** Hosts whose hypervisor runs the guest. */
const guestOn = async (id: string) => (await Promise.all(drivers.map(async (d) => ((await d.getGuest(id)) ? [d.hostname] : [])))).flat();

t.test('resize → VERIFY_RESIZE → confirm: new flavor on another host, source freed', async (t) => {
  const id = await boot('grow');
  const source = (await show(id))['OS-EXT-SRV-ATTR:host'];
  const r = await action(id, { resize: { flavorRef: '2' } });
  t.equal(r.status, 202, 'resize accepted');
  await settled(id, 'VERIFY_RESIZE');
  const v = await show(id);
  t.not(v['OS-EXT-SRV-ATTR:host'], source, 'moved off the source (same-host resize is off by default)');
  t.equal(v.flavor.original_name, 'm1.small', 'the new flavor');
  const [m] = await migrations(id);
  t.match(m, { status: 'finished', migration_type: 'resize', source_compute: source, dest_compute: v['OS-EXT-SRV-ATTR:host'], old_instance_type_id: '1', new_instance_type_id: '2' });
  t.equal(cluster.scheduler!.states.allocationOf(id)?.resources.MEMORY_MB, 2048, 'the instance holds the new flavor on the destination');
  t.same(cluster.scheduler!.states.allocationOf(m.uuid), { host: source, resources: { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 } }, 'the migration holds the old flavor on the source');
  await ledgerMatchesHosts(t, 'at VERIFY_RESIZE');
  t.same(await guestOn(id), [v['OS-EXT-SRV-ATTR:host']], 'the guest runs on the destination only');

  t.equal((await action(id, { resize: { flavorRef: '3' } })).status, 409, 'no second resize while one awaits confirmation');
  const c = await action(id, { confirmResize: null });
  t.equal(c.status, 204, 'confirm is the 204 action');
  const done = await settled(id, 'ACTIVE');
  t.equal(done.host, v['OS-EXT-SRV-ATTR:host']);
  t.equal((await migrations(id))[0].status, 'confirmed');
  t.equal(cluster.scheduler!.states.allocationOf(m.uuid), undefined, 'the source allocation is freed');
  await ledgerMatchesHosts(t, 'after confirm');
  const records = (await http.get(`/v2.1/servers/${id}/os-instance-actions`, { token: alice.token })).body.instanceActions;
  t.same(records.map((a: { action: string }) => a.action).slice(0, 2), ['confirmResize', 'resize'], "Nova's instance-action names");
  t.equal((await action(id, { confirmResize: null })).status, 409, 'nothing left to confirm');
});

t.test('revert restores the old flavor on the source; a stopped server stays stopped', async (t) => {
  const id = await boot('shrink-back');
  const source = (await show(id))['OS-EXT-SRV-ATTR:host'];
  t.equal((await action(id, { 'os-stop': null })).status, 202);
  await settled(id, 'SHUTOFF');
  t.equal((await action(id, { resize: { flavorRef: 'm1.small' } })).status, 202, 'a stopped server may resize (flavor by name too)');
  await settled(id, 'VERIFY_RESIZE');
  t.equal((await action(id, { revertResize: null })).status, 202);
  const back = await settled(id, 'SHUTOFF');
  t.equal(back.host, source, 'back on the source');
  t.equal((await show(id)).flavor.original_name, 'm1.tiny', 'the old flavor');
  t.equal((await migrations(id))[0].status, 'reverted');
  t.same(await guestOn(id), [source], 'one guest, on the source');
  await ledgerMatchesHosts(t, 'after revert');
});

t.test("Nova's refusals: 400 for flavors, 403 for a member's migrate, 409 for the wrong state", async (t) => {
  const id = await boot('refusals', '2');
  const bad = async (body: unknown, message: string | RegExp) => {
    const r = await action(id, body);
    t.equal(r.status, 400, JSON.stringify(body));
    t.match(r.body.badRequest.message, message);
  };
  await bad({ resize: { flavorRef: '2' } }, 'When resizing, instances must change flavor!');
  await bad({ resize: { flavorRef: 'no-such' } }, 'Unable to locate requested flavor.');
  await bad({ resize: { flavorRef: '1' } }, /smaller disk/);
  await bad({ resize: {} }, /Invalid input/);
  t.equal((await action(id, { migrate: null })).status, 403, 'migrate is admin-only');
  const c = await action(id, { confirmResize: null });
  t.equal(c.status, 409);
  t.equal(c.body.conflictingRequest.message, `Cannot 'confirmResize' instance ${id} while it is in vm_state active`);
  t.equal((await action(id, { revertResize: null })).status, 409);
  await ledgerMatchesHosts(t, 'after refusals');
});

t.test('cold migrate (admin): same flavor, another host; 2.56 target host; confirm', async (t) => {
  const id = await boot('mover');
  const source = (await show(id))['OS-EXT-SRV-ATTR:host'];
  const target = drivers.map((d) => d.hostname).find((h) => h !== source)!;
  t.equal((await action(id, { migrate: { host: source } }, admin, mv256)).status, 400, 'not to its own host');
  t.equal((await action(id, { migrate: { host: target } }, admin, mv256)).status, 202);
  await settled(id, 'VERIFY_RESIZE');
  const v = await show(id);
  t.equal(v['OS-EXT-SRV-ATTR:host'], target, 'on the requested host');
  t.equal(v.flavor.original_name, 'm1.tiny', 'flavor unchanged');
  t.match((await migrations(id))[0], { migration_type: 'migration', status: 'finished', source_compute: source, dest_compute: target });
  await ledgerMatchesHosts(t, 'migrated, unconfirmed');
  t.equal((await action(id, { confirmResize: null }, admin)).status, 204);
  await settled(id, 'ACTIVE');
  await ledgerMatchesHosts(t, 'migrated, confirmed');
});

t.test('the automatic confirm takes resizes past the window, through the same path', async (t) => {
  const id = await boot('auto');
  t.equal((await action(id, { resize: { flavorRef: '2' } })).status, 202);
  await settled(id, 'VERIFY_RESIZE');
  const confirm = (uuid: string) => cluster.client.serverAction(uuid, 'confirmResize');
  t.equal(await confirmDueResizes(cluster.orm!, Date.now(), 3600, confirm), 0, 'not yet due');
  t.equal(await confirmDueResizes(cluster.orm!, Date.now() + 3_601_000, 0, confirm), 0, '0 = never');
  t.equal(await confirmDueResizes(cluster.orm!, Date.now() + 3_601_000, 3600, confirm), 1, 'due: confirmed');
  await settled(id, 'ACTIVE');
  t.equal((await migrations(id))[0].status, 'confirmed');
  await ledgerMatchesHosts(t, 'after the automatic confirm');
});

t.test('deleting a resized server destroys on both hosts and frees both allocations', async (t) => {
  const id = await boot('doomed');
  t.equal((await action(id, { resize: { flavorRef: '2' } })).status, 202);
  await settled(id, 'VERIFY_RESIZE');
  const [m] = await migrations(id);
  t.equal((await http.delete(`/v2.1/servers/${id}`, { token: alice.token })).status, 204);
  await waitFor('deleted', async () => (await http.get(`/v2.1/servers/${id}`, { token: alice.token })).status === 404);
  t.same(await guestOn(id), []);
  t.equal(cluster.scheduler!.states.allocationOf(m.uuid), undefined, 'the migration consumer is released');
  t.equal(cluster.scheduler!.states.allocationOf(id), undefined);
  await ledgerMatchesHosts(t, 'after the delete');
});

t.test('a conductor crash while each host call of a move is in flight ends consistent', async (t) => {
  // Each case hangs one driver call once (on whichever host gets it), crashes the conductor while it
  // hangs, and checks that the resumed move finishes or rolls back: one guest, ledger = hosts.
  const cases: { op: DriverOp; then: 'confirmResize' | 'revertResize'; ends: string }[] = [
    { op: 'migrateOut', then: 'confirmResize', ends: 'ACTIVE' },
    { op: 'finishMigration', then: 'confirmResize', ends: 'ACTIVE' },
    { op: 'confirmMigration', then: 'confirmResize', ends: 'ACTIVE' },
    { op: 'revertMigration', then: 'revertResize', ends: 'ACTIVE' },
    { op: 'finishRevertMigration', then: 'revertResize', ends: 'ACTIVE' },
  ];
  for (const c of cases) {
    const id = await boot(`crash-${c.op}`);
    for (const d of drivers) d.faults.addRule({ op: c.op, action: 'hang', times: 1, uuid: id });
    const before = drivers.map((d) => d.faults.size).reduce((a, b) => a + b, 0);
    t.equal((await action(id, { resize: { flavorRef: '2' } })).status, 202);
    if (c.then === 'revertResize' || c.op === 'confirmMigration') {
      await settled(id, 'VERIFY_RESIZE');
      t.equal((await action(id, { [c.then]: null })).status, c.then === 'confirmResize' ? 204 : 202);
    }
    await waitFor(`${c.op} hangs`, () => drivers.map((d) => d.faults.size).reduce((a, b) => a + b, 0) === before - 1);
    cluster.conductor!.crash();
    // The resumed step re-issues the call (a new attempt); a move left unconfirmed is confirmed now.
    const mid = await cluster.client.waitForServer(id, (s) => s.taskState === null && (s.status === 'VERIFY_RESIZE' || s.status === c.ends), 30_000);
    if (mid.status === 'VERIFY_RESIZE') {
      t.equal((await action(id, { [c.then]: null })).status, c.then === 'confirmResize' ? 204 : 202);
      await settled(id, c.ends);
    }
    const s = await show(id);
    t.equal(s.status, c.ends, `${c.op}: ends ${c.ends}`);
    t.equal(s.flavor.original_name, c.then === 'confirmResize' ? 'm1.small' : 'm1.tiny', `${c.op}: the flavor of the outcome`);
    t.same(await guestOn(id), [s['OS-EXT-SRV-ATTR:host']], `${c.op}: one guest, on the instance's host`);
    t.match((await migrations(id))[0], { status: c.then === 'confirmResize' ? 'confirmed' : 'reverted' }, `${c.op}: the record ends`);
    await ledgerMatchesHosts(t, `crash during ${c.op}`);
    for (const d of drivers) d.faults.clear();
  }
});
