/**
 * The real `openstack` CLI driving Keystone's administration: domains (create, list, disable,
 * delete), projects and users in a domain, groups with members and group role assignments, roles
 * and implied roles, `role assignment list --names`, regions, services and endpoints (and the
 * catalog the next login sees), and application credentials used to log in
 * (`--os-auth-type v3applicationcredential`). Each command's `-f json` output is checked.
 */
import t from 'tap';
import { startApiCluster } from '../harness/api-http.js';
import { openstackCli } from '../harness/openstack-cli.js';

const { cluster } = await startApiCluster(t, { hosts: 1 });
const { osc, json, ok } = openstackCli(t, cluster.apiUrl!);

t.test('domain create / list / set --disable / delete', async (t) => {
  const d = await json(t, ['domain', 'create', '--description', 'for the CLI', 'cli-dom']);
  t.match(d, { name: 'cli-dom', description: 'for the CLI', enabled: true });
  const list = await json(t, ['domain', 'list']);
  t.ok(list.some((x: { Name: string }) => x.Name === 'Default'), 'the default domain');
  t.ok(list.some((x: { Name: string; ID: string }) => x.Name === 'cli-dom' && x.ID === d.id), 'and the new one');
  const refused = await osc(['domain', 'delete', 'cli-dom']);
  t.not(refused.code, 0, 'an enabled domain is not deleted');
  await ok(t, ['domain', 'set', '--disable', 'cli-dom']);
  t.equal((await json(t, ['domain', 'show', 'cli-dom'])).enabled, false);
  await ok(t, ['domain', 'delete', 'cli-dom']);
  t.notOk((await json(t, ['domain', 'list'])).some((x: { Name: string }) => x.Name === 'cli-dom'), 'gone');
});

t.test('project create --domain; user create --domain default --password; a user logs in to its domain', async (t) => {
  await json(t, ['domain', 'create', 'cli-east']);
  const p = await json(t, ['project', 'create', '--domain', 'cli-east', 'east-proj']);
  t.match(p, { name: 'east-proj', enabled: true });
  const u = await json(t, ['user', 'create', '--domain', 'cli-east', '--password', 'east-pw-1', 'eve']);
  t.equal(u.name, 'eve');
  await ok(t, ['role', 'add', '--user', 'eve', '--user-domain', 'cli-east', '--project', 'east-proj', '--project-domain', 'cli-east', 'member']);
  const d = await json(t, ['user', 'create', '--domain', 'default', '--password', 'dee-pw-1', 'dee']);
  t.match(d, { name: 'dee', domain_id: 'default' });
  await ok(t, ['user', 'set', '--disable', 'dee']);
  t.equal((await json(t, ['user', 'show', 'dee'])).enabled, false);
  await ok(t, ['user', 'delete', 'dee']);
  await ok(t, ['project', 'set', '--description', 'east side', '--domain', 'cli-east', 'east-proj']);
  t.equal((await json(t, ['project', 'show', '--domain', 'cli-east', 'east-proj'])).description, 'east side');
});

t.test('group create / add user; role add --group; role assignment list --names --user', async (t) => {
  await json(t, ['project', 'create', 'grp-proj']);
  await json(t, ['user', 'create', '--domain', 'default', '--password', 'gwen-pw-1', 'gwen']);
  const g = await json(t, ['group', 'create', '--description', 'builders', 'builders']);
  t.match(g, { name: 'builders', domain_id: 'default' });
  await ok(t, ['group', 'add', 'user', 'builders', 'gwen']);
  const contains = await osc(['group', 'contains', 'user', 'builders', 'gwen']);
  t.equal(contains.code, 0, 'group contains user');
  await ok(t, ['role', 'add', '--group', 'builders', '--project', 'grp-proj', 'member']);
  const viaGroup = await json(t, ['role', 'assignment', 'list', '--names', '--group', 'builders']);
  t.match(viaGroup, [{ Role: 'member', Group: 'builders@Default', Project: 'grp-proj@Default' }]);
  const effective = await json(t, ['role', 'assignment', 'list', '--names', '--effective', '--user', 'gwen']);
  t.same(effective.map((a: { Role: string }) => a.Role).sort(), ['member', 'reader'], 'effective: the group’s role and what it implies');
  const token = await json(t, ['token', 'issue'], { name: 'gwen', password: 'gwen-pw-1', project: 'grp-proj' });
  t.ok(token.id, 'gwen logs in through her group’s role');
  await ok(t, ['role', 'add', '--user', 'gwen', '--project', 'grp-proj', 'reader']);
  const direct = await json(t, ['role', 'assignment', 'list', '--names', '--user', 'gwen']);
  t.match(direct, [{ Role: 'reader', User: 'gwen@Default', Project: 'grp-proj@Default' }], 'her own assignment, by name');
});

t.test('role create; implied role create / list', async (t) => {
  const r = await json(t, ['role', 'create', 'cli-auditor']);
  t.equal(r.name, 'cli-auditor');
  const implied = await json(t, ['implied', 'role', 'create', 'cli-auditor', '--implied-role', 'reader']);
  t.same(implied, { prior_role: r.id, implies: (await json(t, ['role', 'show', 'reader'])).id });
  const list = await json(t, ['implied', 'role', 'list']);
  const pairs = list.map((x: { 'Prior Role Name': string; 'Implied Role Name': string }) => `${x['Prior Role Name']}>${x['Implied Role Name']}`);
  for (const p of ['admin>manager', 'manager>member', 'member>reader', 'cli-auditor>reader']) t.ok(pairs.includes(p), p);
  t.ok((await json(t, ['role', 'list'])).some((x: { Name: string }) => x.Name === 'cli-auditor'));
  await ok(t, ['role', 'delete', 'cli-auditor']);
});

t.test('region create; service create; endpoint create --region RegionOne; catalog list shows it', async (t) => {
  const region = await json(t, ['region', 'create', '--description', 'second site', 'RegionTwo']);
  t.match(region, { region: 'RegionTwo', description: 'second site' });
  const svc = await json(t, ['service', 'create', '--name', 'swift', '--description', 'objects', 'object-store']);
  t.match(svc, { name: 'swift', type: 'object-store', enabled: true });
  const ep = await json(t, ['endpoint', 'create', '--region', 'RegionOne', 'swift', 'public', 'http://swift.example:8080/v1']);
  t.match(ep, { interface: 'public', region: 'RegionOne', service_name: 'swift', service_type: 'object-store', url: 'http://swift.example:8080/v1' });
  const eps = await json(t, ['endpoint', 'list', '--service', 'object-store']);
  t.same(eps.map((e: { ID: string }) => e.ID), [ep.id]);
  const catalog = await json(t, ['catalog', 'list']);
  const swift = catalog.find((s: { Name: string }) => s.Name === 'swift');
  t.ok(swift, 'the next login’s catalog has it');
  t.match(swift?.Endpoints, [{ id: ep.id, interface: 'public', region: 'RegionOne', url: 'http://swift.example:8080/v1' }]);
  t.ok(catalog.some((s: { Type: string }) => s.Type === 'compute'), 'beside the built-in services');
  await ok(t, ['endpoint', 'delete', ep.id]);
  await ok(t, ['service', 'delete', 'swift']);
  await ok(t, ['region', 'delete', 'RegionTwo']);
  t.notOk((await json(t, ['catalog', 'list'])).some((s: { Name: string }) => s.Name === 'swift'), 'and leaves it with them');
});

t.test('application credential create, then token issue with --os-auth-type v3applicationcredential', async (t) => {
  const cred = await json(t, ['application', 'credential', 'create', '--role', 'reader', 'cli-ci']);
  t.match(cred, { name: 'cli-ci', unrestricted: false });
  t.type(cred.secret, 'string');
  const args = ['--os-auth-type', 'v3applicationcredential', '--os-application-credential-id', cred.id, '--os-application-credential-secret', cred.secret];
  const issued = await osc([...args, 'token', 'issue', '-f', 'json']);
  t.equal(issued.code, 0, issued.stderr.trim().split('\n').pop() ?? '');
  t.ok(JSON.parse(issued.stdout || '{}').id, 'a token from the credential');
  const more = await osc([...args, 'application', 'credential', 'create', 'cli-more']);
  t.not(more.code, 0, 'a restricted credential cannot make more');
  t.ok((await json(t, ['application', 'credential', 'list'])).some((c: { Name: string }) => c.Name === 'cli-ci'));
  await ok(t, ['application', 'credential', 'delete', 'cli-ci']);
  const after = await osc([...args, 'token', 'issue']);
  t.not(after.code, 0, 'a deleted credential no longer logs in');
});
