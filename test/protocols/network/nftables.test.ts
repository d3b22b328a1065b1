/** A port's security groups as an nftables rule set, as data (test/hosts/libvirt-port-firewall.test.ts loads them into a kernel). */
import t from 'tap';
import fc from 'fast-check';
import { linkLocal, portTableName, renderPortRemoval, renderPortRuleset, ruleMatch, type PortFirewall, type PortRule } from '../../../protocols/network/nftables.js';
import { parseCidr, parseIp } from '../../../protocols/network/ip.js';
import { macOctets } from '../../../protocols/network/mac.js';
import { defaultSecurityGroupRules, normalizeRule } from '../../../protocols/network/security-group-rules.js';
import { hostileString } from '../../fuzz/lib/hostile.js';

const PORT = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const GROUP = '6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d';
const rule = (body: Record<string, unknown>): PortRule => {
  const r = normalizeRule(body);
  if (!('rule' in r)) throw new Error(r.error);
  return r.rule;
};
const port: PortFirewall = {
  portId: PORT, mac: 'FA:16:3E:0A:1B:2C', fixedIps: ['10.0.0.5', 'fd00::5'], portSecurityEnabled: true,
  rules: [...defaultSecurityGroupRules(GROUP), rule({ direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22 })],
  remoteGroups: { [GROUP]: ['10.0.0.5', '10.0.0.6', 'fd00::5'] },
};

t.test('the whole rule set of a port in the default group with ssh open', async (t) => {
  t.equal(renderPortRuleset(port), `table inet novact-port-${PORT}
delete table inet novact-port-${PORT}
table inet novact-port-${PORT} {
\tchain forward {
\t\ttype filter hook forward priority filter; policy accept;
\t\toifname "tap0a1b2c3d-4e" jump sg-ingress
\t\tiifname "tap0a1b2c3d-4e" jump sg-egress
\t}
\tchain input {
\t\ttype filter hook input priority filter; policy accept;
\t\tiifname "tap0a1b2c3d-4e" jump sg-egress
\t}
\tchain output {
\t\ttype filter hook output priority filter; policy accept;
\t\toifname "tap0a1b2c3d-4e" jump sg-ingress
\t}
\tchain sg-ingress {
\t\ticmpv6 type { nd-neighbor-solicit, nd-neighbor-advert, nd-router-advert, mld-listener-query } accept
\t\tmeta nfproto ipv4 udp sport 67 udp dport 68 accept
\t\tmeta nfproto ipv6 udp sport 547 udp dport 546 accept
\t\tct state invalid drop
\t\tct state established,related accept
\t\tmeta nfproto ipv4 ip saddr { 10.0.0.5, 10.0.0.6 } accept
\t\tmeta nfproto ipv6 ip6 saddr fd00::5 accept
\t\tmeta nfproto ipv4 meta l4proto 6 th dport 22 accept
\t\tcounter drop
\t}
\tchain sg-egress {
\t\tmeta nfproto ipv4 udp sport 68 udp dport 67 accept
\t\tip6 saddr :: icmpv6 type { mld-listener-report, nd-neighbor-solicit, mld2-listener-report } accept
\t\tether saddr . ip saddr != { fa:16:3e:0a:1b:2c . 10.0.0.5 } counter drop
\t\tether saddr . ip6 saddr != { fa:16:3e:0a:1b:2c . fd00::5, fa:16:3e:0a:1b:2c . fe80::f816:3eff:fe0a:1b2c } counter drop
\t\tmeta nfproto ipv4 udp sport 67 udp dport 68 drop
\t\tmeta nfproto ipv6 udp sport 547 udp dport 546 drop
\t\ticmpv6 type nd-router-advert drop
\t\ticmpv6 type { nd-router-solicit, nd-neighbor-solicit, nd-neighbor-advert, mld-listener-report, mld2-listener-report } accept
\t\tmeta nfproto ipv6 udp sport 546 udp dport 547 accept
\t\tct state invalid drop
\t\tct state established,related accept
\t\tmeta nfproto ipv4 accept
\t\tmeta nfproto ipv6 accept
\t\tcounter drop
\t}
}
`);
  t.equal(renderPortRuleset(port), renderPortRuleset(structuredClone(port)), 'a pure function of the port');
});

t.test('each rule\'s match', async (t) => {
  const cases: [Record<string, unknown>, string | undefined][] = [
    [{ direction: 'ingress' }, 'meta nfproto ipv4'],
    [{ direction: 'ingress', ethertype: 'IPv6' }, 'meta nfproto ipv6'],
    [{ direction: 'ingress', protocol: 'udp', port_range_min: 1000, port_range_max: 2000, remote_ip_prefix: '10.1.0.5/24' },
      'meta nfproto ipv4 ip saddr 10.1.0.0/24 meta l4proto 17 th dport 1000-2000'],
    [{ direction: 'egress', protocol: 'tcp', port_range_min: 443, port_range_max: 443, remote_ip_prefix: '192.0.2.7' },
      'meta nfproto ipv4 ip daddr 192.0.2.7 meta l4proto 6 th dport 443'],
    [{ direction: 'ingress', protocol: 'tcp', port_range_min: 1, port_range_max: 65535 }, 'meta nfproto ipv4 meta l4proto 6'],
    [{ direction: 'ingress', protocol: 'icmp', port_range_min: 8, port_range_max: 0 }, 'meta nfproto ipv4 meta l4proto 1 icmp type 8 icmp code 0'],
    [{ direction: 'ingress', protocol: 'icmp', port_range_min: 3 }, 'meta nfproto ipv4 meta l4proto 1 icmp type 3'],
    [{ direction: 'ingress', protocol: 'icmp' }, 'meta nfproto ipv4 meta l4proto 1'],
    [{ direction: 'ingress', ethertype: 'IPv6', protocol: 'icmp', port_range_min: 128 }, 'meta nfproto ipv6 meta l4proto 58 icmpv6 type 128'],
    [{ direction: 'ingress', ethertype: 'IPv6', protocol: 'sctp', port_range_min: 5, port_range_max: 6, remote_ip_prefix: 'fd01::1/64' },
      'meta nfproto ipv6 ip6 saddr fd01::/64 meta l4proto 132 th dport 5-6'],
    [{ direction: 'ingress', protocol: 'gre' }, 'meta nfproto ipv4 meta l4proto 47'],
    [{ direction: 'ingress', protocol: 112 }, 'meta nfproto ipv4 meta l4proto 112'],
    [{ direction: 'ingress', protocol: 'ip' }, 'meta nfproto ipv4'],
    [{ direction: 'ingress', protocol: 0 }, 'meta nfproto ipv4'],
    [{ direction: 'ingress', remote_ip_prefix: '0.0.0.0/0' }, 'meta nfproto ipv4'],
    [{ direction: 'ingress', ethertype: 'IPv6', remote_ip_prefix: '::/0' }, 'meta nfproto ipv6'],
    [{ direction: 'ingress', remote_group_id: GROUP }, 'meta nfproto ipv4 ip saddr { 10.0.0.0/30, 10.9.9.9 }'],
    [{ direction: 'egress', ethertype: 'IPv6', remote_group_id: GROUP }, 'meta nfproto ipv6 ip6 daddr fd00::5'],
    [{ direction: 'ingress', remote_group_id: 'd0d0d0d0-0000-4000-8000-000000000000' }, undefined],
  ];
  // Members inside another member's prefix are left out (the kernel refuses overlapping elements), duplicates too.
  const groups = { [GROUP]: ['10.0.0.1', '10.0.0.0/30', '10.0.0.2', '10.9.9.9', '10.9.9.9', 'fd00::5'] };
  for (const [body, want] of cases) t.equal(ruleMatch(rule(body), groups), want, JSON.stringify(body));
  t.equal(ruleMatch(rule({ direction: 'ingress', ethertype: 'IPv6', remote_group_id: GROUP }), { [GROUP]: ['10.0.0.5'] }), undefined,
    'a group without members of the rule\'s family matches nothing: no rule');
});

t.test('anti-spoofing: fixed IPs, allowed pairs with their MACs, link-local addresses; nested prefixes folded', async (t) => {
  const text = renderPortRuleset({
    ...port, rules: [],
    allowedAddressPairs: [
      { ip_address: '10.0.0.0/24' }, { ip_address: '10.0.0.77', mac_address: 'fa:16:3e:99:99:99' }, { ip_address: '::/0', mac_address: 'fa:16:3e:99:99:99' },
    ],
  });
  t.match(text, 'ether saddr . ip saddr != { fa:16:3e:0a:1b:2c . 10.0.0.0/24, fa:16:3e:99:99:99 . 10.0.0.77 } counter drop',
    'the fixed IP is inside the pair\'s /24: only the /24');
  t.match(text, 'ether saddr . ip6 saddr != { fa:16:3e:0a:1b:2c . fd00::5, fa:16:3e:99:99:99 . ::/0, fa:16:3e:0a:1b:2c . fe80::f816:3eff:fe0a:1b2c } counter drop',
    'the other MAC may send from anywhere over IPv6, so its link-local address is not listed again');
  const v6only = renderPortRuleset({ ...port, fixedIps: ['fd00::5'], rules: [] });
  t.match(v6only, '\t\tmeta nfproto ipv4 counter drop\n', 'no IPv4 address: no IPv4 from the guest (but DHCP, before it)');
  t.equal(linkLocal('fa:16:3e:0a:1b:2c'), 'fe80::f816:3eff:fe0a:1b2c', 'EUI-64: the universal/local bit flipped, ff:fe inserted');
  t.equal(linkLocal('00:00:00:00:00:00'), 'fe80::200:ff:fe00:0');
});

t.test('port security off: an empty table; removal; names', async (t) => {
  t.equal(renderPortRuleset({ ...port, portSecurityEnabled: false }),
    `table inet novact-port-${PORT}\ndelete table inet novact-port-${PORT}\ntable inet novact-port-${PORT} {\n\n}\n`);
  t.equal(renderPortRemoval(PORT), `table inet novact-port-${PORT}\ndelete table inet novact-port-${PORT}\n`);
  t.equal(portTableName(PORT), `novact-port-${PORT}`);
  t.throws(() => portTableName(PORT.toUpperCase()), RangeError, 'a port id is a lower-case uuid');
});

const hostile = hostileString.filter((s): s is string => typeof s === 'string');
const validAddress = (s: string) => parseIp(s) !== undefined || parseCidr(s) !== undefined;
const fields: [string, (h: string) => PortFirewall, (h: string) => boolean][] = [
  ['portId', (h) => ({ ...port, portId: h }), () => false],
  ['mac', (h) => ({ ...port, mac: h }), (h) => macOctets(h) !== undefined],
  ['fixed IP', (h) => ({ ...port, fixedIps: [h] }), validAddress],
  ['pair address', (h) => ({ ...port, allowedAddressPairs: [{ ip_address: h }] }), validAddress],
  ['pair MAC', (h) => ({ ...port, allowedAddressPairs: [{ ip_address: '10.0.0.9', mac_address: h }] }), (h) => h === '' || macOctets(h) !== undefined],
  ['group member', (h) => ({ ...port, remoteGroups: { [GROUP]: [h] } }), validAddress],
  ['remote prefix', (h) => ({ ...port, rules: [{ ...rule({ direction: 'ingress' }), remote_ip_prefix: h }] }), validAddress],
];

t.test('tenant text never reaches the rule set: a value that is not what its field holds is refused', async (t) => {
  for (const [what, make, valid] of fields) {
    fc.assert(fc.property(hostile, (h) => {
      let text: string;
      try {
        text = renderPortRuleset(make(h));
      } catch (e) {
        return e instanceof RangeError && !valid(h);
      }
      // Accepted: it was a valid value, printed in its canonical form, and the text is plain.
      return valid(h) && /^[\x20-\x7e\t\n]*$/.test(text) && text.split('"').length === 9; // the four device names
    }), { numRuns: 150 });
    t.pass(`${what}: 150 hostile strings`);
  }
  t.throws(() => renderPortRuleset({ ...port, rules: [{ ...port.rules[4]!, port_range_min: 70000 }] }), RangeError);
  t.throws(() => renderPortRuleset({ ...port, rules: [{ ...port.rules[4]!, protocol: '256' }] }), RangeError);
  t.throws(() => renderPortRuleset({ ...port, rules: [{ ...port.rules[4]!, ethertype: 'IPX' as 'IPv4' }] }), RangeError);
});

t.test('every accepted rule is one line, duplicates once', async (t) => {
  const body = fc.record({
    direction: fc.constantFrom('ingress', 'egress'), ethertype: fc.constantFrom('IPv4', 'IPv6'),
    protocol: fc.option(fc.constantFrom('tcp', 'udp', 'icmp', 'gre', '112'), { nil: null }),
    port_range_min: fc.option(fc.integer({ min: 1, max: 300 }), { nil: null }), port_range_max: fc.option(fc.integer({ min: 1, max: 300 }), { nil: null }),
    remote_ip_prefix: fc.option(fc.constantFrom('10.0.0.0/8', '10.1.2.3', 'fd00::/8', '0.0.0.0/0'), { nil: null }),
  }, { requiredKeys: ['direction'] });
  fc.assert(fc.property(fc.array(body, { maxLength: 10 }), (bodies) => {
    const rules = bodies.flatMap((b) => { const r = normalizeRule(b); return 'rule' in r ? [r.rule] : []; });
    const text = renderPortRuleset({ ...port, rules: [...rules, ...rules] });
    for (const direction of ['ingress', 'egress'] as const) {
      // The group's rules sit between conntrack's accept and the final drop.
      const chain = text.split(`chain sg-${direction} {`)[1]!.split('\n\t}')[0]!.split('\n');
      const lines = chain.slice(chain.indexOf('\t\tct state established,related accept') + 1, chain.indexOf('\t\tcounter drop'));
      const want = new Set(rules.filter((r) => r.direction === direction).map((r) => ruleMatch(r)));
      if (lines.length !== want.size || !lines.every((l) => want.has(l.trim().replace(/ accept$/, '')))) return false;
    }
    return true;
  }), { numRuns: 300 });
  t.pass('300 random rule lists');
});
