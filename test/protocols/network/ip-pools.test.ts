import t from 'tap';
import fc from 'fast-check';
import { parseCidr, parseIp, formatAddress, type Cidr } from '../../../protocols/network/ip.js';
import {
  checkPools, checkSubnetIp, cutAddress, defaultGateway, defaultPools, formatRange, gatewayError, parseAllocationPools,
  prepareAllocationPools, rangeSize, usableBounds, validatePools, type IpRange,
} from '../../../protocols/network/ip-pools.js';

const cidr = (s: string): Cidr => parseCidr(s)!.cidr;
const ip = (s: string): bigint => parseIp(s)!.value;
const range = (a: string, b: string): IpRange => ({ start: ip(a), end: ip(b) });
const show = (c: Cidr, pools: IpRange[]) => pools.map((p) => formatRange(c.version, p));

t.test('default gateway', async (t) => {
  const gw = (s: string) => {
    const c = cidr(s);
    const g = defaultGateway(c);
    return g === null ? null : formatAddress(c.version, g);
  };
  t.equal(gw('192.168.0.0/24'), '192.168.0.1');
  t.equal(gw('10.0.0.0/8'), '10.0.0.1');
  t.equal(gw('10.0.0.0/30'), '10.0.0.1');
  t.equal(gw('10.0.0.0/31'), null, 'IPv4 /31: no room');
  t.equal(gw('10.0.0.5/32'), null, 'IPv4 /32: no room');
  t.equal(gw('2001:db8::/64'), '2001:db8::', 'IPv6: the subnet-router anycast address, as Neutron since Train');
  t.equal(gw('2001:db8::/127'), '2001:db8::');
  t.equal(gw('2001:db8::1/128'), '2001:db8::1');
});

t.test("default pools: Neutron's generate_pools cases", async (t) => {
  const pools = (s: string, gateway: string | null) => {
    const c = cidr(s);
    return show(c, defaultPools(c, gateway === null ? null : ip(gateway)));
  };
  // neutron/tests/unit/ipam/test_utils.py
  t.same(pools('192.168.0.0/24', null), ['192.168.0.1-192.168.0.254']);
  t.same(pools('192.168.0.0/24', '192.168.0.1'), ['192.168.0.2-192.168.0.254'], 'gateway first');
  t.same(pools('192.168.0.0/24', '192.168.0.254'), ['192.168.0.1-192.168.0.253'], 'gateway last');
  t.same(pools('192.168.0.0/24', '192.168.0.128'), ['192.168.0.1-192.168.0.127', '192.168.0.129-192.168.0.254'], 'gateway in the middle splits');
  t.same(pools('192.168.0.0/32', null), ['192.168.0.0-192.168.0.0'], '/32: its one address');
  t.same(pools('192.168.0.0/32', '192.168.0.0'), ['192.168.0.0-192.168.0.0'], '/32: even when it is the gateway');
  t.same(pools('192.168.0.0/31', null), ['192.168.0.0-192.168.0.1'], '/31: both addresses');
  t.same(pools('192.168.0.0/31', '192.168.0.1'), ['192.168.0.0-192.168.0.0']);
  t.same(pools('192.168.0.0/30', null), ['192.168.0.1-192.168.0.2']);
  t.same(pools('f111::/64', null), ['f111::1-f111::ffff:ffff:ffff:ffff'], 'IPv6: only the network address left out');
  t.same(pools('::/64', null), ['::1-::ffff:ffff:ffff:ffff']);
  t.same(pools('2001:db8::/64', '2001:db8::'), ['2001:db8::1-2001:db8::ffff:ffff:ffff:ffff'], 'the default IPv6 gateway lies outside the pool');
  t.same(pools('2001:db8::/64', '2001:db8::1'), ['2001:db8::2-2001:db8::ffff:ffff:ffff:ffff']);
  t.same(pools('2001:db8::/127', null), ['2001:db8::1-2001:db8::1']);
  t.same(pools('2001:db8::/127', '2001:db8::1'), []);
  t.same(pools('2001:db8::7/128', null), ['2001:db8::7-2001:db8::7']);
  t.same(pools('10.0.0.0/24', '192.168.0.1'), ['10.0.0.1-10.0.0.254'], 'a gateway off the subnet cuts nothing');
});

t.test('default pools hold every usable address but the gateway', async (t) => {
  const arb = fc.record({ last: fc.integer({ min: 0, max: 255 }), prefix: fc.integer({ min: 23, max: 32 }), gwOffset: fc.option(fc.integer({ min: -2, max: 600 })) });
  fc.assert(fc.property(arb, ({ last, prefix, gwOffset }) => {
    const c = cidr(`10.0.1.${last}/${prefix}`);
    const gateway = gwOffset === null ? null : c.network + BigInt(gwOffset);
    const pools = defaultPools(c, gateway);
    const bounds = usableBounds(c);
    const size = c.prefix === 32 ? 1n : rangeSize(bounds) - (gateway !== null && gateway >= bounds.start && gateway <= bounds.end ? 1n : 0n);
    const total = pools.reduce((n, p) => n + rangeSize(p), 0n);
    const sorted = pools.every((p, i) => i === 0 || pools[i - 1]!.end + 1n < p.start);
    const excludesGateway = c.prefix === 32 || gateway === null || pools.every((p) => gateway < p.start || gateway > p.end);
    return total === size && sorted && excludesGateway && checkPools(c, pools, c.prefix === 32 ? null : gateway) === undefined;
  }));
  t.pass('holds');
});

t.test('cutAddress', async (t) => {
  t.same(cutAddress([{ start: 1n, end: 1n }], 1n), []);
  t.same(cutAddress([{ start: 1n, end: 3n }], 1n), [{ start: 2n, end: 3n }]);
  t.same(cutAddress([{ start: 1n, end: 3n }], 3n), [{ start: 1n, end: 2n }]);
  t.same(cutAddress([{ start: 1n, end: 3n }], 2n), [{ start: 1n, end: 1n }, { start: 3n, end: 3n }]);
  t.same(cutAddress([{ start: 1n, end: 3n }], 9n), [{ start: 1n, end: 3n }]);
  t.equal(rangeSize({ start: 5n, end: 4n }), 0n);
  t.equal(rangeSize({ start: 0n, end: (1n << 64n) - 1n }), 1n << 64n);
});

t.test("pool checks, in Neutron's words", async (t) => {
  const c = cidr('10.0.0.0/24');
  const cases: [string, IpRange[], string | null, string | undefined][] = [
    ['fine', [range('10.0.0.2', '10.0.0.100')], '10.0.0.1', undefined],
    ['fine, several', [range('10.0.0.2', '10.0.0.9'), range('10.0.0.20', '10.0.0.254')], '10.0.0.1', undefined],
    ['the whole usable range', [range('10.0.0.1', '10.0.0.254')], null, undefined],
    ['the network address', [range('10.0.0.0', '10.0.0.10')], null,
      'The allocation pool 10.0.0.0-10.0.0.10 spans beyond the subnet cidr 10.0.0.0/24.'],
    ['the broadcast address', [range('10.0.0.200', '10.0.0.255')], null,
      'The allocation pool 10.0.0.200-10.0.0.255 spans beyond the subnet cidr 10.0.0.0/24.'],
    ['outside', [range('10.0.1.1', '10.0.1.9')], null,
      'The allocation pool 10.0.1.1-10.0.1.9 spans beyond the subnet cidr 10.0.0.0/24.'],
    ['start after end', [range('10.0.0.9', '10.0.0.2')], null, 'The allocation pool 10.0.0.9-10.0.0.2 is not valid.'],
    ['overlapping', [range('10.0.0.2', '10.0.0.9'), range('10.0.0.30', '10.0.0.40'), range('10.0.0.9', '10.0.0.20')], null,
      'Found overlapping allocation pools: 10.0.0.2-10.0.0.9 10.0.0.9-10.0.0.20 for subnet 10.0.0.0/24.'],
    ['adjacent is not overlapping', [range('10.0.0.2', '10.0.0.9'), range('10.0.0.10', '10.0.0.20')], null, undefined],
    ['the gateway inside', [range('10.0.0.2', '10.0.0.9'), range('10.0.0.10', '10.0.0.20')], '10.0.0.15',
      'Gateway ip 10.0.0.15 conflicts with allocation pool 10.0.0.10-10.0.0.20.'],
    ['bounds before overlap', [range('10.0.0.2', '10.0.0.9'), range('10.0.0.5', '10.0.0.255')], null,
      'The allocation pool 10.0.0.5-10.0.0.255 spans beyond the subnet cidr 10.0.0.0/24.'],
    ['overlap before the gateway', [range('10.0.0.2', '10.0.0.9'), range('10.0.0.5', '10.0.0.6')], '10.0.0.5',
      'Found overlapping allocation pools: 10.0.0.2-10.0.0.9 10.0.0.5-10.0.0.6 for subnet 10.0.0.0/24.'],
  ];
  for (const [what, pools, gateway, want] of cases) t.equal(validatePools(c, pools, gateway === null ? null : ip(gateway)), want, what);

  t.same(checkPools(c, [range('10.0.0.2', '10.0.0.9'), range('10.0.0.5', '10.0.0.6')], null)?.status, 409, 'overlap is a Conflict');
  t.same(checkPools(c, [range('10.0.0.2', '10.0.0.9')], ip('10.0.0.5'))?.type, 'GatewayConflictWithAllocationPools');
  t.same(checkPools(c, [range('10.0.0.2', '10.0.0.9')], ip('10.0.0.5'))?.status, 409);
  t.same(checkPools(c, [range('10.0.0.0', '10.0.0.9')], null)?.status, 400);

  const small = cidr('10.0.0.0/31');
  t.equal(validatePools(small, [range('10.0.0.0', '10.0.0.1')], null), undefined, '/31 pools may use both addresses');
  const v6 = cidr('2001:db8::/64');
  t.equal(validatePools(v6, [range('2001:db8::', '2001:db8::5')], null),
    'The allocation pool 2001:db8::-2001:db8::5 spans beyond the subnet cidr 2001:db8::/64.', 'IPv6: the network address is out');
  t.equal(validatePools(v6, [range('2001:db8::ffff:ffff:ffff:0', '2001:db8::ffff:ffff:ffff:ffff')], null), undefined, 'IPv6: the last address is in');
  t.equal(checkPools(v6, [{ version: 4, start: ip('10.0.0.1'), end: ip('10.0.0.5') }], null)?.message,
    'The allocation pool 10.0.0.1-10.0.0.5 is not valid.', 'a pool of the other version');
});

t.test('parsing allocation_pools from a request', async (t) => {
  t.same(parseAllocationPools([{ start: '10.0.0.2', end: '10.0.0.9' }, { end: '2001:DB8::9', start: '2001:db8::1' }]), {
    pools: [{ version: 4, start: ip('10.0.0.2'), end: ip('10.0.0.9') }, { version: 6, start: ip('2001:db8::1'), end: ip('2001:db8::9') }],
  });
  t.same(parseAllocationPools(null), { pools: [] }, 'null is no pools, as Neutron converts it');
  t.same(parseAllocationPools([]), { pools: [] });
  const format = { type: 'InvalidInput', status: 400, message: 'Invalid input for operation: Invalid data format for allocation pools.' };
  for (const raw of ['10.0.0.2-10.0.0.9', 5, true, { start: '10.0.0.2' }, ['10.0.0.2'], [null], [[1]]]) {
    t.same(parseAllocationPools(raw), format, JSON.stringify(raw));
  }
  const reason = (r: string) => ({ type: 'HTTPBadRequest', status: 400, message: `Invalid input for allocation_pools. Reason: ${r}.` });
  t.same(parseAllocationPools([{ start: '10.0.0.2' }]),
    reason("Validation of dictionary's keys failed. Expected keys: {'start', 'end'} Provided keys: {'start'}"));
  t.same(parseAllocationPools([{ start: '10.0.0.2', end: '10.0.0.3', size: 2 }]),
    reason("Validation of dictionary's keys failed. Expected keys: {'start', 'end'} Provided keys: {'start', 'end', 'size'}"));
  t.same(parseAllocationPools([{}]), reason("Validation of dictionary's keys failed. Expected keys: {'start', 'end'} Provided keys: set()"));
  t.same(parseAllocationPools([{ start: '10.0.0.2', end: 'ten' }]), reason("'ten' is not a valid IP address"));
  t.same(parseAllocationPools([{ start: 10, end: '10.0.0.3' }]), reason("'10' is not a valid IP address"));
  t.same(parseAllocationPools([{ start: '10.0.0.02', end: '10.0.0.3' }]), reason("'10.0.0.02' is not an accepted IP address, '10.0.0.2' is recommended"));
  t.same(parseAllocationPools([{ start: '10.0.0.9', end: '10.0.0.2' }]),
    { type: 'InvalidAllocationPool', status: 400, message: "The allocation pool {'start': '10.0.0.9', 'end': '10.0.0.2'} is not valid." });
  t.same(parseAllocationPools([{ end: '::2', start: '10.0.0.1' }]),
    { type: 'InvalidAllocationPool', status: 400, message: "The allocation pool {'end': '::2', 'start': '10.0.0.1'} is not valid." },
    'mixed versions, shown as sent (the key order kept)');
  t.same(parseAllocationPools([{ start: '2001:DB8::9', end: '2001:0db8::2' }]),
    { type: 'InvalidAllocationPool', status: 400, message: "The allocation pool {'start': '2001:db8::9', 'end': '2001:db8::2'} is not valid." },
    'IPv6 values shown canonical, as Neutron converts them first');
});

t.test("prepareAllocationPools: Neutron's _prepare_allocation_pools", async (t) => {
  const c = cidr('10.0.0.0/24');
  t.same(prepareAllocationPools(c, undefined, ip('10.0.0.1')), { pools: [range('10.0.0.2', '10.0.0.254')] }, 'unspecified: the defaults');
  t.same(prepareAllocationPools(c, [{ start: '10.0.0.10', end: '10.0.0.20' }], ip('10.0.0.1')), { pools: [range('10.0.0.10', '10.0.0.20')] });
  t.same(prepareAllocationPools(c, null, ip('10.0.0.1')), { pools: [] });
  t.equal((prepareAllocationPools(c, [{ start: '10.0.0.10', end: '10.0.0.20' }], ip('10.0.0.15')) as { message: string }).message,
    'Gateway ip 10.0.0.15 conflicts with allocation pool 10.0.0.10-10.0.0.20.');
  t.equal((prepareAllocationPools(c, [{ start: '2001:db8::1', end: '2001:db8::5' }], null) as { message: string }).message,
    'The allocation pool 2001:db8::1-2001:db8::5 is not valid.', 'a pool of the other version than the subnet');
  t.equal((prepareAllocationPools(c, 'x', null) as { type: string }).type, 'InvalidInput');
});

t.test('gateway and fixed IP checks', async (t) => {
  const c = cidr('10.0.0.0/8');
  // neutron/tests/unit/ipam/test_utils.py test_check_gateway_invalid_in_subnet
  t.equal(gatewayError(c, ip('10.0.0.1')), undefined);
  t.equal(gatewayError(c, ip('10.255.255.255')), 'Invalid input for operation: Gateway is not valid on subnet.');
  t.equal(gatewayError(c, ip('10.0.0.0')), 'Invalid input for operation: Gateway is not valid on subnet.');
  t.equal(gatewayError(c, ip('192.168.100.10')), undefined, 'off the subnet is taken as on-link');
  t.equal(gatewayError(cidr('2001:db8::/64'), ip('2001:db8::')), undefined, 'IPv6 may use the network address');

  const v4 = cidr('1.1.1.0/24');
  t.notOk(checkSubnetIp(v4, ip('1.1.1.0')));
  t.notOk(checkSubnetIp(v4, ip('1.1.1.255')));
  t.ok(checkSubnetIp(v4, ip('1.1.1.1')));
  t.ok(checkSubnetIp(v4, ip('1.1.1.254')));
  t.notOk(checkSubnetIp(v4, ip('1.1.2.1')));
  const v6 = cidr('f111::/64');
  for (const owner of ['', 'network:router_interface', 'network:router_gateway', 'network:router_centralized_snat']) {
    t.ok(checkSubnetIp(v6, ip('f111::'), owner), `network address for ${JSON.stringify(owner)}`);
  }
  t.notOk(checkSubnetIp(v6, ip('f111::'), 'compute:nova'), 'not for a server');
  t.ok(checkSubnetIp(v6, ip('f111::ffff:ffff:ffff:ffff'), 'compute:nova'), 'IPv6 has no broadcast');
  t.notOk(checkSubnetIp(v6, ip('f112::50')));
});
