/**
 * Server actions from the lifecycle's action table, over HTTP: pause/unpause, suspend/resume,
 * lock/unlock (owner, admin, reasons), os-resetState; Nova's 409s, 403s, 400s and 501s; the
 * instance-action records; and two actions racing on one server.
 */
import t from 'tap';
import { startApiCluster } from '../harness/api-http.js';

const { cluster, http, admin } = await startApiCluster(t);
const image = (await cluster.client.listImages())[0]!;
const alice = await http.member(admin, 'project-a', 'alice', 'member');
const mv = (n: number) => ({ 'OpenStack-API-Version': `compute 2.${n}` });

const boot = async (name: string) => {
  const r = await http.post('/v2.1/servers', { token: alice.token, body: { server: { name, flavorRef: '1', imageRef: image.id } } });
  if (r.status !== 202) throw new Error(`boot ${name}: ${r.status} ${r.text}`);
  await settled(r.body.server.id, 'ACTIVE');
  return r.body.server.id as string;
};
const settled = (id: string, status: string) => cluster.client.waitForServer(id, (s) => s.status === status && s.taskState === null);
const action = (id: string, body: unknown, token = alice.token, headers: Record<string, string> = {}) =>
  http.post(`/v2.1/servers/${id}/action`, { token, body, headers });

t.test('pause, unpause, suspend, resume: 202 each, Nova state after each, 409 when the state is wrong', async (t) => {
  const id = await boot('pauser');
  const steps: [string, string, number][] = [['pause', 'PAUSED', 3], ['unpause', 'ACTIVE', 1], ['suspend', 'SUSPENDED', 7], ['resume', 'ACTIVE', 1]];
  for (const [name, status, power] of steps) {
    t.equal((await action(id, { [name]: null })).status, 202, `${name} accepted`);
    const s = await settled(id, status);
    t.equal(s.powerState, power, `${name}: power state ${power}`);
  }
  const wrong = await action(id, { unpause: null });
  t.equal(wrong.status, 409);
  t.same(wrong.body, { conflictingRequest: { code: 409, message: `Cannot 'unpause' instance ${id} while it is in vm_state active` } });
  t.equal((await action(id, { pause: { extra: 1 } })).status, 400, 'pause takes no arguments');
  const records = (await http.get(`/v2.1/servers/${id}/os-instance-actions`, { token: alice.token })).body.instanceActions;
  t.same(records.map((r: { action: string }) => r.action).slice(0, 4), ['resume', 'suspend', 'unpause', 'pause'], 'one record per action, newest first');
  const detail = (await http.get(`/v2.1/servers/${id}/os-instance-actions/${records[0].request_id}`, { token: admin })).body.instanceAction;
  t.equal(detail.action, 'resume');
});

t.test('lock: a member cannot act on a locked server, an admin can; the reason shows from 2.73', async (t) => {
  const id = await boot('locked');
  t.equal((await action(id, { lock: { locked_reason: 'maintenance' } }, alice.token, mv(73))).status, 202);
  const shown = (await http.get(`/v2.1/servers/${id}`, { token: alice.token, headers: mv(73) })).body.server;
  t.equal(shown.locked, true);
  t.equal(shown.locked_reason, 'maintenance');
  const refused = await action(id, { 'os-stop': null });
  t.same(refused.body, { conflictingRequest: { code: 409, message: `Instance ${id} is locked` } });
  t.equal((await http.delete(`/v2.1/servers/${id}`, { token: alice.token })).status, 409, 'delete refused too');
  t.equal((await action(id, { 'os-stop': null }, admin)).status, 202, 'an admin may act on a locked server');
  await settled(id, 'SHUTOFF');
  t.equal((await action(id, { unlock: null })).status, 202, 'the owner unlocks their own lock');
  t.equal((await http.get(`/v2.1/servers/${id}`, { token: alice.token, headers: mv(73) })).body.server.locked, false);

  t.equal((await action(id, { lock: null }, admin)).status, 202, 'an admin locks');
  const lifted = await action(id, { unlock: null });
  t.equal(lifted.status, 403, "only an admin lifts an admin's lock");
  t.match(lifted.body, { forbidden: { code: 403 } });
  t.equal((await action(id, { unlock: null }, admin)).status, 202);
  t.equal((await action(id, { 'os-start': null })).status, 202);
  await settled(id, 'ACTIVE');
});

t.test('os-resetState is an admin’s: 403 to a member, then the state is set and the server usable', async (t) => {
  const id = await boot('reset');
  t.equal((await action(id, { 'os-resetState': { state: 'error' } })).status, 403);
  t.equal((await action(id, { 'os-resetState': { state: 'bogus' } }, admin)).status, 400, 'only active or error');
  t.equal((await action(id, { 'os-resetState': { state: 'error' } }, admin)).status, 202);
  t.equal((await cluster.client.getServer(id)).status, 'ERROR');
  t.equal((await action(id, { 'os-resetState': { state: 'active' } }, admin)).status, 202);
  t.equal((await action(id, { pause: null })).status, 202, 'usable again');
  await settled(id, 'PAUSED');
});

t.test('unknown, unimplemented and malformed actions; a missing server is a 404 first', async (t) => {
  const id = await boot('odd');
  t.match(await action(id, { frobnicate: null }), { status: 400, body: { badRequest: { message: 'There is no such action: frobnicate' } } });
  t.equal((await action(id, { reboot: { type: 'WARM' } })).status, 400);
  t.equal((await action(id, { reboot: { type: 'hard' } })).status, 202, "reboot's type is case-insensitive, as Nova's");
  await settled(id, 'ACTIVE');
  t.equal((await action('00000000-0000-4000-8000-000000000000', { pause: null })).status, 404);
  t.equal((await action('00000000-0000-4000-8000-000000000000', { 'os-resetState': { state: 'error' } })).status, 404, '404 before the admin check');
});

t.test('two actions racing on one server: one is accepted, the other is a clean 409', async (t) => {
  const id = await boot('racer');
  const answers = await Promise.all([action(id, { pause: null }), action(id, { suspend: null }), action(id, { 'os-stop': null })]);
  const codes = answers.map((a) => a.status).sort();
  t.same(codes, [202, 409, 409], 'exactly one wins');
  for (const a of answers.filter((x) => x.status === 409)) t.match(a.body, { conflictingRequest: { message: /while it is in task_state/ } });
  t.equal(http.seen.filter((s) => s.status >= 500).length, 0, 'no 5xx anywhere in this file');
});
