/**
 * The Networking REST layer's pure parts, without a cluster: Neutron's fault bodies, the request
 * bodies as Neutron's API layer reads them (single and bulk creates, updates, tags, router
 * interfaces, quota limits), the query bounds, paging links and the `.json` suffix.
 */
import fc from 'fast-check';
import t from 'tap';
import { ApiError, faultReply } from '../../actors/api/faults.js';
import { createBody, interfaceBody, noBody, quotaBody, tagsBody, updateBody } from '../../actors/api/network/bodies.js';
import { EXTENSIONS } from '../../actors/api/network/extensions.js';
import { withoutJsonSuffix } from '../../actors/api/network/json-suffix.js';
import { QUERY_BOUNDS, boundedQuery, expandFields, fieldsOf } from '../../actors/api/network/net-request.js';
import { pageLinks } from '../../actors/api/network/page-links.js';
import { InternalError, NotFoundError, TimeoutError, UnavailableError } from '../../protocols/errors.js';
import { forbiddenBy, inConflict, notFoundOf } from '../../protocols/network/errors.js';
import { KINDS } from '../../protocols/network/resources.js';

/** The NeutronError of what `fn` throws, as the REST layer would answer it. */
function thrown(fn: () => unknown): { status: number; type: string; message: string } {
  try {
    fn();
  } catch (err) {
    const f = faultReply(err, 'neutron');
    const e = f.body.NeutronError as { type: string; message: string };
    return { status: f.status, type: e.type, message: e.message };
  }
  throw new Error('nothing thrown');
}

t.test('Neutron fault bodies: a typed error keeps its type, others are named by status', async (t) => {
  t.same(faultReply(notFoundOf('network', 'n1'), 'neutron').body, { NeutronError: { type: 'NetworkNotFound', message: 'Network n1 could not be found.', detail: '' } });
  t.same(faultReply(inConflict('in use', 'NetworkInUse'), 'neutron').body.NeutronError, { type: 'NetworkInUse', message: 'in use', detail: '' });
  t.same(faultReply(forbiddenBy('create_network'), 'neutron').body.NeutronError, { type: 'PolicyNotAuthorized', message: '(rule:create_network) is disallowed by policy', detail: '' });
  t.same(faultReply(new NotFoundError('gone'), 'neutron').body, { NeutronError: { type: 'HTTPNotFound', message: 'gone', detail: '' } }, 'untyped: by status');
  const cases: [number, string][] = [[400, 'HTTPBadRequest'], [401, 'HTTPUnauthorized'], [403, 'HTTPForbidden'], [404, 'HTTPNotFound'], [405, 'HTTPMethodNotAllowed'], [406, 'HTTPNotAcceptable'], [408, 'HTTPRequestTimeout'], [409, 'HTTPConflict'], [413, 'HTTPRequestEntityTooLarge'], [415, 'HTTPUnsupportedMediaType'], [501, 'HTTPNotImplemented']];
  for (const [code, type] of cases) {
    const f = faultReply(new ApiError(code, 'm'), 'neutron');
    t.equal(f.status, code);
    t.same(f.body, { NeutronError: { type, message: 'm', detail: '' } }, `${code} → ${type}`);
  }
});

t.test('Neutron fault bodies: a 5xx tells nothing of its cause, whatever type it claims', async (t) => {
  const unexpected = faultReply(new Error('SELECT * FROM secret'), 'neutron', 'req-1');
  t.equal(unexpected.status, 500);
  t.ok(unexpected.unexpected);
  t.same(unexpected.body, { NeutronError: { type: 'HTTPInternalServerError', message: 'Request Failed: internal server error while processing your request.', detail: '', request_id: 'req-1' } });
  const typed = faultReply(Object.assign(new InternalError('relation "net" does not exist'), { details: { type: 'DBError' } }), 'neutron');
  t.equal((typed.body.NeutronError as { type: string }).type, 'HTTPInternalServerError', 'a 5xx type is the status’s');
  t.notMatch(JSON.stringify(typed.body), /relation/);
  t.equal(typed.hidden, 'relation "net" does not exist', 'kept for the log');
  t.equal((faultReply(new UnavailableError('nats down'), 'neutron').body.NeutronError as { type: string }).type, 'HTTPServiceUnavailable');
  t.equal((faultReply(new TimeoutError('slow'), 'neutron').body.NeutronError as { type: string }).type, 'HTTPGatewayTimeout');
});

t.test('Neutron fault bodies: Fastify’s malformed JSON is Neutron’s "Body contains invalid data"', async (t) => {
  const f = faultReply(Object.assign(new SyntaxError('Unexpected token'), { statusCode: 400 }), 'neutron');
  t.same(f.body, { NeutronError: { type: 'HTTPBadRequest', message: 'Body contains invalid data', detail: '' } });
  t.equal(faultReply(Object.assign(new Error('x'), { code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413 }), 'neutron').status, 413);
  t.same(faultReply(Object.assign(new SyntaxError('Unexpected token'), { statusCode: 400 }), 'nova').body, { badRequest: { code: 400, message: 'Malformed request body' } }, 'Nova’s wording unchanged');
});

const net = KINDS.network;

t.test('create bodies: one resource, or a bulk list of bare or wrapped items', async (t) => {
  t.same(createBody(net, { network: { name: 'a' } }), { bulk: false, items: [{ name: 'a' }] });
  t.same(createBody(net, { networks: [{ name: 'a' }, { network: { name: 'b' } }] }), { bulk: true, items: [{ name: 'a' }, { name: 'b' }] });
  t.same(createBody(KINDS.security_group, { security_groups: [{ name: 'g' }] }).items, [{ name: 'g' }], 'the collection key is the list body’s');
  const bad: [unknown, string][] = [
    [undefined, "Unable to find 'network' in request body"],
    [{}, "Unable to find 'network' in request body"],
    [{ port: {} }, "Unable to find 'network' in request body"],
    [[1, 2], 'Body contains invalid data'],
    ['text', 'Body contains invalid data'],
    [{ network: 'x' }, "Object 'network' contains invalid data"],
    [{ network: [] }, "Object 'network' contains invalid data"],
    [{ networks: [] }, 'Resources required'],
    [{ networks: {} }, 'Body contains invalid data'],
    [{ networks: [{ name: 'a' }, 3] }, 'Body contains invalid data'],
    [{ networks: [{ network: null }] }, "Object 'network' contains invalid data"],
  ];
  for (const [body, message] of bad) t.same(thrown(() => createBody(net, body)), { status: 400, type: 'HTTPBadRequest', message }, JSON.stringify(body) ?? 'no body');
});

t.test('update bodies: one resource only; a DELETE has none', async (t) => {
  t.same(updateBody(net, { network: { name: 'b' } }), { name: 'b' });
  t.same(updateBody(net, { network: {} }), {}, 'nothing to change is the role’s to accept');
  t.equal(thrown(() => updateBody(net, { networks: [{ name: 'b' }] })).message, 'Bulk operation not supported');
  t.equal(thrown(() => updateBody(net, undefined)).message, "Unable to find 'network' in request body");
  t.equal(thrown(() => updateBody(net, { network: 1 })).message, "Object 'network' contains invalid data");
  noBody(undefined);
  t.same(thrown(() => noBody({})), { status: 400, type: 'HTTPBadRequest', message: 'Request body is not supported in DELETE.' });
});

t.test('tag bodies: unique strings of at most 255 characters, at most 50', async (t) => {
  t.same(tagsBody(net, { tags: ['a', 'b'] }), ['a', 'b']);
  t.same(tagsBody(net, { tags: [] }), []);
  t.same(tagsBody(net, { tags: Array.from({ length: 50 }, (_, i) => `t${i}`) }).length, 50);
  t.same(thrown(() => tagsBody(net, { tag: ['a'] })), { status: 400, type: 'InvalidInput', message: 'Invalid input for operation: Invalid tags body.' });
  t.equal(thrown(() => tagsBody(net, { tags: 'a' })).message, "Invalid input for operation: 'a' is not a list.");
  t.equal(thrown(() => tagsBody(net, { tags: [1] })).message, "Invalid input for operation: '1' is not a valid string.");
  t.equal(thrown(() => tagsBody(net, { tags: ['a', 'b', 'a'] })).message, "Invalid input for operation: Duplicate items in the list: 'a'.");
  t.match(thrown(() => tagsBody(net, { tags: ['x'.repeat(256)] })).message, /exceeds maximum length of 255/);
  t.same(thrown(() => tagsBody(net, { tags: Array.from({ length: 51 }, (_, i) => `t${i}`) })), { status: 400, type: 'BadRequest', message: 'Bad networks request: The number of tags exceed the per-resource limit of 50.' });
});

const U1 = '0b2f2c5e-6a55-4a0d-9c1a-3d2f1e0c9b8a';
const U2 = '5d1e7c3a-2b4f-4e6d-8a9c-0f1e2d3c4b5a';

t.test('router interface bodies: a subnet or a port (both only when removing), UUIDs', async (t) => {
  t.same(interfaceBody({ subnet_id: U1 }, false), { subnetId: U1 });
  t.same(interfaceBody({ port_id: U2 }, false), { portId: U2 });
  t.same(interfaceBody({ subnet_id: U1, port_id: U2 }, true), { subnetId: U1, portId: U2 });
  t.same(thrown(() => interfaceBody({ subnet_id: U1, port_id: U2 }, false)), { status: 400, type: 'BadRequest', message: 'Bad router request: Cannot specify both subnet-id and port-id.' });
  t.equal(thrown(() => interfaceBody({}, false)).message, 'Bad router request: Either subnet_id or port_id must be specified.');
  t.equal(thrown(() => interfaceBody(undefined, true)).message, 'Bad router request: Either subnet_id or port_id must be specified.');
  t.equal(thrown(() => interfaceBody({ subnet_id: 'nope' }, false)).message, "Bad router request: 'nope' is not a valid UUID.");
  t.equal(thrown(() => interfaceBody({ port_id: 7 }, true)).message, "Bad router request: '7' is not a valid UUID.");
  t.equal(thrown(() => interfaceBody([U1], false)).message, 'Body contains invalid data');
});

t.test('quota bodies: integers (or their text) from -1 to 2^31-1', async (t) => {
  t.same(quotaBody({ quota: { network: 10, port: '20', router: -1 } }), { network: 10, port: 20, router: -1 });
  t.same(quotaBody({ quota: {} }), {});
  t.equal(thrown(() => quotaBody({ quota: { network: 'ten' } })).message, "Invalid input for operation: 'ten' is not an integer.");
  t.equal(thrown(() => quotaBody({ quota: { network: 1.5 } })).type, 'InvalidInput');
  t.equal(thrown(() => quotaBody({ quota: { network: true } })).type, 'InvalidInput');
  t.equal(thrown(() => quotaBody({ quota: { network: -2 } })).message, "Invalid input for network. Reason: '-2' is too small - must be at least '-1'.");
  t.equal(thrown(() => quotaBody({ quota: { port: 2 ** 31 } })).message, "Invalid input for port. Reason: '2147483648' is too large - must be no larger than '2147483647'.");
  t.equal(thrown(() => quotaBody({ limits: {} })).message, "Unable to find 'quota' in request body");
  t.match(thrown(() => quotaBody({ quota: { ['r'.repeat(65)]: 1 } })).message, /^Unrecognized attribute\(s\) 'r+'$/);
  t.equal(thrown(() => quotaBody({ quota: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`r${i}`, 1])) })).message, "Unrecognized attribute(s) 'r16'");
});

t.test('queries: passed as parsed within the catalog’s bounds; a show reads only `fields`', async (t) => {
  t.same(boundedQuery({ name: 'a', fields: ['id', 'name'], gone: undefined, '': 'x' }), { name: 'a', fields: ['id', 'name'] });
  t.same(fieldsOf({ name: 'a', fields: ['id'] }), { fields: ['id'] });
  t.same(fieldsOf({ name: 'a' }), {});
  const own = boundedQuery(JSON.parse('{"__proto__": "x"}'));
  t.equal(Object.getPrototypeOf(own), Object.prototype, 'a __proto__ key stays a key');
  t.equal(Object.keys(own).length, 1);
  const many = Object.fromEntries(Array.from({ length: QUERY_BOUNDS.keys + 1 }, (_, i) => [`k${i}`, 'v']));
  t.equal(thrown(() => boundedQuery(many)).status, 400);
  t.equal(thrown(() => boundedQuery({ k: Array.from({ length: 65 }, () => 'v') })).status, 400);
  t.equal(thrown(() => boundedQuery({ k: 'v'.repeat(1025) })).status, 400);
  t.equal(thrown(() => boundedQuery({ ['k'.repeat(256)]: 'v' })).status, 400);
});

t.test('`fields` sent as one Python list or tuple (Debian’s openstack CLI) is read as the names it lists', async (t) => {
  t.same(expandFields({ fields: "['id', 'name', 'description', 'project_id', 'tags']" }), { fields: ['id', 'name', 'description', 'project_id', 'tags'] });
  t.same(expandFields({ fields: "('id', 'mac_address', 'fixed_ips')", limit: '2' }), { fields: ['id', 'mac_address', 'fixed_ips'], limit: '2' });
  t.same(expandFields({ fields: "('id',)" }), { fields: ['id'] });
  t.same(expandFields({ fields: ['id', "['name']"] }), { fields: ['id', 'name'] });
  t.same(expandFields({ fields: ['[x]', "['a' 'b']", "['a', b]"] }), { fields: ['[x]', "['a' 'b']", "['a', b]"] }, 'anything else is a name as it is');
  t.same(expandFields({ name: "['a']" }), { name: "['a']" }, 'only `fields`');
});

t.test('paging links: next after the last, previous before the first, the rest of the query kept', async (t) => {
  const self = 'http://h/networking/v2.0/ports';
  t.same(pageLinks(self, 'limit=2&name=a%20b', { next: 'p2', previous: 'p1' }), [
    { rel: 'next', href: `${self}?limit=2&name=a+b&marker=p2` },
    { rel: 'previous', href: `${self}?limit=2&name=a+b&marker=p1&page_reverse=True` },
  ]);
  t.same(pageLinks(self, 'marker=old&page_reverse=True&limit=1', { next: 'n' }), [{ rel: 'next', href: `${self}?limit=1&marker=n` }], 'the old marker and direction are dropped');
  t.same(pageLinks(self, 'limit=5', {}), []);
  t.same(pageLinks(self, 'limit=5', { next: null, previous: null }), []);
  fc.assert(fc.property(
    fc.array(fc.tuple(fc.constantFrom('limit', 'name', 'fields', 'marker', 'page_reverse', 'sort_key'), fc.string({ maxLength: 8 })), { maxLength: 8 }),
    fc.string({ minLength: 1, maxLength: 12 }),
    (pairs, marker) => {
      const search = new URLSearchParams(pairs).toString();
      const [next, previous] = pageLinks(self, search, { next: marker, previous: marker });
      const kept = pairs.filter(([k]) => k !== 'marker' && k !== 'page_reverse');
      const n = new URL(next!.href).searchParams;
      const p = new URL(previous!.href).searchParams;
      return n.getAll('marker').length === 1 && n.get('marker') === marker && !n.has('page_reverse')
        && p.get('marker') === marker && p.getAll('page_reverse').join() === 'True'
        && JSON.stringify([...n].filter(([k]) => k !== 'marker')) === JSON.stringify(kept)
        && JSON.stringify([...p].filter(([k]) => k !== 'marker' && k !== 'page_reverse')) === JSON.stringify(kept);
    },
  ));
});

t.test('the `.json` suffix is dropped from networking paths only', async (t) => {
  t.equal(withoutJsonSuffix('/networking/v2.0/networks.json'), '/networking/v2.0/networks');
  t.equal(withoutJsonSuffix('/networking/v2.0/ports/p1.json?fields=id'), '/networking/v2.0/ports/p1?fields=id');
  t.equal(withoutJsonSuffix('/networking/v2.0/ports?name=x.json'), '/networking/v2.0/ports?name=x.json', 'a query value is not a suffix');
  t.equal(withoutJsonSuffix('/v2.1/servers.json'), '/v2.1/servers.json', 'not on compute paths');
  t.equal(withoutJsonSuffix('/image/v2/images/a.json'), '/image/v2/images/a.json');
});

t.test('extensions: unique aliases, each with Neutron’s name, description and timestamp', async (t) => {
  const aliases = EXTENSIONS.map((e) => e.alias);
  t.equal(new Set(aliases).size, aliases.length);
  for (const must of ['external-net', 'router', 'security-group', 'quotas', 'availability_zone', 'standard-attr-tag', 'pagination', 'sorting']) t.ok(aliases.includes(must), must);
  t.equal(EXTENSIONS.find((e) => e.alias === 'availability_zone')!.name, 'Availability Zone', 'the name the openstack CLI looks up');
  for (const e of EXTENSIONS) t.match(e.updated, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d-\d\d:\d\d$/, `${e.alias} updated`);
});
