/**
 * Glance's metadata definitions over HTTP: the shipped namespaces, an admin's namespace with its
 * objects, properties, tags and resource type associations (status codes and bodies as Glance's),
 * protection, visibility between projects, refusals of bad bodies, and the metadef schemas.
 */
import t from 'tap';
import { fault, startApiCluster } from '../harness/api-http.js';

const { http, admin } = await startApiCluster(t, { hosts: 1 });
const alice = await http.member(admin, 'md-alpha', 'mdalice', 'member');
const bob = await http.member(admin, 'md-beta', 'mdbob', 'member');
const NS = '/image/v2/metadefs/namespaces';

t.test('the shipped namespaces are there, public and protected', async (t) => {
  const r = await http.get(NS, { token: alice.token });
  t.equal(r.status, 200);
  t.equal(r.body.schema, '/v2/schemas/metadefs/namespaces');
  const pinning = (r.body.namespaces as any[]).find((n) => n.namespace === 'OS::Compute::CPUPinning');
  t.match(pinning, { visibility: 'public', protected: true, owner: 'admin', self: '/v2/metadefs/namespaces/OS::Compute::CPUPinning', schema: '/v2/schemas/metadefs/namespace' });
  t.same(pinning.resource_type_associations.map((a: any) => [a.name, a.prefix]).sort(), [['OS::Glance::Image', 'hw_'], ['OS::Nova::Flavor', 'hw:']]);
  t.notOk('properties' in pinning, 'the listing leaves the contents out');
  const show = await http.get(`${NS}/OS::Compute::CPUPinning`, { token: bob.token });
  t.equal(show.status, 200);
  t.same(show.body.properties.cpu_policy.enum, ['shared', 'dedicated']);
  const byType = await http.get(`${NS}?resource_types=OS::Nova::Flavor`, { token: alice.token });
  t.ok((byType.body.namespaces as any[]).every((n) => n.resource_type_associations.some((a: any) => a.name === 'OS::Nova::Flavor')));
  t.notOk((byType.body.namespaces as any[]).some((n) => n.namespace === 'OS::Software::Guest'), 'not associated with flavors');
  const types = await http.get('/image/v2/metadefs/resource_types', { token: alice.token });
  t.ok((types.body.resource_types as any[]).some((x) => x.name === 'OS::Glance::Image'));
  t.equal((await http.delete(`${NS}/OS::Compute::CPUPinning`, { token: admin })).status, 403, 'protected: not deletable');
  t.equal((await http.delete(`${NS}/OS::Compute::CPUPinning/properties/cpu_policy`, { token: admin })).status, 403, 'nor its contents');
});

t.test('an admin builds a namespace; members read it; only admins change it', async (t) => {
  const created = await http.post(NS, {
    token: admin,
    body: { namespace: 'Test::Widgets', display_name: 'Widgets', description: 'test', visibility: 'public', properties: { widget_size: { title: 'Size', type: 'integer', minimum: 1 } } },
  });
  t.equal(created.status, 201, created.text);
  t.match(created.body, { namespace: 'Test::Widgets', visibility: 'public', protected: false, display_name: 'Widgets', self: '/v2/metadefs/namespaces/Test::Widgets' });
  t.match(created.headers.get('location'), /\/v2\/metadefs\/namespaces\/Test::Widgets$/);
  t.equal((await http.post(NS, { token: admin, body: { namespace: 'Test::Widgets' } })).status, 409, 'duplicate');
  t.equal((await http.post(NS, { token: alice.token, body: { namespace: 'Test::Mine' } })).status, 403, 'a member may not create');

  const obj = await http.post(`${NS}/Test::Widgets/objects`, { token: admin, body: { name: 'Gear', description: 'a gear', properties: { teeth: { title: 'Teeth', type: 'integer' } } } });
  t.equal(obj.status, 201, obj.text);
  t.match(obj.body, { name: 'Gear', required: [], self: '/v2/metadefs/namespaces/Test::Widgets/objects/Gear', schema: '/v2/schemas/metadefs/object' });
  t.equal((await http.post(`${NS}/Test::Widgets/objects`, { token: admin, body: { name: 'Gear' } })).status, 409);
  const upd = await http.put(`${NS}/Test::Widgets/objects/Gear`, { token: admin, body: { name: 'Cog', required: ['teeth'], properties: { teeth: { title: 'Teeth', type: 'integer' } } } });
  t.equal(upd.status, 200);
  t.same(upd.body.required, ['teeth']);
  t.equal((await http.get(`${NS}/Test::Widgets/objects/Gear`, { token: alice.token })).status, 404, 'renamed');
  t.same(((await http.get(`${NS}/Test::Widgets/objects`, { token: alice.token })).body.objects as any[]).map((o) => o.name), ['Cog']);

  const prop = await http.post(`${NS}/Test::Widgets/properties`, { token: admin, body: { name: 'colour', title: 'Colour', type: 'string', enum: ['red', 'blue'] } });
  t.equal(prop.status, 201, prop.text);
  t.same(prop.body, { name: 'colour', title: 'Colour', type: 'string', enum: ['red', 'blue'] });
  t.same((await http.get(`${NS}/Test::Widgets/properties/colour`, { token: bob.token })).body, prop.body);
  t.same(Object.keys((await http.get(`${NS}/Test::Widgets/properties`, { token: bob.token })).body.properties).sort(), ['colour', 'widget_size']);
  t.equal((await http.delete(`${NS}/Test::Widgets/properties/colour`, { token: alice.token })).status, 403, 'a member may not delete');
  t.equal((await http.delete(`${NS}/Test::Widgets/properties/colour`, { token: admin })).status, 204);
  t.equal((await http.get(`${NS}/Test::Widgets/properties/colour`, { token: admin })).status, 404);

  const tag = await http.post(`${NS}/Test::Widgets/tags/shiny`, { token: admin });
  t.equal(tag.status, 201);
  t.equal(tag.body.name, 'shiny');
  const bulk = await http.post(`${NS}/Test::Widgets/tags`, { token: admin, body: { tags: [{ name: 'a' }, { name: 'b' }] } });
  t.equal(bulk.status, 201);
  t.same(((await http.get(`${NS}/Test::Widgets/tags`, { token: alice.token })).body.tags as any[]).map((x) => x.name).sort(), ['a', 'b'], 'replaced');
  await http.post(`${NS}/Test::Widgets/tags`, { token: admin, body: { tags: [{ name: 'c' }] }, headers: { 'X-Openstack-Append': 'true' } });
  t.same(((await http.get(`${NS}/Test::Widgets/tags`, { token: alice.token })).body.tags as any[]).map((x) => x.name).sort(), ['a', 'b', 'c'], 'appended');
  t.equal((await http.put(`${NS}/Test::Widgets/tags/a`, { token: admin, body: { name: 'z' } })).body.name, 'z');
  t.equal((await http.delete(`${NS}/Test::Widgets/tags`, { token: admin })).status, 204);
  t.same((await http.get(`${NS}/Test::Widgets/tags`, { token: alice.token })).body.tags, []);

  const rta = await http.post(`${NS}/Test::Widgets/resource_types`, { token: admin, body: { name: 'OS::Nova::Flavor', prefix: 'widget:' } });
  t.equal(rta.status, 201);
  t.match(rta.body, { name: 'OS::Nova::Flavor', prefix: 'widget:' });
  t.same(((await http.get(`${NS}/Test::Widgets/resource_types`, { token: alice.token })).body.resource_type_associations as any[]).map((a) => a.name), ['OS::Nova::Flavor']);
  await http.post(`${NS}/Test::Widgets/resource_types`, { token: admin, body: { name: 'Test::Gizmo' } });
  t.ok(((await http.get('/image/v2/metadefs/resource_types', { token: alice.token })).body.resource_types as any[]).some((x) => x.name === 'Test::Gizmo'), 'a new resource type by association');
  t.equal((await http.delete(`${NS}/Test::Widgets/resource_types/OS::Nova::Flavor`, { token: admin })).status, 204);

  const put = await http.put(`${NS}/Test::Widgets`, { token: admin, body: { namespace: 'Test::Gadgets', visibility: 'public', protected: true, description: 'renamed' } });
  t.equal(put.status, 200, put.text);
  t.match(put.body, { namespace: 'Test::Gadgets', protected: true, description: 'renamed' });
  t.notOk('display_name' in put.body, 'a full update drops what it leaves out');
  t.equal((await http.get(`${NS}/Test::Gadgets/objects/Cog`, { token: alice.token })).status, 200, 'contents kept');
  t.equal((await http.delete(`${NS}/Test::Gadgets`, { token: admin })).status, 403, 'now protected');
  await http.put(`${NS}/Test::Gadgets`, { token: admin, body: { namespace: 'Test::Gadgets', protected: false } });
  t.equal((await http.delete(`${NS}/Test::Gadgets`, { token: admin })).status, 204);
  t.equal((await http.get(`${NS}/Test::Gadgets`, { token: admin })).status, 404);
});

t.test('a private namespace is its owner project’s only', async (t) => {
  const r = await http.post(NS, { token: admin, body: { namespace: 'Test::Private', owner: alice.projectId } });
  t.equal(r.status, 201);
  t.equal(r.body.visibility, 'private', 'private by default');
  t.equal((await http.get(`${NS}/Test::Private`, { token: alice.token })).status, 200, 'the owner project sees it');
  const hidden = await http.get(`${NS}/Test::Private`, { token: bob.token });
  t.equal(hidden.status, 404, 'another project does not');
  t.equal(fault(hidden)?.code, 404);
  t.equal((await http.get(`${NS}/Test::Private/objects`, { token: bob.token })).status, 404);
  t.notOk(((await http.get(NS, { token: bob.token })).body.namespaces as any[]).some((n) => n.namespace === 'Test::Private'));
  t.ok(((await http.get(`${NS}?visibility=private`, { token: alice.token })).body.namespaces as any[]).some((n) => n.namespace === 'Test::Private'));
});

t.test('refusals: bad bodies and parameters', async (t) => {
  const bad = async (path: string, body: unknown) => (await http.post(path, { token: admin, body })).status;
  t.equal(await bad(NS, {}), 400, 'no namespace name');
  t.equal(await bad(NS, { namespace: 'x'.repeat(81) }), 400, 'too long');
  t.equal(await bad(NS, { namespace: 'Test::Bad', visibility: 'shared' }), 400, 'not a metadef visibility');
  t.equal(await bad(NS, { namespace: 'Test::Bad', surprise: 1 }), 400, 'unknown field');
  await http.post(NS, { token: admin, body: { namespace: 'Test::Bodies' } });
  t.equal(await bad(`${NS}/Test::Bodies/properties`, { name: 'p', type: 'string' }), 400, 'a property needs a title');
  t.equal(await bad(`${NS}/Test::Bodies/properties`, { name: 'p', title: 'P', type: 'color' }), 400, 'unknown property type');
  t.equal(await bad(`${NS}/Test::Bodies/objects`, { name: 'o', properties: { q: { type: 'string' } } }), 400);
  t.equal(await bad(`${NS}/Test::Bodies/tags`, { tags: [{ name: 'a' }, { name: 'a' }] }), 409, 'duplicate tags');
  t.equal(await bad(`${NS}/Nope::Nope/objects`, { name: 'o' }), 404);
  t.equal((await http.get(`${NS}?limit=x`, { token: admin })).status, 400);
  t.equal((await http.get(`${NS}?visibility=shared`, { token: admin })).status, 400);
  const page = await http.get(`${NS}?limit=2`, { token: admin });
  t.equal(page.body.namespaces.length, 2);
  t.match(page.body.next, /marker=/);
  const next = await http.get(`/image${page.body.next}`, { token: admin });
  t.notOk((next.body.namespaces as any[]).some((n) => page.body.namespaces.some((p: any) => p.namespace === n.namespace)), 'the next page goes on');
});

t.test('the metadef schemas', async (t) => {
  for (const name of ['namespace', 'namespaces', 'object', 'objects', 'property', 'properties', 'tag', 'tags', 'resource_type', 'resource_types']) {
    const r = await http.get(`/image/v2/schemas/metadefs/${name}`, { token: alice.token });
    t.equal(r.status, 200, name);
    t.ok(r.body.name && r.body.properties, `${name} is a named schema`);
  }
  t.match((await http.get('/image/v2/schemas/metadefs/namespace', { token: alice.token })).body.properties.visibility, { anyOf: [{ const: 'public' }, { const: 'private' }] });
});
