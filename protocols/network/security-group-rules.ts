/**
 * Security group rules as Neutron accepts them on create: the API's converters and validators
 * (neutron/extensions/securitygroup.py, run in attribute order), then the plugin's checks
 * (neutron/db/securitygroups_db.py `_validate_base_security_group_rule_attributes`), each with
 * Neutron's exception name, status and message. Whether the groups named exist is the caller's.
 */
import { formatCidr, formatAddress, parseCidr, parseIp } from './ip.js';
import { pyInt, pyStr } from './py-text.js';

export type Direction = 'ingress' | 'egress';
export type Ethertype = 'IPv4' | 'IPv6';

export type RuleInput = {
  direction: Direction;
  ethertype: Ethertype;
  /** A name of {@link IP_PROTOCOL_MAP} or a number 0–255 as a string; null for any protocol. */
  protocol: string | null;
  port_range_min: number | null;
  port_range_max: number | null;
  /** As Neutron stores it: a prefix length always, host bits kept (`10.0.0.5/24`). */
  remote_ip_prefix: string | null;
  remote_group_id: string | null;
  remote_address_group_id?: null;
  description?: string;
  /** `remote_ip_prefix` with its host bits cleared (Neutron's `normalized_cidr`). */
  normalized_cidr?: string | null;
};

/** neutron_lib.constants.IP_PROTOCOL_MAP, in its order (the order Neutron's message lists). */
export const IP_PROTOCOL_MAP: Readonly<Record<string, number>> = {
  ah: 51, dccp: 33, egp: 8, esp: 50, gre: 47, hopopt: 0, icmp: 1, igmp: 2, ip: 0, ipip: 4,
  'ipv6-encap': 41, 'ipv6-frag': 44, 'ipv6-icmp': 58, icmpv6: 58, 'ipv6-nonxt': 59,
  'ipv6-opts': 60, 'ipv6-route': 43, ospf: 89, pgm: 113, rsvp: 46, sctp: 132, tcp: 6, udp: 17,
  udplite: 136, vrrp: 112,
};

/** Number → name (the last name wins, as in Neutron's dict: 0 is `ip`; 58 is `ipv6-icmp`). */
const NUM_TO_NAME: ReadonlyMap<string, string> = new Map(
  Object.entries(IP_PROTOCOL_MAP).filter(([name]) => name !== 'icmpv6').map(([name, n]) => [String(n), name]),
);

/** Protocols whose port range is a port range; ICMP's is type and code. */
const PORT_PROTOCOL_NUMBERS = new Set([33, 132, 6, 17, 136]);
const PORT_PROTOCOL_NAMES = 'DCCP, SCTP, TCP, UDP, UDPLITE';
const ICMP_NUMBERS = new Set([1, 58]);
/** Protocols that exist only over IPv6, by name and number. */
const IPV6_ONLY = new Set(['ipv6-encap', 'ipv6-frag', 'ipv6-icmp', 'icmpv6', 'ipv6-nonxt', 'ipv6-opts', 'ipv6-route', '41', '44', '58', '59', '60', '43']);
const SUPPORTED_PROTOCOLS = `(None, 'any', ${Object.keys(IP_PROTOCOL_MAP).map((p) => `'${p}'`).join(', ')})`;
const ETHERTYPES: readonly Ethertype[] = ['IPv4', 'IPv6'];
const DESCRIPTION_MAX = 255;
/** Attributes a create may not carry (allow_post False). */
const NOT_IN_POST = ['id', 'normalized_cidr', 'belongs_to_default_sg', 'revision_number', 'created_at', 'updated_at'];

export type RuleErrorType =
  | 'HTTPBadRequest'
  | 'SecurityGroupRuleInvalidProtocol'
  | 'SecurityGroupInvalidPortValue'
  | 'SecurityGroupRuleInvalidEtherType'
  | 'InvalidCIDR'
  | 'SecurityGroupProtocolRequiredWithPorts'
  | 'SecurityGroupInvalidPortRange'
  | 'SecurityGroupInvalidIcmpValue'
  | 'SecurityGroupMissingIcmpType'
  | 'SecurityGroupInvalidProtocolForPort'
  | 'SecurityGroupRuleParameterConflict'
  | 'SecurityGroupEthertypeConflictWithProtocol'
  | 'SecurityGroupMultipleRemoteEntites'
  | 'SecurityGroupNotFound'
  | 'AddressGroupNotFound';

export interface RuleError { error: string; type: RuleErrorType; status: 400 | 404 }

const NOT_FOUND: ReadonlySet<RuleErrorType> = new Set(['SecurityGroupNotFound', 'AddressGroupNotFound']);

function refuse(type: RuleErrorType, error: string): RuleError {
  return { error, type, status: NOT_FOUND.has(type) ? 404 : 400 };
}

/** Thrown inside the steps below and turned into the result; never escapes. */
class Refusal {
  constructor(readonly e: RuleError) {}
}
const stop = (type: RuleErrorType, message: string): never => {
  throw new Refusal(refuse(type, message));
};

/** Python truthiness of a JSON value. */
function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v !== null && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

/** convert_protocol: null/'any' for any, an integer 0–255, or a supported name (any case). */
function convertProtocol(v: unknown): string | null {
  if (v === null || v === undefined || v === 'any') return null;
  const bad = () => stop('SecurityGroupRuleInvalidProtocol',
    `Security group rule protocol ${pyStr(v)} not supported. Only protocol values ${SUPPORTED_PROTOCOLS} and integer representations [0 to 255] are supported.`);
  if (typeof v === 'number' ? Number.isInteger(v) : typeof v === 'string') {
    const n = pyInt(v);
    if (n !== undefined) return n >= 0 && n <= 255 ? String(n) : bad();
  }
  if (typeof v !== 'string') return bad();
  const name = v.toLowerCase();
  if (name === 'any') return null;
  return knownProtocol(name) ? name : bad();
}

/** convert_validate_port_value: null, or an integer 0–65535 as Python's int() reads it. */
function convertPort(v: unknown): number | null {
  if (v === null || v === undefined) return null;
  const n = pyInt(v);
  if (n === undefined || n < 0 || n > 65535) return stop('SecurityGroupInvalidPortValue', `Invalid value for port ${pyStr(v)}`);
  return n;
}

function convertEthertype(v: unknown): Ethertype {
  if (typeof v === 'string') {
    const hit = ETHERTYPES.find((e) => e.toLowerCase() === v.toLowerCase());
    if (hit) return hit;
  }
  return stop('SecurityGroupRuleInvalidEtherType',
    `Security group rule for ethertype '${pyStr(v)}' not supported. Allowed values are ['IPv4', 'IPv6'].`);
}

/** convert_ip_prefix_to_cidr and `_validate_ip_prefix`: an address gets its full-length prefix. */
function convertIpPrefix(v: unknown): { text: string; normalized: string; version: 4 | 6 } | null {
  if (!truthy(v)) return null;
  const invalid = () => stop('InvalidCIDR', `Invalid CIDR ${pyStr(v)} given as IP prefix.`);
  if (typeof v !== 'string') return invalid();
  const withPrefix = v.includes('/') ? v : (() => {
    const ip = parseIp(v);
    return ip ? `${v}/${ip.version === 4 ? 32 : 128}` : v;
  })();
  const parsed = parseCidr(withPrefix);
  if (!parsed) return invalid();
  const ip = parseIp(withPrefix.slice(0, withPrefix.indexOf('/')))!;
  return {
    text: `${formatAddress(ip.version, ip.value)}/${parsed.cidr.prefix}`,
    normalized: formatCidr(parsed.cidr),
    version: ip.version,
  };
}

function knownProtocol(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(IP_PROTOCOL_MAP, name);
}

function protocolNumber(protocol: string): number {
  return knownProtocol(protocol) ? IP_PROTOCOL_MAP[protocol]! : Number(protocol);
}

/** `_validate_port_range`, after `_make_canonical_port_range` (1–65535 means no range). */
function checkPortRange(protocol: string | null, min: number | null, max: number | null): void {
  if (min === null && max === null) return;
  if (protocol === null) stop('SecurityGroupProtocolRequiredWithPorts', 'Must also specify protocol if port range is given.');
  const proto = protocolNumber(protocol!);
  if (PORT_PROTOCOL_NUMBERS.has(proto)) {
    if (min === 0 || max === 0) stop('SecurityGroupInvalidPortValue', 'Invalid value for port 0');
    if (min === null || max === null || min > max) {
      stop('SecurityGroupInvalidPortRange', 'For TCP/UDP protocols, port_range_min must be <= port_range_max');
    }
  } else if (ICMP_NUMBERS.has(proto)) {
    for (const [value, attr, field] of [[min, 'port_range_min', 'type'], [max, 'port_range_max', 'code']] as const) {
      if (value !== null && (value < 0 || value > 255)) {
        stop('SecurityGroupInvalidIcmpValue', `Invalid value for ICMP ${field} (${attr}) ${value}. It must be 0 to 255.`);
      }
    }
    if (min === null && max !== null) {
      stop('SecurityGroupMissingIcmpType', `ICMP code (port-range-max) ${max} is provided but ICMP type (port-range-min) is missing.`);
    }
  } else {
    stop('SecurityGroupInvalidProtocolForPort',
      `Ports cannot be specified for protocol ${proto}. Ports are only supported for ${PORT_PROTOCOL_NAMES}.`);
  }
}

/** A group or address group id as given: a non-empty string, or null; anything else names none. */
function remoteId(v: unknown, notFound: (id: string) => never): string | null {
  if (v === null || v === undefined || v === '') return null;
  return typeof v === 'string' ? v : notFound(pyStr(v));
}

/**
 * A `security_group_rule` create body (without its `security_group_id`, `project_id` and
 * `tenant_id`, which are the caller's) as Neutron stores it, or Neutron's refusal.
 */
export function normalizeRule(input: Record<string, unknown>): { rule: RuleInput } | RuleError {
  try {
    return { rule: normalize(input) };
  } catch (e) {
    if (e instanceof Refusal) return e.e;
    throw e;
  }
}

function normalize(input: Record<string, unknown>): RuleInput {
  const has = (k: string) => Object.prototype.hasOwnProperty.call(input, k) && input[k] !== undefined;
  // fill_post_defaults, in attribute order.
  if (has('id')) stop('HTTPBadRequest', "Attribute 'id' not allowed in POST");
  if (!has('direction')) stop('HTTPBadRequest', "Failed to parse request. Required attribute 'direction' not specified");
  for (const k of NOT_IN_POST.slice(1)) if (has(k)) stop('HTTPBadRequest', `Attribute '${k}' not allowed in POST`);

  // convert_values, in attribute order.
  const direction = input['direction'];
  if (direction !== 'ingress' && direction !== 'egress') {
    stop('HTTPBadRequest', `Invalid input for direction. Reason: ${pyStr(direction)} is not in valid_values.`);
  }
  let protocol = convertProtocol(input['protocol']);
  let min = convertPort(input['port_range_min']);
  let max = convertPort(input['port_range_max']);
  const ethertype = has('ethertype') ? convertEthertype(input['ethertype']) : 'IPv4';
  const prefix = convertIpPrefix(input['remote_ip_prefix']);
  const description = has('description') ? input['description'] : '';
  if (typeof description !== 'string') {
    stop('HTTPBadRequest', `Invalid input for description. Reason: '${pyStr(description)}' is not a valid string.`);
  } else if ([...description].length > DESCRIPTION_MAX) {
    stop('HTTPBadRequest', `Invalid input for description. Reason: '${description}' exceeds maximum length of ${DESCRIPTION_MAX}.`);
  }

  // The plugin's checks, in its order.
  if (ethertype === 'IPv6') {
    if (protocol === 'icmp' || protocol === 'icmpv6') protocol = 'ipv6-icmp';
    else if (protocol === '1') protocol = '58';
  }
  if (min === 1 && max === 65535) min = max = null;
  checkPortRange(protocol, min, max);
  if (prefix && ethertype !== `IPv${prefix.version}`) {
    stop('SecurityGroupRuleParameterConflict', `Conflicting value ethertype ${ethertype} for CIDR ${prefix.text}`);
  }
  if (ethertype === 'IPv4' && protocol !== null && IPV6_ONLY.has(protocol)) {
    stop('SecurityGroupEthertypeConflictWithProtocol', `Invalid ethertype ${ethertype} for protocol ${protocol}.`);
  }
  const remotes = [prefix, truthy(input['remote_group_id']), truthy(input['remote_address_group_id'])].filter(Boolean);
  if (remotes.length > 1) {
    stop('SecurityGroupMultipleRemoteEntites', 'Only one of remote_ip_prefix or remote_group_id or remote_address_group_id may be provided.');
  }
  const remoteGroup = remoteId(input['remote_group_id'], (id) => stop('SecurityGroupNotFound', `Security group ${id} does not exist`));
  // Address groups are not served: any one named is one that does not exist.
  const addressGroup = remoteId(input['remote_address_group_id'], (id) => stop('AddressGroupNotFound', `Address group ${id} could not be found.`));
  if (addressGroup !== null) stop('AddressGroupNotFound', `Address group ${addressGroup} could not be found.`);

  return {
    direction: direction as Direction,
    ethertype,
    protocol,
    port_range_min: min,
    port_range_max: max,
    remote_ip_prefix: prefix?.text ?? null,
    remote_group_id: remoteGroup,
    remote_address_group_id: null,
    description: description as string,
    normalized_cidr: prefix?.normalized ?? null,
  };
}

/** A rule's protocol as Neutron compares it: [name, number], IPv6's ICMP names folded. */
function protocolKey(protocol: string | null, ethertype: Ethertype): string {
  if (protocol === null || protocol === 'any') return '+';
  let p = protocol;
  if (ethertype === 'IPv6') {
    if (p === 'icmp' || p === 'icmpv6') p = 'ipv6-icmp';
    else if (p === '1') p = '58';
  }
  if (knownProtocol(p)) return `${p}/${IP_PROTOCOL_MAP[p]}`;
  const name = NUM_TO_NAME.get(p);
  return name !== undefined ? `${name}/${p}` : `${p}/${p}`;
}

const ANY_PREFIX = new Set(['0.0.0.0/0', '::/0']);

/**
 * Equal for two rules of one group Neutron takes as the same (`_rule_to_key`, its 409
 * SecurityGroupRuleExists): protocol by name or number, no prefix the same as 0.0.0.0/0 or ::/0.
 * The prefix is compared as stored, so `10.0.0.5/24` and `10.0.0.0/24` differ, as in Neutron.
 */
export function ruleKey(rule: RuleInput): string {
  const opt = (v: string | number | null | undefined) => (v === null || v === undefined ? '+' : String(v));
  return JSON.stringify([
    rule.direction,
    rule.ethertype,
    opt(rule.port_range_max),
    opt(rule.port_range_min),
    protocolKey(rule.protocol, rule.ethertype),
    opt(rule.remote_group_id),
    opt(rule.remote_address_group_id),
    rule.remote_ip_prefix === null || ANY_PREFIX.has(rule.remote_ip_prefix) ? '+' : rule.remote_ip_prefix,
  ]);
}

/** Neutron's messages for a repeated rule: in one POST, and against one the group has. */
export const DUPLICATE_RULE_IN_POST = 'Duplicate Security Group Rule in POST.';
export function ruleExistsMessage(ruleId: string): string {
  return `Security group rule already exists. Rule id is ${ruleId}.`;
}

function templateRule(direction: Direction, ethertype: Ethertype, remoteGroup: string | null): RuleInput {
  return {
    direction, ethertype, protocol: null, port_range_min: null, port_range_max: null,
    remote_ip_prefix: null, remote_group_id: remoteGroup, remote_address_group_id: null, normalized_cidr: null,
  };
}

/**
 * The rules of a project's `default` group (Neutron's default rule templates): egress IPv4 and
 * IPv6 anywhere, ingress IPv4 and IPv6 from members of the group itself.
 */
export function defaultSecurityGroupRules(groupId: string): RuleInput[] {
  return [
    templateRule('egress', 'IPv4', null),
    templateRule('egress', 'IPv6', null),
    templateRule('ingress', 'IPv4', groupId),
    templateRule('ingress', 'IPv6', groupId),
  ];
}

/** The rules every other new group starts with: the two egress ones. */
export function newSecurityGroupRules(): RuleInput[] {
  return [templateRule('egress', 'IPv4', null), templateRule('egress', 'IPv6', null)];
}

/** A rule's protocol as its IP protocol number (null for any). */
export function ruleProtocolNumber(rule: Pick<RuleInput, 'protocol'>): number | null {
  return rule.protocol === null ? null : protocolNumber(rule.protocol);
}

