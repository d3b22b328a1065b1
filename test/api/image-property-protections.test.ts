/**
 * Glance's property protections from a rules file (property-protections-roles.conf syntax): create,
 * read, update and delete of free-form image properties by role, `@` and `!`, the first matching
 * section deciding and unmatched properties refused; and the parser's refusals of a broken file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { PropertyProtections } from '../../protocols/image-property-protections.js';
import { startApiCluster } from '../harness/api-http.js';

const RULES = `# who may touch which image properties
[^x_billing_]
create = admin
read = admin,member
update = admin
delete = admin

[^x_secret_]
create = admin
read = admin
update = admin
delete = !

[^x_fixed_]
create = @
read = @
update = !
delete = !

[^(?!x_)]
create = @
read = @
update = @
delete = @
`;

const dir = mkdtempSync(join(tmpdir(), 'novact-pp-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const rulesFile = join(dir, 'property-protections-roles.conf');
writeFileSync(rulesFile, RULES);

const { http, admin } = await startApiCluster(t, { hosts: 1, api: { imagePropertyProtections: rulesFile } });
const mem = await http.member(admin, 'pp-proj', 'pat', 'member');
const PATCH = { 'Content-Type': 'application/openstack-images-v2.1-json-patch' };
const patch = (id: string, token: string, ops: unknown[]) => http.patch(`/image/v2/images/${id}`, { token, raw: JSON.stringify(ops), headers: PATCH });

t.test('the rules, as parsed', async (t) => {
  const pp = PropertyProtections.parse(RULES);
  t.ok(pp.allows('x_billing_code', 'read', ['member']));
  t.notOk(pp.allows('x_billing_code', 'update', ['member']));
  t.ok(pp.allows('x_billing_code', 'update', ['Admin']), 'roles compare without case');
  t.notOk(pp.allows('x_secret_key', 'delete', ['admin']), '! is no one, admins included');
  t.ok(pp.allows('x_fixed_a', 'create', ['reader']), '@ is anyone');
  t.notOk(pp.allows('x_other', 'read', ['admin']), 'no section matches: refused');
  t.ok(pp.allows('colour', 'delete', ['member']));
  t.same(pp.readable({ x_secret_key: 's', colour: 'red', os_glance_failed_import: 'local' }, ['member']), { colour: 'red', os_glance_failed_import: 'local' });
  const partial = PropertyProtections.parse('[^p_]\nread = @\n');
  t.notOk(partial.allows('p_a', 'create', ['admin']), 'an operation the section leaves out: refused');
  t.throws(() => PropertyProtections.parse('[(unclosed]\ncreate = @\n'), /not a regular expression/);
  t.throws(() => PropertyProtections.parse('create = @\n'), /expected/);
  t.throws(() => PropertyProtections.parse('[x]\nexecute = @\n'), /unknown operation/);
});

t.test('enforced on create, update, delete and read', async (t) => {
  t.equal((await http.post('/image/v2/images', { token: mem.token, body: { name: 'p1', x_billing_code: 'b1' } })).status, 403, 'a member may not create a billing property');
  t.equal((await http.post('/image/v2/images', { token: mem.token, body: { name: 'p1', x_unlisted: 'v' } })).status, 403, 'no rule for it: refused');
  const img = await http.post('/image/v2/images', { token: mem.token, body: { name: 'p1', colour: 'red', x_fixed_zone: 'z1' } });
  t.equal(img.status, 201, img.text);
  const id = img.body.id as string;

  const byAdmin = await patch(id, admin, [{ op: 'add', path: '/x_billing_code', value: 'b1' }, { op: 'add', path: '/x_secret_key', value: 's1' }]);
  t.equal(byAdmin.status, 200, byAdmin.text);
  t.match(byAdmin.body, { x_billing_code: 'b1', x_secret_key: 's1' }, 'an admin reads both');

  const seen = (await http.get(`/image/v2/images/${id}`, { token: mem.token })).body;
  t.equal(seen.x_billing_code, 'b1', 'a member reads billing');
  t.notOk('x_secret_key' in seen, 'but not the secret');
  const listed = ((await http.get('/image/v2/images', { token: mem.token })).body.images as any[]).find((i) => i.id === id);
  t.notOk('x_secret_key' in listed, 'not in the listing either');

  t.equal((await patch(id, mem.token, [{ op: 'replace', path: '/x_billing_code', value: 'b2' }])).status, 403, 'a member may not update billing');
  t.equal((await patch(id, mem.token, [{ op: 'remove', path: '/x_billing_code' }])).status, 403, 'nor delete it');
  t.equal((await patch(id, mem.token, [{ op: 'replace', path: '/x_fixed_zone', value: 'z2' }])).status, 403, 'update = ! for everyone');
  t.equal((await patch(id, admin, [{ op: 'remove', path: '/x_fixed_zone' }])).status, 403, 'delete = ! for admins too');
  t.equal((await patch(id, admin, [{ op: 'remove', path: '/x_secret_key' }])).status, 403);

  const free = await patch(id, mem.token, [{ op: 'replace', path: '/colour', value: 'blue' }, { op: 'add', path: '/size_hint', value: 'small' }, { op: 'replace', path: '/name', value: 'p1b' }]);
  t.equal(free.status, 200, free.text);
  t.match(free.body, { colour: 'blue', size_hint: 'small', name: 'p1b', x_billing_code: 'b1' });
  t.notOk('x_secret_key' in free.body, 'a patch reply is filtered too');
  t.equal((await patch(id, mem.token, [{ op: 'remove', path: '/colour' }])).status, 200);
  t.equal((await patch(id, admin, [{ op: 'replace', path: '/x_billing_code', value: 'b3' }])).body.x_billing_code, 'b3', 'an admin updates billing');
});
