import t from 'tap';
import { parseClaim, parseRelease, parseSelect, parseSelectBatch, MAX_BATCH } from '../../actors/scheduler/select-request.js';
import { parseHints } from '../../protocols/hints.js';

const U = '11111111-2222-4333-8444-555555555555';
const V = '66666666-7777-4888-9999-000000000000';
const select = (over: Record<string, unknown> = {}) => ({
  instanceUuid: U, projectId: 'p1', resources: { VCPU: 1, MEMORY_MB: 512, DISK_GB: 1 },
  flavor: { id: '1', name: 'm1.tiny' }, image: { id: V }, ...over,
});

t.test('a select request is validated into a typed one', async (t) => {
  const r = parseSelect(select({ instanceUuid: U.toUpperCase(), schedulerHints: { group: V }, count: 3 }));
  t.equal(r.instanceUuid, U, 'uuids are lower-cased');
  t.same(r.flavor, { id: '1', name: 'm1.tiny', extraSpecs: {} });
  t.same(r.image, { id: V, properties: {} });
  t.same(r.schedulerHints, { group: V });
  t.equal(r.availabilityZone, null);
  t.equal(r.count, 3);
  const bad: [string, Record<string, unknown>, RegExp][] = [
    ['unknown field', select({ color: 'red' }), /unknown field/],
    ['bad uuid', select({ instanceUuid: 'nope' }), /must be a UUID/],
    ['negative resource', select({ resources: { VCPU: -1, MEMORY_MB: 1, DISK_GB: 1 } }), /VCPU/],
    ['missing resource', select({ resources: { VCPU: 1, MEMORY_MB: 1 } }), /DISK_GB/],
    ['no flavor', select({ flavor: null }), /flavor and image/],
    ['ignoreHosts not a list', select({ ignoreHosts: 'h1' }), /ignoreHosts/],
    ['count too big', select({ count: 50 }), /count/],
  ];
  for (const [what, body, message] of bad) t.throws(() => parseSelect(body), { code: 400, message }, what);
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
  t.same(parseClaim({ instanceUuid: U, projectId: 'p', host: 'h1', resources: { VCPU: 1, MEMORY_MB: 2, DISK_GB: 3 } }), {
    instanceUuid: U, projectId: 'p', host: 'h1', resources: { VCPU: 1, MEMORY_MB: 2, DISK_GB: 3 },
  });
  t.throws(() => parseClaim({ instanceUuid: U, projectId: 'p', resources: {} }), { code: 400 });
  t.equal(parseRelease({ instanceUuid: U }), U);
  t.throws(() => parseRelease({ instanceUuid: 'x' }), { code: 400 });
  t.equal(parseSelectBatch({ requests: [select(), select({ instanceUuid: V })] }).length, 2);
  t.throws(() => parseSelectBatch({ requests: [select(), select()] }), { message: /once/ }, 'duplicate instance');
  t.throws(() => parseSelectBatch({ requests: [] }), { code: 400 }, 'empty');
  t.throws(() => parseSelectBatch({ requests: Array.from({ length: MAX_BATCH + 1 }, select) }), { code: 400 }, 'too many');
});
