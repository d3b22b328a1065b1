/**
 * Rebuild, rescue/unrescue, changePassword, trigger_crash_dump, console output and diagnostics over
 * HTTP: Nova's status codes and bodies, the states they lead to, 409s in wrong states, the
 * instance-action records, and the guest on the fake hypervisor (its console log) as evidence.
 */
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { FakeDriver } from '../../hosts/fake/fake-driver.js';
import { fault, startApiCluster } from '../harness/api-http.js';

const drivers = [new FakeDriver({ hostname: 'compute-1' }), new FakeDriver({ hostname: 'compute-2' })];
const { cluster, http, admin } = await startApiCluster(t, { hosts: drivers.map((driver, i) => ({ name: `compute-${i + 1}`, driver })) });
const image = (await cluster.client.listImages())[0]!;
const alice = await http.member(admin, 'project-r', 'alice', 'member');
const mv = (n: number) => ({ 'OpenStack-API-Version': `compute 2.${n}` });

/** A public, active image (uploaded), with extra fields such as min_disk. */
async function newImage(name: string, extra: Record<string, unknown> = {}): Promise<string> {
  const c = await http.post('/image/v2/images', { token: admin, body: { name, disk_format: 'raw', container_format: 'bare', visibility: 'public', ...extra } });
  if (c.status !== 201) throw new Error(`image ${name}: ${c.status} ${c.text}`);
  const u = await http.put(`/image/v2/images/${c.body.id}/file`, { token: admin, raw: randomBytes(1024), headers: { 'Content-Type': 'application/octet-stream' } });
  if (u.status !== 204) throw new Error(`upload ${name}: ${u.status} ${u.text}`);
  return c.body.id as string;
}
const other = await newImage('other-image');
const huge = await newImage('huge-image', { min_disk: 50 });

const settled = (id: string, status: string) => cluster.client.waitForServer(id, (s) => s.status === status && s.taskState === null);
const boot = async (name: string) => {
  const r = await http.post('/v2.1/servers', { token: alice.token, body: { server: { name, flavorRef: '1', imageRef: image.id } } });
  if (r.status !== 202) throw new Error(`boot ${name}: ${r.status} ${r.text}`);
  await settled(r.body.server.id, 'ACTIVE');
  return r.body.server.id as string;
};
const action = (id: string, body: unknown, token = alice.token, headers: Record<string, string> = {}) =>
  http.post(`/v2.1/servers/${id}/action`, { token, body, headers });
const show = async (id: string) => (await http.get(`/v2.1/servers/${id}`, { token: alice.token, headers: mv(19) })).body.server;
const consoleOf = async (id: string, length?: number) => (await action(id, { 'os-getConsoleOutput': length === undefined ? {} : { length } })).body.output as string;
const records = async (id: string) =>
  (await http.get(`/v2.1/servers/${id}/os-instance-actions`, { token: alice.token })).body.instanceActions.map((r: { action: string }) => r.action) as string[];

t.test('rebuild: 202 with the server and adminPass, then ACTIVE on the new image with the new name and metadata', async (t) => {
  const id = await boot('rebuilt');
  const r = await action(id, { rebuild: { imageRef: other, name: 'rebuilt-2', metadata: { role: 'web' }, description: 'again' } }, alice.token, mv(19));
  t.equal(r.status, 202, r.text);
  t.equal(r.body.server.id, id);
  t.type(r.body.server.adminPass, 'string');
  t.equal(r.body.server.adminPass.length, 12, 'a generated password');
  t.equal(r.body.server.name, 'rebuilt-2');
  await settled(id, 'ACTIVE');
  const s = await show(id);
  t.equal(s.image.id, other, 'the server shows the new image');
  t.same([s.name, s.metadata, s.description], ['rebuilt-2', { role: 'web' }, 'again']);
  t.match(await consoleOf(id), new RegExp(`rebuilt from image ${other}`), 'the hypervisor rebuilt the guest from it');
  t.same((await records(id)).slice(0, 2), ['rebuild', 'create']);
  const given = await action(id, { rebuild: { imageRef: `http://glance/images/${image.id}`, adminPass: 'chosen-pass' } });
  t.equal(given.body.server.adminPass, 'chosen-pass', 'a given password is echoed; an image URL names its id');
  await settled(id, 'ACTIVE');
  t.equal((await show(id)).image.id, image.id);
});

t.test('rebuild refusals: image missing or too big (400), newer fields (400), wrong state (409)', async (t) => {
  const id = await boot('refused');
  const missing = await action(id, { rebuild: { imageRef: '00000000-0000-4000-8000-000000000001' } });
  t.same([missing.status, fault(missing)?.message], [400, 'Cannot find image for rebuild']);
  const big = await action(id, { rebuild: { imageRef: huge } });
  t.equal(big.status, 400);
  t.match(fault(big)?.message, /Flavor's disk is too small for requested image/);
  t.equal((await action(id, { rebuild: { imageRef: other, description: 'x' } })).status, 400, 'description needs 2.19');
  t.equal((await action(id, { rebuild: { imageRef: other, hostname: 'h' } }, alice.token, mv(89))).status, 400, 'hostname needs 2.90');
  t.equal((await action(id, { rebuild: { imageRef: other, bogus: 1 } })).status, 400, 'unknown fields are refused');
  t.equal((await action(id, { rebuild: {} })).status, 400, 'imageRef is required');
  t.equal((await action(id, { pause: null })).status, 202);
  await settled(id, 'PAUSED');
  const paused = await action(id, { rebuild: { imageRef: other } });
  t.same(paused.body, { conflictingRequest: { code: 409, message: `Cannot 'rebuild' instance ${id} while it is in vm_state paused` } });
  t.equal((await show(id)).image.id, image.id, 'nothing changed');
});

t.test('rebuild of a stopped server keeps it stopped (Nova), on the new image', async (t) => {
  const id = await boot('stopped-rebuild');
  t.equal((await action(id, { 'os-stop': null })).status, 202);
  await settled(id, 'SHUTOFF');
  t.equal((await action(id, { rebuild: { imageRef: other } })).status, 202);
  const s = await settled(id, 'SHUTOFF');
  t.equal(s.powerState, 4, 'powered off again');
  t.equal((await show(id)).image.id, other);
  t.same((await records(id)).slice(0, 2), ['rebuild', 'stop'], 'the power-off belongs to the rebuild');
});

t.test('rescue: 200 {adminPass}, RESCUE, 409 on a second rescue; unrescue 202 -> ACTIVE', async (t) => {
  const id = await boot('rescued');
  const r = await action(id, { rescue: null });
  t.equal(r.status, 200, r.text);
  t.same(Object.keys(r.body), ['adminPass']);
  t.equal(r.body.adminPass.length, 12);
  const s = await settled(id, 'RESCUE');
  t.equal(s.powerState, 1, 'the rescue guest runs');
  t.match(await consoleOf(id), new RegExp(`rescue boot from image ${image.id}`), 'the default rescue image is its own');
  const again = await action(id, { rescue: {} });
  t.same(again.body, { conflictingRequest: { code: 409, message: `Cannot 'rescue' instance ${id} while it is in vm_state rescued` } });
  t.equal((await action(id, { changePassword: { adminPass: 'x' } })).status, 409, 'no password change in rescue');
  t.equal((await action(id, { unrescue: null })).status, 202);
  await settled(id, 'ACTIVE');
  t.equal((await action(id, { unrescue: null })).status, 409, 'not rescued any more');
  const chosen = await action(id, { rescue: { adminPass: 'mine', rescue_image_ref: other } });
  t.same([chosen.status, chosen.body], [200, { adminPass: 'mine' }]);
  await settled(id, 'RESCUE');
  t.match(await consoleOf(id), new RegExp(`rescue boot from image ${other}`));
  t.equal((await action(id, { rescue: { rescue_image_ref: 'not-a-uuid' } })).status, 400);
  t.equal((await action(id, { unrescue: null })).status, 202);
  await settled(id, 'ACTIVE');
  t.same((await records(id)).slice(0, 4), ['unrescue', 'rescue', 'unrescue', 'rescue']);
});

t.test('changePassword: 202, back to ACTIVE, recorded; 409 when stopped; 400 without a password', async (t) => {
  const id = await boot('passworded');
  t.equal((await action(id, { changePassword: { adminPass: 'n3w-pass' } })).status, 202);
  await settled(id, 'ACTIVE');
  t.match(await consoleOf(id), /admin password changed/);
  t.notMatch(await consoleOf(id), /n3w-pass/, 'never the password itself');
  t.equal((await records(id))[0], 'changePassword');
  t.equal((await action(id, { changePassword: {} })).status, 400);
  t.equal((await action(id, { 'os-stop': null })).status, 202);
  await settled(id, 'SHUTOFF');
  const stopped = await action(id, { changePassword: { adminPass: 'x' } });
  t.same(stopped.body, { conflictingRequest: { code: 409, message: `Cannot 'set_admin_password' instance ${id} while it is in vm_state stopped` } });
});

t.test('trigger_crash_dump: 202 from 2.17 (400 below), recorded; 409 when stopped', async (t) => {
  const id = await boot('crashed');
  const early = await action(id, { trigger_crash_dump: null }, alice.token, mv(16));
  t.equal(early.status, 400, 'unknown before 2.17');
  const r = await action(id, { trigger_crash_dump: null }, alice.token, mv(17));
  t.equal(r.status, 202, r.text);
  t.equal(r.text, '', 'no body');
  t.match(await consoleOf(id), /Kernel panic - not syncing: NMI/);
  t.equal((await records(id))[0], 'trigger_crash_dump');
  t.equal((await cluster.client.getServer(id)).status, 'ACTIVE', 'no state change');
  t.equal((await action(id, { trigger_crash_dump: {} }, alice.token, mv(17))).status, 400, 'the value must be null');
  t.equal((await action(id, { 'os-stop': null })).status, 202);
  await settled(id, 'SHUTOFF');
  const stopped = await action(id, { trigger_crash_dump: null }, alice.token, mv(17));
  t.same(stopped.body, { conflictingRequest: { code: 409, message: `Cannot 'trigger_crash_dump' instance ${id} while it is in vm_state stopped` } });
});

t.test('console output: 200 {output}, the last N lines with length, all with -1 or none', async (t) => {
  const id = await boot('talker');
  const all = await action(id, { 'os-getConsoleOutput': {} });
  t.equal(all.status, 200);
  t.same(Object.keys(all.body), ['output']);
  const lines = (all.body.output as string).split('\n');
  t.ok(lines.length >= 4, 'the fake guest boot log');
  t.match(lines[1], /Booting guest talker/);
  t.same((await consoleOf(id, 2)).split('\n'), lines.slice(-2), 'length 2: the last two lines');
  t.equal(await consoleOf(id, -1), all.body.output, '-1: all of it');
  t.equal((await action(id, { 'os-getConsoleOutput': { length: '1' } })).body.output, lines.at(-1), 'a string length');
  t.equal((await action(id, { 'os-getConsoleOutput': { length: -2 } })).status, 400);
  t.equal((await action(id, { 'os-getConsoleOutput': { lines: 3 } })).status, 400, 'unknown field');
  t.equal((await records(id)).length, 1, 'reads are not recorded');
});

t.test('diagnostics: the 2.48 shape for an admin, 403 for a member, 409 when not running', async (t) => {
  const id = await boot('diagnosed');
  const d = await http.get(`/v2.1/servers/${id}/diagnostics`, { token: admin, headers: mv(48) });
  t.equal(d.status, 200, d.text);
  t.match(d.body, {
    state: 'running', driver: 'fake', hypervisor: 'fake', num_cpus: 1, num_disks: 1, num_nics: 1, config_drive: false,
    memory_details: { maximum: 512, used: 512 }, cpu_details: [{ id: 0 }], disk_details: [{ read_bytes: 0 }], nic_details: [{ mac_address: /^fa:16:3e:/ }],
  });
  const member = await http.get(`/v2.1/servers/${id}/diagnostics`, { token: alice.token });
  t.equal(member.status, 403);
  t.equal((await http.get('/v2.1/servers/00000000-0000-4000-8000-000000000000/diagnostics', { token: admin })).status, 404);
  t.equal((await action(id, { 'os-stop': null })).status, 202);
  await settled(id, 'SHUTOFF');
  const stopped = await http.get(`/v2.1/servers/${id}/diagnostics`, { token: admin });
  t.same(stopped.body, { conflictingRequest: { code: 409, message: `Cannot 'get_diagnostics' instance ${id} while it is in power_state shutdown` } });
});

t.test('no 5xx anywhere, and the ledger matches the hypervisors', async (t) => {
  t.same(http.seen.filter((s) => s.status >= 500), []);
  const guests = (await Promise.all(drivers.map((d) => d.listGuests()))).flat();
  const servers = await cluster.client.listServers();
  t.equal(guests.length, servers.length, 'one guest per server: rebuild and rescue made no second guest');
  const totals = await cluster.ledger!.totals();
  const sum = (k: 'vcpus' | 'memoryMb' | 'diskGb') => guests.reduce((n, g) => n + g[k], 0);
  t.same(totals.allocations, { VCPU: sum('vcpus'), MEMORY_MB: sum('memoryMb'), DISK_GB: sum('diskGb') }, 'the ledger equals the hypervisors');
});
