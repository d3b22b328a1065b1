import t from 'tap';
import { ApiError } from '../../actors/api/faults.js';
import { MAX_VERSION, atLeast, formatVersion, requestedVersion, versionHeaders } from '../../actors/api/microversion.js';

const v = (h: Record<string, string>) => formatVersion(requestedVersion(h));
const refused = (h: Record<string, string>) => {
  try {
    requestedVersion(h);
    return undefined;
  } catch (err) {
    return err instanceof ApiError ? err.code : -1;
  }
};

t.test('the version a request asks for', async (t) => {
  t.equal(v({}), '2.1', 'none: the minimum');
  t.equal(v({ 'openstack-api-version': 'compute 2.47' }), '2.47');
  t.equal(v({ 'openstack-api-version': 'image 2.5, compute 2.60' }), '2.60', 'the compute entry of a list');
  t.equal(v({ 'openstack-api-version': 'image 2.5' }), '2.1', 'no compute entry: the default');
  t.equal(v({ 'openstack-api-version': 'compute latest' }), formatVersion(MAX_VERSION));
  t.equal(v({ 'x-openstack-nova-api-version': '2.10' }), '2.10', 'the legacy header');
  t.equal(v({ 'openstack-api-version': 'compute 2.20', 'x-openstack-nova-api-version': '2.10' }), '2.20', 'the new header wins');
});

t.test('malformed is 400, out of range 406', async (t) => {
  for (const bad of ['compute 2', 'compute two', 'compute 2.1.1', 'compute 02.1', 'compute 2.01', 'compute', 'compute 2.1 extra']) {
    t.equal(refused({ 'openstack-api-version': bad }), 400, bad);
  }
  for (const out of ['compute 2.0', 'compute 2.91', 'compute 3.0', 'compute 1.5']) t.equal(refused({ 'openstack-api-version': out }), 406, out);
  t.equal(refused({ 'x-openstack-nova-api-version': '9.9' }), 406);
});

t.test('gates and headers', async (t) => {
  const at = (s: string) => requestedVersion({ 'openstack-api-version': `compute ${s}` });
  t.ok(atLeast(at('2.47'), 47));
  t.notOk(atLeast(at('2.46'), 47));
  t.ok(atLeast(at('2.10'), 9), 'minor versions compare as numbers, not strings');
  t.same(versionHeaders(at('2.53')), {
    'OpenStack-API-Version': 'compute 2.53',
    'X-OpenStack-Nova-API-Version': '2.53',
    Vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version',
  });
});
