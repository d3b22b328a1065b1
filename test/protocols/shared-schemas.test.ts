/**
 * The REST routes and the catalog verbs they call validate metadata with the same schemas
 * (protocols/catalog/common.ts): whatever Fastify's Ajv lets through a route is what the verb's
 * compiled check accepts, and the other way round, so an edge and its verb cannot drift apart.
 */
import t from 'tap';
import Fastify from 'fastify';
import { AJV_OPTIONS } from '../../actors/api/app.js';
import type { ApiDeps } from '../../actors/api/deps.js';
import { aggregateRoutes } from '../../actors/api/compute/aggregates.js';
import { flavorRoutes } from '../../actors/api/compute/flavors.js';
import { CREATE_SCHEMA } from '../../actors/api/compute/server-create.js';
import { serverMetadataRoutes } from '../../actors/api/compute/server-metadata.js';
import { AggregateSetMetadata, Build, FlavorSetSpecs, InstanceUpdate, StringMap } from '../../protocols/catalog/index.js';
import { TypeCompiler } from '@sinclair/typebox/compiler';

// Fastify with the API's validator options: each route's body schema on a route of its own.
const app = Fastify({ ajv: { customOptions: AJV_OPTIONS } });
t.teardown(() => app.close());
let routeCount = 0;
type Check = (body: unknown) => Promise<boolean>;
const validator = (schema: unknown): Check => {
  const url = `/r${routeCount++}`;
  app.post(url, { schema: { body: schema as object } }, async () => ({ ok: true }));
  return async (body) => {
    const r = await app.inject({ method: 'POST', url, payload: body as object });
    if (r.statusCode !== 200 && r.statusCode !== 400) throw new Error(`unexpected ${r.statusCode}`);
    return r.statusCode === 200;
  };
};
const deps = {} as ApiDeps;
const bodyOf = (routes: ReturnType<typeof flavorRoutes>, method: string, url: string): Check => {
  const r = routes.find((x) => x.method === method && x.url === url);
  if (!r?.schema?.body) throw new Error(`no ${method} ${url} with a body schema`);
  return validator(r.schema.body);
};

const long = 'x'.repeat(256);
const MAPS: Record<string, unknown> = {
  plain: { role: 'web', 'a:b.c-d_e f': '1' },
  empty: {},
  slashKey: { 'a/b': '1' },
  emptyKey: { '': '1' },
  longKey: { [long]: '1' },
  longValue: { k: long },
  numberValue: { k: 1 },
  nullValue: { k: null },
};

const pairs = [
  { what: 'server metadata (PUT)', rest: bodyOf(serverMetadataRoutes(deps), 'PUT', '/v2.1/servers/:id/metadata'), wrap: (m: unknown) => ({ metadata: m }), verb: (m: unknown) => InstanceUpdate.checkBody.Check({ setMetadata: m }) },
  { what: 'server metadata (POST)', rest: bodyOf(serverMetadataRoutes(deps), 'POST', '/v2.1/servers/:id/metadata'), wrap: (m: unknown) => ({ metadata: m }), verb: (m: unknown) => InstanceUpdate.checkBody.Check({ mergeMetadata: m }) },
  {
    what: 'server create metadata', rest: validator(CREATE_SCHEMA), wrap: (m: unknown) => ({ server: { name: 'vm', flavorRef: '1', metadata: m } }),
    verb: (m: unknown) => Build.checkBody.Check({ name: 'vm', flavorRef: '1', imageRef: 'i', metadata: m }),
  },
  { what: 'flavor extra specs', rest: bodyOf(flavorRoutes(deps), 'POST', '/v2.1/flavors/:id/os-extra_specs'), wrap: (m: unknown) => ({ extra_specs: m }), verb: (m: unknown) => FlavorSetSpecs.checkBody.Check({ id: '1', specs: m }) },
  { what: 'aggregate metadata', rest: bodyOf(aggregateRoutes(deps), 'POST', '/v2.1/os-aggregates/:id/action'), wrap: (m: unknown) => ({ set_metadata: { metadata: m } }), verb: (m: unknown) => AggregateSetMetadata.checkBody.Check({ id: 1, metadata: m }) },
];

t.test('each route accepts exactly the metadata its verb accepts', async (t) => {
  for (const p of pairs) {
    const verdicts: Record<string, boolean> = {};
    for (const [name, m] of Object.entries(MAPS)) {
      const rest = await p.rest(p.wrap(m));
      t.equal(rest, p.verb(m), `${p.what}: ${name} — REST and catalog agree`);
      verdicts[name] = rest;
    }
    const aggregate = p.what === 'aggregate metadata';
    t.same(verdicts, {
      plain: true, empty: true, slashKey: aggregate, emptyKey: false, longKey: false, longValue: false, numberValue: false, nullValue: aggregate,
    }, `${p.what}: Nova's shape`);
  }
});

t.test('a string map bounds its keys (TypeBox drops a Record key\'s maxLength)', async (t) => {
  const c = TypeCompiler.Compile(StringMap(4, 3, 3));
  t.ok(c.Check({ abc: 'xyz' }));
  t.notOk(c.Check({ abcd: 'x' }), 'a key over its bound');
  t.notOk(c.Check({ a: 'wxyz' }), 'a value over its bound');
});
