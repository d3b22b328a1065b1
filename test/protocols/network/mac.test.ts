import t from 'tap';
import fc from 'fast-check';
import { DEFAULT_BASE_MAC, macError, macFromBase, parseMac } from '../../../protocols/network/mac.js';

t.test('parseMac normalises and refuses', async (t) => {
  const ok: [string, string][] = [
    ['fa:16:3e:00:00:01', 'fa:16:3e:00:00:01'],
    ['FA:16:3E:AB:CD:EF', 'fa:16:3e:ab:cd:ef'],
    ['fa-16-3e-ab-cd-ef', 'fa:16:3e:ab:cd:ef'],
    ['2:0:0:0:0:1', '02:00:00:00:00:01'],
    ['00:00:00:00:00:01', '00:00:00:00:00:01'],
    ['fe:ff:ff:ff:ff:ff', 'fe:ff:ff:ff:ff:ff'],
  ];
  for (const [s, want] of ok) t.equal(parseMac(s), want, s);
  const bad = [
    '00:00:00:00:00:00', 'ff:ff:ff:ff:ff:ff', 'FF-FF-FF-FF-FF-FF', '01:00:5e:00:00:01', '33:33:00:00:00:01', 'fb:16:3e:00:00:01',
    'fa:16:3e:00:00', 'fa:16:3e:00:00:01:02', 'fa:16:3e-00:00:01', 'fa:16:3e:000:00:01', 'fa:16:3e:00:00:0g', ' fa:16:3e:00:00:01',
    'fa:16:3e:00:00:01 ', 'fa163e000001', 'fa16.3e00.0001', '', 'fa::3e:00:00:01',
  ];
  for (const s of bad) t.equal(parseMac(s), undefined, JSON.stringify(s));
  t.equal(parseMac(5 as unknown as string), undefined, 'not a string');
  t.equal(parseMac('01:00:5e:00:00:01', { refuseMulticast: false }), '01:00:5e:00:00:01', 'multicast when asked, as Neutron accepts');
  t.equal(parseMac('ff:ff:ff:ff:ff:ff', { refuseMulticast: false }), undefined, 'broadcast never');
  t.equal(macError('fa:16:3e:00:00:01'), undefined);
  t.equal(macError('00:00:00:00:00:00'), "'00:00:00:00:00:00' is not a valid MAC address");
  t.equal(macError(null), "'None' is not a valid MAC address");
});

t.test('parse is idempotent and case/separator blind', async (t) => {
  const octets = fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 6, maxLength: 6 });
  fc.assert(fc.property(octets, fc.constantFrom(':', '-'), fc.boolean(), (os, sep, upper) => {
    const text = os.map((o) => o.toString(16).padStart(2, '0')).join(sep);
    const p = parseMac(upper ? text.toUpperCase() : text);
    const refused = os.every((o) => o === 0) || os.every((o) => o === 255) || (os[0]! & 1) === 1;
    if (refused) return p === undefined;
    return p === os.map((o) => o.toString(16).padStart(2, '0')).join(':') && parseMac(p) === p;
  }));
  t.pass('holds');
});

/** A random source that hands out the given bytes and records what it was asked. */
function source(bytes: number[]) {
  const asked: number[] = [];
  let at = 0;
  return {
    asked,
    next: (n: number) => {
      asked.push(n);
      const out = Uint8Array.from(bytes.slice(at, at + n));
      at += n;
      return out;
    },
  };
}

t.test("macFromBase: Neutron's base_mac rule", async (t) => {
  const s = source([0xab, 0xcd, 0xef]);
  t.equal(macFromBase(DEFAULT_BASE_MAC, s.next), 'fa:16:3e:ab:cd:ef', 'the default base keeps three octets');
  t.same(s.asked, [3]);
  const s4 = source([0x01, 0x02]);
  t.equal(macFromBase('fa:16:3e:4f:00:00', s4.next), 'fa:16:3e:4f:01:02', 'a fourth octet other than 00 is kept');
  t.same(s4.asked, [2]);
  t.equal(macFromBase('FA-16-3E-00-12-34', source([9, 8, 7]).next), 'fa:16:3e:09:08:07', 'the fifth and sixth are always random');
  t.throws(() => macFromBase('nope', source([1, 2, 3]).next), /base_mac 'nope' is not a MAC address/);
  t.throws(() => macFromBase(DEFAULT_BASE_MAC, () => new Uint8Array(1)), /returned 1 bytes/);
  fc.assert(fc.property(fc.uint8Array({ minLength: 3, maxLength: 3 }), (bytes) => {
    const a = macFromBase(DEFAULT_BASE_MAC, () => bytes);
    const b = macFromBase(DEFAULT_BASE_MAC, () => bytes);
    return a === b && a.startsWith('fa:16:3e:') && parseMac(a) === a;
  }));
  t.pass('deterministic for a given source, and always a valid unicast address under the default base');
});
