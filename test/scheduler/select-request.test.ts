import t from 'tap';
import { normaliseBatch, normaliseSelect, MAX_BATCH } from '../../actors/scheduler/select-request.js';
import { Claim, Release, Select, SelectBatch, firstError } from '../../protocols/catalog/index.js';
import { parseHints } from '../../protocols/hints.js';

const U = '11111111-2222-4333-8444-555555555555';
const V = '66666666-7777-4888-9999-000000000000';
const select = (over: Record<string, unknown> = {}) => ({
  instanceUuid: U, projectId: 'p1', resources: { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 },
  flavor: { id: '1', name: 'm1.tiny' }, image: { id: V }, ...over,
});

t.test('a select request is validated by its schema, then normalised', async (t) => {
  const body = select({ instanceUuid: U.toUpperCase(), schedulerHints: { group: V }, count: 3 });
  t.ok(Select.checkBody.Check(body));
  const r = normaliseSelect(body as never);
  t.equal(r.instanceUuid, U, 'uuids are lower-cased');
  t.same(r.flavor, { id: '1', name: 'm1.tiny', extraSpecs: {} });
  t.same(r.image, { id: V, properties: {} });
  t.same(r.schedulerHints, { group: V });
  t.equal(r.availabilityZone, null);
  t.same(r.ignoreHosts, []);
  t.equal(r.count, 3);
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['unknown field', select({ color: 'red' }), /^\/color/],
    ['bad uuid', select({ instanceUuid: 'nope' }), /^\/instanceUuid/],
    ['negative resource', select({ resources: { VCPU: -1, MEMORY_MB: 1, DISK_GB: 1 } }), /VCPU/],
    ['huge resource', select({ resources: { VCPU: 1e9, MEMORY_MB: 1, DISK_GB: 1 } }), /VCPU/],
    ['missing resource', select({ resources: { VCPU: 1, MEMORY_MB: 1 } }), /DISK_GB/],
    ['no flavor', select({ flavor: null }), /^\/flavor/],
    ['ignoreHosts not a list', select({ ignoreHosts: 'h1' }), /ignoreHosts/],
    ['count too big', select({ count: 50 }), /count/],
    ['unknown hint', select({ schedulerHints: { build_near_host_ip: '10.0.0.1' } }), /schedulerHints/],
  ];
  for (const [what, body, message] of bad) {
    t.notOk(Select.checkBody.Check(body), what);
    t.match(firstError(Select.checkBody, body), message, what);
  }
});

t.test('scheduler hints', async (t) => {
  t.same(parseHints(undefined), {});
  t.same(parseHints({ same_host: [U, V], different_host: U }), { same_host: [U, V], different_host: U });
  t.throws(() => parseHints({ group: [U] }), { message: /one server group/ });
  t.throws(() => parseHints({ same_host: [] }), { message: /UUID/ });
  t.throws(() => parseHints({ same_host: 'host-1' }), { message: /UUID/ });
  t.throws(() => parseHints({ build_near_host_ip: '10.0.0.1' }), { message: /unknown field/ });
});

t.test('claims, releases, batches', async (t) => {
  t.ok(Claim.checkBody.Check({ instanceUuid: U, projectId: 'p', host: 'h1', resources: { VCPU: 1, MEMORY_MB: 2, DISK_GB: 3 } }));
  t.notOk(Claim.checkBody.Check({ instanceUuid: U, projectId: 'p', resources: {} }));
  t.notOk(Claim.checkBody.Check({ instanceUuid: U, projectId: 'p', host: 'a.b', resources: { VCPU: 1, MEMORY_MB: 2, DISK_GB: 3 } }), 'no dots in a host');
  t.ok(Release.checkBody.Check({ instanceUuid: U }));
  t.notOk(Release.checkBody.Check({ instanceUuid: 'x' }));
  const two = { requests: [select(), select({ instanceUuid: V })] };
  t.ok(SelectBatch.checkBody.Check(two));
  t.equal(normaliseBatch(two as never).length, 2);
  t.throws(() => normaliseBatch({ requests: [select(), select()] } as never), { message: /once/ }, 'duplicate instance');
  t.notOk(SelectBatch.checkBody.Check({ requests: [] }), 'empty');
  t.notOk(SelectBatch.checkBody.Check({ requests: Array.from({ length: MAX_BATCH + 1 }, () => select()) }), 'too many');
});
