import t from 'tap';
import fc from 'fast-check';
import {
  defaultSecurityGroupRules, IP_PROTOCOL_MAP, newSecurityGroupRules, normalizeRule, ruleKey, ruleProtocolNumber,
  type RuleInput,
} from '../../../protocols/network/security-group-rules.js';

/** A stored rule as a create body again (normalized_cidr is read-only). */
const body = (rule: RuleInput): Record<string, unknown> => {
  const { normalized_cidr: _, ...rest } = rule;
  return rest;
};

const ok = (input: Record<string, unknown>): RuleInput => {
  const r = normalizeRule(input);
  if (!('rule' in r)) throw new Error(`refused: ${r.error}`);
  return r.rule;
};

t.test('defaults and normalisation of an accepted rule', async (t) => {
  t.same(ok({ direction: 'ingress' }), {
    direction: 'ingress', ethertype: 'IPv4', protocol: null, port_range_min: null, port_range_max: null,
    remote_ip_prefix: null, remote_group_id: null, remote_address_group_id: null, description: '', normalized_cidr: null,
  });
  const r = ok({
    direction: 'egress', ethertype: 'ipv6', protocol: 'TCP', port_range_min: '22', port_range_max: 22,
    remote_ip_prefix: '2001:DB8::5/64', description: 'ssh',
  });
  t.same(r, {
    direction: 'egress', ethertype: 'IPv6', protocol: 'tcp', port_range_min: 22, port_range_max: 22,
    remote_ip_prefix: '2001:db8::5/64', remote_group_id: null, remote_address_group_id: null, description: 'ssh',
    normalized_cidr: '2001:db8::/64',
  }, 'case folded, ports as integers, the prefix canonical with its host bits kept as Neutron stores it');
  t.equal(ok({ direction: 'ingress', remote_ip_prefix: '10.0.0.5' }).remote_ip_prefix, '10.0.0.5/32', 'an address gets /32');
  t.equal(ok({ direction: 'ingress', remote_ip_prefix: '10.0.0.5/24' }).normalized_cidr, '10.0.0.0/24');
  t.equal(ok({ direction: 'ingress', ethertype: 'IPv6', remote_ip_prefix: '::1' }).remote_ip_prefix, '::1/128');
  t.equal(ok({ direction: 'ingress', remote_ip_prefix: '' }).remote_ip_prefix, null, 'an empty prefix is none');
  t.equal(ok({ direction: 'ingress', protocol: 6 }).protocol, '6', 'a number stays a number, as a string');
  t.equal(ok({ direction: 'ingress', protocol: '17' }).protocol, '17');
  t.equal(ok({ direction: 'ingress', protocol: 0 }).protocol, '0');
  t.equal(ok({ direction: 'ingress', protocol: 255 }).protocol, '255');
  t.equal(ok({ direction: 'ingress', protocol: 'any' }).protocol, null, "'any' is no protocol");
  t.equal(ok({ direction: 'ingress', protocol: 'ANY' }).protocol, null);
  t.equal(ok({ direction: 'ingress', protocol: null }).protocol, null);
  for (const name of Object.keys(IP_PROTOCOL_MAP).filter((p) => !['ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route'].includes(p))) {
    t.equal(ok({ direction: 'ingress', protocol: name.toUpperCase() }).protocol, name, `IPv4 ${name}`);
  }
  t.equal(ok({ direction: 'ingress', remote_group_id: 'g-1' }).remote_group_id, 'g-1');
  t.equal(ok({ direction: 'ingress', remote_group_id: null, remote_address_group_id: null }).remote_group_id, null);
});

t.test('IPv6 ICMP is folded to ipv6-icmp, as Neutron does', async (t) => {
  for (const p of ['icmp', 'icmpv6', 'ipv6-icmp', 'ICMP']) {
    t.equal(ok({ direction: 'ingress', ethertype: 'IPv6', protocol: p }).protocol, 'ipv6-icmp', p);
  }
  t.equal(ok({ direction: 'ingress', ethertype: 'IPv6', protocol: 1 }).protocol, '58', 'protocol 1 becomes 58');
  t.equal(ok({ direction: 'ingress', ethertype: 'IPv6', protocol: '58' }).protocol, '58');
  t.equal(ok({ direction: 'ingress', ethertype: 'IPv4', protocol: 'icmp' }).protocol, 'icmp');
});

t.test('port ranges', async (t) => {
  const r = (protocol: unknown, min: unknown, max: unknown) => ok({ direction: 'ingress', protocol, port_range_min: min, port_range_max: max });
  t.same([r('tcp', 1, 65535).port_range_min, r('tcp', 1, 65535).port_range_max], [null, null], 'the whole range is no range');
  t.same([r('udp', 1, 1).port_range_min, r('udp', 1, 1).port_range_max], [1, 1]);
  t.same([r('sctp', 65535, 65535).port_range_min, r('sctp', 65535, 65535).port_range_max], [65535, 65535]);
  t.same([r('dccp', 10, 20).port_range_min, r('udplite', 10, 20).port_range_max], [10, 20]);
  t.same([r('icmp', 8, 0).port_range_min, r('icmp', 8, 0).port_range_max], [8, 0], 'ICMP type 8 code 0');
  t.same([r('icmp', 3, null).port_range_min, r('icmp', 3, null).port_range_max], [3, null], 'a type alone');
  t.same([r('icmp', 0, 255).port_range_min, r('icmp', 255, 255).port_range_max], [0, 255]);
  t.equal(r('tcp', 80.9, 81).port_range_min, 80, "Python's int() truncates");
  t.equal(r('tcp', ' 80 ', 81).port_range_min, 80, "and strips a string's whitespace");
  t.same([r(null, 1, 65535).port_range_min, r(null, 1, 65535).port_range_max], [null, null], 'the whole range without a protocol is no range (Neutron folds it first)');
});

const SUPPORTED = "(None, 'any', 'ah', 'dccp', 'egp', 'esp', 'gre', 'hopopt', 'icmp', 'igmp', 'ip', 'ipip', 'ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', 'ospf', 'pgm', 'rsvp', 'sctp', 'tcp', 'udp', 'udplite', 'vrrp')";

t.test("refusals, with Neutron's type, status and message", async (t) => {
  const cases: [string, Record<string, unknown>, string, string, number?][] = [
    ['no direction', {}, 'HTTPBadRequest', "Failed to parse request. Required attribute 'direction' not specified"],
    ['an id', { id: 'x', direction: 'ingress' }, 'HTTPBadRequest', "Attribute 'id' not allowed in POST"],
    ['normalized_cidr', { direction: 'ingress', normalized_cidr: '10.0.0.0/8' }, 'HTTPBadRequest', "Attribute 'normalized_cidr' not allowed in POST"],
    ['a bad direction', { direction: 'in' }, 'HTTPBadRequest', 'Invalid input for direction. Reason: in is not in valid_values.'],
    ['a null direction', { direction: null }, 'HTTPBadRequest', 'Invalid input for direction. Reason: None is not in valid_values.'],
    ['Ingress is case sensitive', { direction: 'Ingress' }, 'HTTPBadRequest', 'Invalid input for direction. Reason: Ingress is not in valid_values.'],
    ['an unknown protocol', { direction: 'ingress', protocol: 'tcpx' }, 'SecurityGroupRuleInvalidProtocol',
      `Security group rule protocol tcpx not supported. Only protocol values ${SUPPORTED} and integer representations [0 to 255] are supported.`],
    ['protocol 256', { direction: 'ingress', protocol: 256 }, 'SecurityGroupRuleInvalidProtocol',
      `Security group rule protocol 256 not supported. Only protocol values ${SUPPORTED} and integer representations [0 to 255] are supported.`],
    ['protocol -1', { direction: 'ingress', protocol: '-1' }, 'SecurityGroupRuleInvalidProtocol',
      `Security group rule protocol -1 not supported. Only protocol values ${SUPPORTED} and integer representations [0 to 255] are supported.`],
    ['a list protocol', { direction: 'ingress', protocol: ['tcp'] }, 'SecurityGroupRuleInvalidProtocol',
      `Security group rule protocol ['tcp'] not supported. Only protocol values ${SUPPORTED} and integer representations [0 to 255] are supported.`],
    ['port 65536', { direction: 'ingress', protocol: 'tcp', port_range_min: 65536, port_range_max: 65536 }, 'SecurityGroupInvalidPortValue', 'Invalid value for port 65536'],
    ['port -1', { direction: 'ingress', protocol: 'tcp', port_range_min: -1 }, 'SecurityGroupInvalidPortValue', 'Invalid value for port -1'],
    ['port text', { direction: 'ingress', protocol: 'tcp', port_range_min: 'http' }, 'SecurityGroupInvalidPortValue', 'Invalid value for port http'],
    ['max checked after min', { direction: 'ingress', protocol: 'tcp', port_range_min: 1, port_range_max: 'x' }, 'SecurityGroupInvalidPortValue', 'Invalid value for port x'],
    ['a bad ethertype', { direction: 'ingress', ethertype: 'IPv5' }, 'SecurityGroupRuleInvalidEtherType',
      "Security group rule for ethertype 'IPv5' not supported. Allowed values are ['IPv4', 'IPv6']."],
    ['a null ethertype', { direction: 'ingress', ethertype: null }, 'SecurityGroupRuleInvalidEtherType',
      "Security group rule for ethertype 'None' not supported. Allowed values are ['IPv4', 'IPv6']."],
    ['a bad prefix', { direction: 'ingress', remote_ip_prefix: '10.0.0.0/33' }, 'InvalidCIDR', 'Invalid CIDR 10.0.0.0/33 given as IP prefix.'],
    ['a word for a prefix', { direction: 'ingress', remote_ip_prefix: 'anywhere' }, 'InvalidCIDR', 'Invalid CIDR anywhere given as IP prefix.'],
    ['a leading zero', { direction: 'ingress', remote_ip_prefix: '010.0.0.0/8' }, 'InvalidCIDR', 'Invalid CIDR 010.0.0.0/8 given as IP prefix.'],
    ['a numeric prefix', { direction: 'ingress', remote_ip_prefix: 5 }, 'InvalidCIDR', 'Invalid CIDR 5 given as IP prefix.'],
    ['a long description', { direction: 'ingress', description: 'x'.repeat(256) }, 'HTTPBadRequest',
      `Invalid input for description. Reason: '${'x'.repeat(256)}' exceeds maximum length of 255.`],
    ['a numeric description', { direction: 'ingress', description: 5 }, 'HTTPBadRequest', "Invalid input for description. Reason: '5' is not a valid string."],
    ['ports without a protocol', { direction: 'ingress', port_range_min: 22, port_range_max: 22 }, 'SecurityGroupProtocolRequiredWithPorts',
      'Must also specify protocol if port range is given.'],
    ['a max alone without a protocol', { direction: 'ingress', port_range_max: 22 }, 'SecurityGroupProtocolRequiredWithPorts',
      'Must also specify protocol if port range is given.'],
    ['tcp port 0', { direction: 'ingress', protocol: 'tcp', port_range_min: 0, port_range_max: 10 }, 'SecurityGroupInvalidPortValue', 'Invalid value for port 0'],
    ['tcp max 0', { direction: 'ingress', protocol: 'tcp', port_range_min: 1, port_range_max: 0 }, 'SecurityGroupInvalidPortValue', 'Invalid value for port 0'],
    ['tcp min over max', { direction: 'ingress', protocol: 'tcp', port_range_min: 100, port_range_max: 99 }, 'SecurityGroupInvalidPortRange',
      'For TCP/UDP protocols, port_range_min must be <= port_range_max'],
    ['sctp without max', { direction: 'ingress', protocol: 'sctp', port_range_min: 1 }, 'SecurityGroupInvalidPortRange',
      'For TCP/UDP protocols, port_range_min must be <= port_range_max'],
    ['tcp by number, without min', { direction: 'ingress', protocol: '6', port_range_max: 80 }, 'SecurityGroupInvalidPortRange',
      'For TCP/UDP protocols, port_range_min must be <= port_range_max'],
    ['icmp code 256', { direction: 'ingress', protocol: 'icmp', port_range_min: 1, port_range_max: 256 }, 'SecurityGroupInvalidIcmpValue',
      'Invalid value for ICMP code (port_range_max) 256. It must be 0 to 255.'],
    ['icmp type 300', { direction: 'ingress', protocol: 'icmp', port_range_min: 300, port_range_max: 1 }, 'SecurityGroupInvalidIcmpValue',
      'Invalid value for ICMP type (port_range_min) 300. It must be 0 to 255.'],
    ['icmp code without type', { direction: 'ingress', protocol: 'icmp', port_range_max: 6 }, 'SecurityGroupMissingIcmpType',
      'ICMP code (port-range-max) 6 is provided but ICMP type (port-range-min) is missing.'],
    ['ipv6-icmp code without type', { direction: 'ingress', ethertype: 'IPv6', protocol: 'icmpv6', port_range_max: 6 }, 'SecurityGroupMissingIcmpType',
      'ICMP code (port-range-max) 6 is provided but ICMP type (port-range-min) is missing.'],
    ['ports for gre', { direction: 'ingress', protocol: 'gre', port_range_min: 1, port_range_max: 2 }, 'SecurityGroupInvalidProtocolForPort',
      'Ports cannot be specified for protocol 47. Ports are only supported for DCCP, SCTP, TCP, UDP, UDPLITE.'],
    ['ports for 111', { direction: 'ingress', protocol: '111', port_range_min: 100, port_range_max: 200 }, 'SecurityGroupInvalidProtocolForPort',
      'Ports cannot be specified for protocol 111. Ports are only supported for DCCP, SCTP, TCP, UDP, UDPLITE.'],
    ['a max for vrrp', { direction: 'ingress', protocol: 'vrrp', port_range_max: 200 }, 'SecurityGroupInvalidProtocolForPort',
      'Ports cannot be specified for protocol 112. Ports are only supported for DCCP, SCTP, TCP, UDP, UDPLITE.'],
    ['an IPv6 prefix on IPv4', { direction: 'ingress', remote_ip_prefix: '2001:DB8::/32' }, 'SecurityGroupRuleParameterConflict',
      'Conflicting value ethertype IPv4 for CIDR 2001:db8::/32'],
    ['an IPv4 prefix on IPv6', { direction: 'ingress', ethertype: 'IPv6', remote_ip_prefix: '10.0.0.1' }, 'SecurityGroupRuleParameterConflict',
      'Conflicting value ethertype IPv6 for CIDR 10.0.0.1/32'],
    ['0.0.0.0/0 on IPv6', { direction: 'ingress', ethertype: 'IPv6', remote_ip_prefix: '0.0.0.0/0' }, 'SecurityGroupRuleParameterConflict',
      'Conflicting value ethertype IPv6 for CIDR 0.0.0.0/0'],
    ['ipv6-icmp on IPv4', { direction: 'ingress', protocol: 'ipv6-icmp' }, 'SecurityGroupEthertypeConflictWithProtocol', 'Invalid ethertype IPv4 for protocol ipv6-icmp.'],
    ['icmpv6 on IPv4', { direction: 'ingress', protocol: 'icmpv6' }, 'SecurityGroupEthertypeConflictWithProtocol', 'Invalid ethertype IPv4 for protocol icmpv6.'],
    ['58 on IPv4', { direction: 'ingress', protocol: 58 }, 'SecurityGroupEthertypeConflictWithProtocol', 'Invalid ethertype IPv4 for protocol 58.'],
    ['ipv6-route on IPv4', { direction: 'ingress', protocol: 'IPV6-ROUTE' }, 'SecurityGroupEthertypeConflictWithProtocol', 'Invalid ethertype IPv4 for protocol ipv6-route.'],
    ['41 on IPv4', { direction: 'ingress', protocol: '41' }, 'SecurityGroupEthertypeConflictWithProtocol', 'Invalid ethertype IPv4 for protocol 41.'],
    ['a prefix and a group', { direction: 'ingress', remote_ip_prefix: '10.0.0.0/8', remote_group_id: 'g' }, 'SecurityGroupMultipleRemoteEntites',
      'Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.'],
    ['0.0.0.0/0 and a group', { direction: 'ingress', remote_ip_prefix: '0.0.0.0/0', remote_group_id: 'g' }, 'SecurityGroupMultipleRemoteEntites',
      'Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.'],
    ['a group and an address group', { direction: 'ingress', remote_group_id: 'g', remote_address_group_id: 'a' }, 'SecurityGroupMultipleRemoteEntites',
      'Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.'],
    ['an address group', { direction: 'ingress', remote_address_group_id: 'ag-1' }, 'AddressGroupNotFound', 'Address group ag-1 could not be found.', 404],
    ['a numeric group', { direction: 'ingress', remote_group_id: 7 }, 'SecurityGroupNotFound', 'Security group 7 does not exist', 404],
    // Neutron's order: converters before the plugin's checks, and the plugin's in its own order.
    ['the protocol before the ports', { direction: 'ingress', protocol: 'x', port_range_min: 99999 }, 'SecurityGroupRuleInvalidProtocol',
      `Security group rule protocol x not supported. Only protocol values ${SUPPORTED} and integer representations [0 to 255] are supported.`],
    ['the range before the prefix', { direction: 'ingress', protocol: 'tcp', port_range_min: 9, port_range_max: 1, ethertype: 'IPv6', remote_ip_prefix: '10.0.0.0/8' },
      'SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max'],
    ['the prefix version before the protocol version', { direction: 'ingress', protocol: 'ipv6-icmp', remote_ip_prefix: '::/0' },
      'SecurityGroupRuleParameterConflict', 'Conflicting value ethertype IPv4 for CIDR ::/0'],
  ];
  for (const [what, input, type, message, status] of cases) {
    t.same(normalizeRule(input), { error: message, type, status: status ?? 400 }, what);
  }
});

t.test('ruleKey: the duplicates Neutron refuses with SecurityGroupRuleExists', async (t) => {
  const key = (input: Record<string, unknown>) => ruleKey(ok(input));
  const same: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['tcp by name and number', { direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22 }, { direction: 'ingress', protocol: 6, port_range_min: '22', port_range_max: 22 }],
    ['no prefix and 0.0.0.0/0', { direction: 'ingress' }, { direction: 'ingress', remote_ip_prefix: '0.0.0.0/0' }],
    ['no prefix and ::/0', { direction: 'ingress', ethertype: 'IPv6' }, { direction: 'ingress', ethertype: 'IPv6', remote_ip_prefix: '::0/0' }],
    ['an address and its /32', { direction: 'ingress', remote_ip_prefix: '10.0.0.1' }, { direction: 'ingress', remote_ip_prefix: '10.0.0.1/32' }],
    ['IPv6 icmp spellings', { direction: 'ingress', ethertype: 'IPv6', protocol: 'icmp' }, { direction: 'ingress', ethertype: 'IPv6', protocol: 58 }],
    ['icmpv6 and ipv6-icmp', { direction: 'ingress', ethertype: 'IPv6', protocol: 'icmpv6' }, { direction: 'ingress', ethertype: 'IPv6', protocol: 'ipv6-icmp' }],
    ['the whole port range and none', { direction: 'ingress', protocol: 'udp' }, { direction: 'ingress', protocol: 'udp', port_range_min: 1, port_range_max: 65535 }],
    ['descriptions do not count', { direction: 'ingress', description: 'a' }, { direction: 'ingress', description: 'b' }],
    ['any is none', { direction: 'egress', protocol: 'any' }, { direction: 'egress' }],
    ['IPv6 text spellings', { direction: 'ingress', ethertype: 'IPv6', remote_ip_prefix: '2001:DB8:0::/32' }, { direction: 'ingress', ethertype: 'IPv6', remote_ip_prefix: '2001:db8::/32' }],
  ];
  for (const [what, a, b] of same) t.equal(key(a), key(b), what);
  const differ: [string, Record<string, unknown>, Record<string, unknown>][] = [
    ['direction', { direction: 'ingress' }, { direction: 'egress' }],
    ['ethertype', { direction: 'ingress' }, { direction: 'ingress', ethertype: 'IPv6' }],
    ['protocol', { direction: 'ingress', protocol: 'tcp' }, { direction: 'ingress', protocol: 'udp' }],
    ['a protocol and none', { direction: 'ingress', protocol: 'tcp' }, { direction: 'ingress' }],
    ['ports', { direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 22 }, { direction: 'ingress', protocol: 'tcp', port_range_min: 22, port_range_max: 23 }],
    ['min and max swapped roles', { direction: 'ingress', protocol: 'icmp', port_range_min: 0, port_range_max: 8 }, { direction: 'ingress', protocol: 'icmp', port_range_min: 8, port_range_max: 0 }],
    ['remote group', { direction: 'ingress', remote_group_id: 'a' }, { direction: 'ingress', remote_group_id: 'b' }],
    ['a remote group and none', { direction: 'ingress', remote_group_id: 'a' }, { direction: 'ingress' }],
    ['host bits, compared as stored (Neutron)', { direction: 'ingress', remote_ip_prefix: '10.0.0.5/24' }, { direction: 'ingress', remote_ip_prefix: '10.0.0.0/24' }],
    ['hopopt and ip are both 0 but different names (Neutron)', { direction: 'ingress', protocol: 'hopopt' }, { direction: 'ingress', protocol: 'ip' }],
  ];
  for (const [what, a, b] of differ) t.not(key(a), key(b), what);
  t.equal(key({ direction: 'ingress', protocol: 0 }), key({ direction: 'ingress', protocol: 'ip' }), '0 is ip by number');
});

t.test('normalising is idempotent, and keys are stable under it', async (t) => {
  const arb = fc.record({
    direction: fc.constantFrom('ingress', 'egress'),
    ethertype: fc.constantFrom('IPv4', 'IPv6', 'ipv4', 'ipv6'),
    protocol: fc.option(fc.oneof(fc.constantFrom(...Object.keys(IP_PROTOCOL_MAP), 'any'), fc.integer({ min: 0, max: 255 }))),
    port_range_min: fc.option(fc.integer({ min: 0, max: 300 })),
    port_range_max: fc.option(fc.integer({ min: 0, max: 300 })),
    remote_ip_prefix: fc.option(fc.constantFrom('10.0.0.5/24', '0.0.0.0/0', '2001:db8::1/64', '::/0', '10.1.2.3')),
    remote_group_id: fc.option(fc.constantFrom('g1', 'g2')),
  }, { requiredKeys: ['direction'] });
  fc.assert(fc.property(arb, (input) => {
    const r = normalizeRule(input);
    if (!('rule' in r)) return typeof r.error === 'string' && r.error.length > 0 && r.status === 400;
    const again = normalizeRule(body(r.rule));
    if (!('rule' in again)) return false;
    return JSON.stringify(again.rule) === JSON.stringify(r.rule) && ruleKey(again.rule) === ruleKey(r.rule);
  }), { numRuns: 3000 });
  t.pass('holds');
});

t.test("the default group's rules", async (t) => {
  const rules = defaultSecurityGroupRules('sg-1');
  t.same(rules.map((r) => [r.direction, r.ethertype, r.remote_group_id, r.protocol, r.remote_ip_prefix]), [
    ['egress', 'IPv4', null, null, null],
    ['egress', 'IPv6', null, null, null],
    ['ingress', 'IPv4', 'sg-1', null, null],
    ['ingress', 'IPv6', 'sg-1', null, null],
  ]);
  t.equal(new Set(rules.map(ruleKey)).size, 4, 'no two alike');
  for (const r of rules) t.same(normalizeRule(body(r)), { rule: { ...r, description: '' } }, `${r.direction} ${r.ethertype} is a rule Neutron accepts`);
  t.same(newSecurityGroupRules().map((r) => [r.direction, r.ethertype, r.remote_group_id]), [['egress', 'IPv4', null], ['egress', 'IPv6', null]],
    'other groups start with the egress rules only');
  t.equal(ruleProtocolNumber({ protocol: 'tcp' }), 6);
  t.equal(ruleProtocolNumber({ protocol: '132' }), 132);
  t.equal(ruleProtocolNumber({ protocol: 'icmpv6' }), 58);
  t.equal(ruleProtocolNumber({ protocol: null }), null);
});
