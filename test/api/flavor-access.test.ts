/**
 * Private flavors and their access lists (`os-flavor-access`), and flavor descriptions (2.55): who
 * sees and boots a private flavor, Nova's status codes and messages for each misuse, and the
 * openstack CLI's `flavor create --private --project`, `flavor set --project/--description`.
 */
import t from 'tap';
import { fault, startApiCluster, waitForServer } from '../harness/api-http.js';
import { openstackCli } from '../harness/openstack-cli.js';

const { cluster, http, admin } = await startApiCluster(t, { hosts: 1 });
const image = (await cluster.client.listImages())[0]!;
const alice = await http.member(admin, 'fa-a', 'alice', 'member');
const bob = await http.member(admin, 'fa-b', 'bob', 'member');
const mv = (v: string) => ({ 'OpenStack-API-Version': `compute ${v}` });
const action = (id: string, body: unknown, token = admin) => http.post(`/v2.1/flavors/${id}/action`, { token, body });
const ids = (a: { body: { flavors: { id: string }[] } }) => a.body.flavors.map((f) => f.id);

t.test('a private flavor: listed, shown and booted only by the projects granted it', async (t) => {
  const created = await http.post('/v2.1/flavors', { token: admin, body: { flavor: { name: 'private.one', ram: 256, vcpus: 1, disk: 1, id: 'p-1', 'os-flavor-access:is_public': false } } });
  t.equal(created.status, 200);
  t.equal((await http.get('/v2.1/flavors/p-1/os-flavor-access', { token: admin })).body.flavor_access.length, 0, 'an empty list to begin with');

  const granted = await action('p-1', { addTenantAccess: { tenant: alice.projectId } });
  t.equal(granted.status, 200);
  t.same(granted.body, { flavor_access: [{ flavor_id: 'p-1', tenant_id: alice.projectId }] });
  t.same((await http.get('/v2.1/flavors/p-1/os-flavor-access', { token: admin })).body, granted.body, 'the list says so');

  t.ok(ids(await http.get('/v2.1/flavors', { token: alice.token })).includes('p-1'), 'alice lists it');
  t.notOk(ids(await http.get('/v2.1/flavors', { token: bob.token })).includes('p-1'), 'bob does not');
  t.equal((await http.get('/v2.1/flavors/p-1', { token: alice.token })).status, 200);
  t.equal((await http.get('/v2.1/flavors/p-1', { token: bob.token })).status, 404);

  const boot = (token: string) => http.post('/v2.1/servers', { token, body: { server: { name: 'pf', flavorRef: 'p-1', imageRef: image.id, networks: 'none' } } });
  const ok = await boot(alice.token);
  t.equal(ok.status, 202, 'alice boots it');
  await waitForServer(cluster, ok.body.server.id, (s) => s.status === 'ACTIVE');
  const refused = await boot(bob.token);
  t.equal(refused.status, 400, 'bob cannot');
  t.match(fault(refused)?.message, /Flavor p-1 could not be found/);

  const revoked = await action('p-1', { removeTenantAccess: { tenant: alice.projectId } });
  t.same(revoked.body, { flavor_access: [] });
  t.notOk(ids(await http.get('/v2.1/flavors', { token: alice.token })).includes('p-1'), 'revoked: alice no longer lists it');
  t.equal((await boot(alice.token)).status, 400, 'nor boots it');
  t.equal((await http.delete(`/v2.1/servers/${ok.body.server.id}`, { token: alice.token })).status, 204, 'a server already built keeps working');
});

t.test("Nova's answers to misuse", async (t) => {
  const grant = await action('p-1', { addTenantAccess: { tenant: bob.projectId } });
  t.equal(grant.status, 200);
  const twice = await action('p-1', { addTenantAccess: { tenant: bob.projectId } });
  t.equal(twice.status, 409);
  t.equal(fault(twice)?.message, `Flavor access already exists for flavor p-1 and project ${bob.projectId} combination.`);
  const none = await action('p-1', { removeTenantAccess: { tenant: alice.projectId } });
  t.equal(none.status, 404);
  t.equal(fault(none)?.message, `Flavor access not found for p-1 / ${alice.projectId} combination.`);
  const publicOne = await action('1', { addTenantAccess: { tenant: bob.projectId } });
  t.equal(publicOne.status, 409);
  t.equal(fault(publicOne)?.message, 'Can not add access to a public flavor.');
  const publicList = await http.get('/v2.1/flavors/1/os-flavor-access', { token: admin });
  t.equal(publicList.status, 404);
  t.equal(fault(publicList)?.message, 'Access list not available for public flavors.');
  const unknownProject = await action('p-1', { addTenantAccess: { tenant: 'no-such-project' } });
  t.equal(unknownProject.status, 400);
  t.equal(fault(unknownProject)?.message, 'Project ID no-such-project is not a valid project.');
  t.equal((await action('nope', { addTenantAccess: { tenant: bob.projectId } })).status, 404, 'an unknown flavor');
  for (const body of [{}, { addTenantAccess: {} }, { addTenantAccess: { tenant: '' } }, { addTenantAccess: { tenant: 'x' }, removeTenantAccess: { tenant: 'x' } }, { grant: { tenant: 'x' } }]) {
    t.equal((await action('p-1', body)).status, 400, `${JSON.stringify(body)} is a 400`);
  }
  t.equal((await action('p-1', { addTenantAccess: { tenant: alice.projectId } }, alice.token)).status, 403, 'members may not grant');
  t.equal((await http.get('/v2.1/flavors/p-1/os-flavor-access', { token: bob.token })).status, 403, 'nor list');
});

t.test('descriptions (2.55): at create and by PUT, shown from 2.55 only', async (t) => {
  const made = await http.post('/v2.1/flavors', { token: admin, headers: mv('2.55'), body: { flavor: { name: 'described', ram: 128, vcpus: 1, disk: 0, id: 'd-1', description: 'for tests only' } } });
  t.equal(made.status, 200);
  t.equal(made.body.flavor.description, 'for tests only');
  const early = await http.post('/v2.1/flavors', { token: admin, headers: mv('2.54'), body: { flavor: { name: 'early', ram: 128, vcpus: 1, disk: 0, description: 'x' } } });
  t.equal(early.status, 400, 'no description before 2.55');
  const put = await http.put('/v2.1/flavors/d-1', { token: admin, headers: mv('2.55'), body: { flavor: { description: 'changed' } } });
  t.equal(put.status, 200);
  t.equal(put.body.flavor.description, 'changed');
  t.equal((await http.get('/v2.1/flavors/d-1', { token: alice.token, headers: mv('2.55') })).body.flavor.description, 'changed');
  t.notOk('description' in (await http.get('/v2.1/flavors/d-1', { token: alice.token, headers: mv('2.54') })).body.flavor, 'not shown before 2.55');
  t.equal((await http.put('/v2.1/flavors/d-1', { token: admin, headers: mv('2.54'), body: { flavor: { description: 'x' } } })).status, 404, 'no PUT before 2.55');
  t.equal((await http.put('/v2.1/flavors/d-1', { token: admin, headers: mv('2.55'), body: { flavor: { name: 'renamed' } } })).status, 400, 'only the description may change');
  t.equal((await http.put('/v2.1/flavors/d-1', { token: admin, headers: mv('2.55'), body: { flavor: { description: 'two\nlines' } } })).status, 400, 'control characters are refused');
  t.equal((await http.put('/v2.1/flavors/d-1', { token: alice.token, headers: mv('2.55'), body: { flavor: { description: 'x' } } })).status, 403);
  const cleared = await http.put('/v2.1/flavors/d-1', { token: admin, headers: mv('2.55'), body: { flavor: { description: null } } });
  t.equal(cleared.body.flavor.description, null);
});

t.test('the openstack CLI: a private flavor for one project, a description', async (t) => {
  const os = openstackCli(t, cluster.apiUrl!);
  const made = await os.json(t, ['flavor', 'create', '--private', '--ram', '256', '--vcpus', '1', '--disk', '1', '--project', alice.projectId, '--description', 'cli made', 'cli.private']);
  t.equal(made['os-flavor-access:is_public'], false);
  t.equal(made.description, 'cli made');
  const shown = await os.json(t, ['flavor', 'show', 'cli.private']);
  t.match(String(shown.access_project_ids), alice.projectId, 'the access list, as the CLI shows it');
  await os.ok(t, ['flavor', 'set', '--project', bob.projectId, 'cli.private']);
  await os.ok(t, ['flavor', 'set', '--description', 'cli changed', 'cli.private']);
  const after = await os.json(t, ['flavor', 'show', 'cli.private']);
  t.equal(after.description, 'cli changed');
  t.match(String(after.access_project_ids), bob.projectId);
  await os.ok(t, ['flavor', 'unset', '--project', alice.projectId, 'cli.private']);
  t.notMatch(String((await os.json(t, ['flavor', 'show', 'cli.private'])).access_project_ids), alice.projectId);
});
