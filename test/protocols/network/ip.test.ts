import t from 'tap';
import fc from 'fast-check';
import {
  cidrContains, cidrOverlaps, cidrSize, firstAddress, formatCidr, formatIp, ipAddressError, lastAddress,
  maxAddress, parseCidr, parseIp, prefixMask, subnetError, type Cidr, type IpAddress,
} from '../../../protocols/network/ip.js';

const v4 = (value: bigint): IpAddress => ({ version: 4, value });
const v6 = (value: bigint): IpAddress => ({ version: 6, value });

t.test('IPv4: dotted quads only', async (t) => {
  const ok: [string, bigint][] = [
    ['0.0.0.0', 0n], ['255.255.255.255', 0xffffffffn], ['10.0.0.1', 0x0a000001n], ['192.168.1.0', 0xc0a80100n],
    ['1.2.3.4', 0x01020304n], ['100.64.0.0', 0x64400000n],
  ];
  for (const [s, v] of ok) t.same(parseIp(s), v4(v), s);
  const bad = [
    '010.0.0.1', '10.0.0.01', '00.0.0.0', '256.0.0.1', '1.2.3.256', '1.2.3', '1.2.3.4.5', '1..2.3', '.1.2.3',
    '1.2.3.', '1.2.3.-4', '+1.2.3.4', '0x1.2.3.4', '1.2.3.4 ', ' 1.2.3.4', '1.2.3.4\n', '1.2.3.4/32', '',
    '4294967295', '1.2.3.4%eth0', '1e2.0.0.0', '١.2.3.4',
  ];
  for (const s of bad) t.equal(parseIp(s), undefined, JSON.stringify(s));
});

t.test('IPv6: the RFC 4291 text forms', async (t) => {
  const ok: [string, bigint][] = [
    ['::', 0n],
    ['::1', 1n],
    ['1::', 1n << 112n],
    ['2001:db8::1', 0x20010db8000000000000000000000001n],
    ['2001:DB8:0:0:0:0:0:1', 0x20010db8000000000000000000000001n],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', 0x20010db8000000000000000000000001n],
    ['ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', (1n << 128n) - 1n],
    ['FE80::AbCd', 0xfe80000000000000000000000000abcdn],
    ['1:2:3:4:5:6:7::', 0x00010002000300040005000600070000n],
    ['::2:3:4:5:6:7:8', 0x00000002000300040005000600070008n],
    ['1::8', 0x00010000000000000000000000000008n],
    ['::ffff:1.2.3.4', 0xffff01020304n],
    ['::FFFF:255.255.255.255', 0xffffffffffffn],
    ['::1.2.3.4', 0x01020304n],
    ['1:2:3:4:5:6:1.2.3.4', 0x00010002000300040005000601020304n],
    ['1::5:6:1.2.3.4', 0x00010000000000000005000601020304n],
    ['0:0:0:0:0:0:0:0', 0n],
    ['ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255', (1n << 128n) - 1n],
  ];
  for (const [s, v] of ok) t.same(parseIp(s), v6(v), s);
  const bad = [
    ':', ':::', '1:::2', '1::2::3', ':1::', '::1:', '1:2:3:4:5:6:7', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7:8::',
    '::1:2:3:4:5:6:7:8', '12345::', 'g::', '::ffff:1.2.3', '::ffff:01.2.3.4', '::ffff:256.1.1.1', '1.2.3.4::',
    '::1.2.3.4:5', '1:2:3:4:5:6:7:1.2.3.4', 'fe80::1%eth0', 'fe80::1%1', ' ::1', '::1 ', ':: 1', '[::1]',
    '::1/128', '0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0:0', '0000:0000:0000:0000:0000:0000:000.000.000.000x',
  ];
  for (const s of bad) t.equal(parseIp(s), undefined, JSON.stringify(s));
  t.equal(parseIp('0000:0000:0000:0000:0000:0000:0000:00001'), undefined, 'over 45 characters');
  t.equal(parseIp(42 as unknown as string), undefined, 'not a string');
});

t.test('IPv6 canonical text (RFC 5952)', async (t) => {
  const cases: [string, string][] = [
    ['2001:DB8:0:0:0:0:0:1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first of two equal runs
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero group is not compressed
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['0:1:0:0:0:0:0:0', '0:1::'],
    ['::ffff:102:304', '::ffff:1.2.3.4'], // IPv4-mapped in mixed notation
    ['::ffff:0:0', '::ffff:0.0.0.0'],
    ['::1.2.3.4', '::102:304'], // only the mapped form is shown dotted
    ['0:0:0:0:0:fffe:102:304', '::fffe:102:304'],
    ['fe80:0000:0000:0000:0204:61ff:fe9d:f156', 'fe80::204:61ff:fe9d:f156'],
    ['abcd:ef01:2345:6789:abcd:ef01:2345:6789', 'abcd:ef01:2345:6789:abcd:ef01:2345:6789'],
  ];
  for (const [input, want] of cases) t.equal(formatIp(parseIp(input)!), want, input);
  t.equal(formatIp(v4(0x0a000001n)), '10.0.0.1');
});

const anyV6 = fc.bigInt({ min: 0n, max: maxAddress(6) }).map(v6);
const anyV4 = fc.bigInt({ min: 0n, max: maxAddress(4) }).map(v4);
// Addresses with zero runs, where compression choices are made.
const sparseV6 = fc.array(fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 })
  .map((ws) => v6(ws.reduce((v, w) => (v << 16n) | BigInt(w), 0n)));

t.test('parse(format(a)) is a, for every 128-bit and 32-bit value', async (t) => {
  fc.assert(fc.property(fc.oneof(anyV6, sparseV6, anyV4), (a) => {
    const s = formatIp(a);
    return s.length <= 45 && parseIp(s)?.value === a.value && parseIp(s)?.version === a.version;
  }), { numRuns: 3000 });
  t.pass('round trip holds');
});

/** Every text form of an address: groups with or without leading zeros, any case, any zero run compressed, a trailing dotted quad. */
const spelledV6 = sparseV6.chain((a) => {
  const words: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) words.push(Number((a.value >> shift) & 0xffffn));
  return fc.record({
    pad: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
    upper: fc.array(fc.boolean(), { minLength: 8, maxLength: 8 }),
    run: fc.option(fc.tuple(fc.integer({ min: 0, max: 7 }), fc.integer({ min: 1, max: 8 }))),
    dotted: fc.boolean(),
  }).map(({ pad, upper, run, dotted }) => {
    const groups = words.map((w, i) => {
      const h = pad[i] ? w.toString(16).padStart(4, '0') : w.toString(16);
      return upper[i] ? h.toUpperCase() : h;
    });
    const quad = `${words[6]! >> 8}.${words[6]! & 255}.${words[7]! >> 8}.${words[7]! & 255}`;
    // With a dotted quad the last part stands for two words.
    const parts = dotted ? [...groups.slice(0, 6), quad] : groups;
    const hexCount = dotted ? 6 : 8;
    let s = parts.join(':');
    if (run) {
      const start = run[0] % hexCount;
      const end = Math.min(start + run[1], hexCount);
      if (words.slice(start, end).every((w) => w === 0)) s = `${parts.slice(0, start).join(':')}::${parts.slice(end).join(':')}`;
    }
    return { a, s };
  });
});

t.test('every spelling of an address parses to it, and format(parse(x)) is idempotent', async (t) => {
  fc.assert(fc.property(spelledV6, ({ a, s }) => {
    const p = parseIp(s);
    if (!p || p.value !== a.value) return false;
    const canon = formatIp(p);
    return formatIp(parseIp(canon)!) === canon;
  }), { numRuns: 3000 });
  t.pass('spellings agree');
});

t.test('format(parse(x)) is idempotent on arbitrary text', async (t) => {
  const alphabet = fc.constantFrom(...'0123456789abcdefABCDEF:.'.split(''));
  fc.assert(fc.property(fc.string({ unit: alphabet, maxLength: 45 }), (s) => {
    const p = parseIp(s);
    if (!p) return true;
    const once = formatIp(p);
    return formatIp(parseIp(once)!) === once;
  }), { numRuns: 5000 });
  t.pass('idempotent');
});

t.test('CIDR parsing', async (t) => {
  t.same(parseCidr('10.0.0.0/24'), { cidr: { version: 4, network: 0x0a000000n, prefix: 24 }, hostBitsSet: false });
  t.same(parseCidr('10.0.0.5/24'), { cidr: { version: 4, network: 0x0a000000n, prefix: 24 }, hostBitsSet: true });
  t.same(parseCidr('0.0.0.0/0'), { cidr: { version: 4, network: 0n, prefix: 0 }, hostBitsSet: false });
  t.same(parseCidr('1.2.3.4/0'), { cidr: { version: 4, network: 0n, prefix: 0 }, hostBitsSet: true });
  t.same(parseCidr('10.0.0.7/32'), { cidr: { version: 4, network: 0x0a000007n, prefix: 32 }, hostBitsSet: false });
  t.same(parseCidr('2001:DB8::1/64'), { cidr: { version: 6, network: 0x20010db8n << 96n, prefix: 64 }, hostBitsSet: true });
  t.same(parseCidr('::/0'), { cidr: { version: 6, network: 0n, prefix: 0 }, hostBitsSet: false });
  t.same(parseCidr('::1/128'), { cidr: { version: 6, network: 1n, prefix: 128 }, hostBitsSet: false });
  for (const s of ['10.0.0.0', '10.0.0.0/33', '10.0.0.0/024', '10.0.0.0/-1', '10.0.0.0/', '/24', '10.0.0.0/24/1',
    '10.0.0.0/ 24', '10.0.0.0/255.255.255.0', '::/129', '010.0.0.0/8', '10.0.0.0/+8', '2001:db8::/64 ']) {
    t.equal(parseCidr(s), undefined, s);
  }
});

t.test('CIDR arithmetic', async (t) => {
  const c = parseCidr('192.168.0.0/22')!.cidr;
  t.equal(cidrSize(c), 1024n);
  t.equal(firstAddress(c), 0xc0a80000n);
  t.equal(lastAddress(c), 0xc0a803ffn);
  t.equal(formatCidr(c), '192.168.0.0/22');
  t.ok(cidrContains(c, parseIp('192.168.3.255')!.value));
  t.notOk(cidrContains(c, parseIp('192.168.4.0')!.value));
  t.notOk(cidrContains(c, parseIp('192.167.255.255')!.value));
  const v6net = parseCidr('2001:db8::/64')!.cidr;
  t.equal(cidrSize(v6net), 1n << 64n);
  t.equal(formatIp(v6(lastAddress(v6net))), '2001:db8::ffff:ffff:ffff:ffff');
  t.equal(cidrSize(parseCidr('::/0')!.cidr), 1n << 128n);
  t.equal(formatCidr(parseCidr('2001:0DB8:0000::/48')!.cidr), '2001:db8::/48');
  t.equal(prefixMask(4, 24), 0xffffff00n);
  t.equal(prefixMask(4, 0), 0n);
  t.equal(prefixMask(6, 128), maxAddress(6));

  const p = (s: string) => parseCidr(s)!.cidr;
  t.ok(cidrOverlaps(p('10.0.0.0/8'), p('10.1.0.0/16')));
  t.ok(cidrOverlaps(p('10.1.0.0/16'), p('10.0.0.0/8')));
  t.ok(cidrOverlaps(p('10.0.0.0/24'), p('10.0.0.0/24')));
  t.notOk(cidrOverlaps(p('10.0.0.0/24'), p('10.0.1.0/24')));
  t.notOk(cidrOverlaps(p('0.0.0.0/0'), p('::/0')), 'never across versions');
  t.ok(cidrOverlaps(p('::/0'), p('2001:db8::/32')));
});

t.test('overlap is what sharing an address means', async (t) => {
  const smallCidr = fc.record({ network: fc.integer({ min: 0, max: 255 }), prefix: fc.integer({ min: 24, max: 32 }) })
    .map(({ network, prefix }): Cidr => parseCidr(`10.0.0.${network}/${prefix}`)!.cidr);
  fc.assert(fc.property(smallCidr, smallCidr, (a, b) => {
    let shared = false;
    for (let ip = firstAddress(a); ip <= lastAddress(a); ip++) if (cidrContains(b, ip)) shared = true;
    return cidrOverlaps(a, b) === shared && cidrOverlaps(b, a) === shared;
  }));
  t.pass('agrees with enumeration');
});

t.test("Neutron's validator messages", async (t) => {
  t.equal(ipAddressError('10.0.0.1'), undefined);
  t.equal(ipAddressError('2001:db8::1'), undefined);
  t.equal(ipAddressError('010.000.0.01'), "'010.000.0.01' is not an accepted IP address, '10.0.0.1' is recommended");
  t.equal(ipAddressError('0300.0.0.0'), "'0300.0.0.0' is not a valid IP address", 'still over 255 after dropping zeros');
  t.equal(ipAddressError('1.2.3'), "'1.2.3' is not a valid IP address");
  t.equal(ipAddressError('10.0.0.1 '), "'10.0.0.1 ' is not a valid IP address");
  t.equal(ipAddressError('fe80::1%eth0'), "'fe80::1%eth0' is not a valid IP address");
  t.equal(ipAddressError(null), "'None' is not a valid IP address");
  t.equal(ipAddressError(5), "'5' is not a valid IP address");
  t.equal(subnetError('10.0.0.0/24'), undefined);
  t.equal(subnetError('10.0.0.0'), "'10.0.0.0' is not a valid IP subnet");
  t.equal(subnetError('10.0.0.0/33'), "'10.0.0.0/33' is not a valid IP subnet");
});
