/**
 * The value checks of Neutron's attribute map, by name: each takes what the client sent and gives
 * the value to store (normalised: `"true"` is `true`, a MAC lower-case) or the reason it is refused,
 * which the caller words as Neutron does: `Invalid input for <attr>. Reason: <reason>.`
 */
export type CheckResult = { ok: unknown } | { error: string };
type Check = (v: unknown) => CheckResult;

const ok = (v: unknown): CheckResult => ({ ok: v });
const bad = (error: string): CheckResult => ({ error });
const shown = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

function str(max: number, what = 'string'): Check {
  return (v) => {
    if (typeof v !== 'string') return bad(`${shown(v)} is not a valid ${what}`);
    if (v.length > max) return bad(`${shown(v.slice(0, 64))} exceeds maximum length of ${max}`);
    if (CONTROL.test(v)) return bad(`${shown(v.replace(CONTROL, '?'))} contains control characters`);
    return ok(v);
  };
}

function bool(v: unknown): CheckResult {
  if (typeof v === 'boolean') return ok(v);
  if (typeof v === 'string' && /^(true|false)$/i.test(v)) return ok(v.toLowerCase() === 'true');
  if (v === 0 || v === 1) return ok(v === 1);
  return bad(`${shown(v)} cannot be converted to boolean`);
}

function int(min: number, max: number, nullable = false): Check {
  return (v) => {
    if (v === null && nullable) return ok(null);
    const n = typeof v === 'string' && /^-?\d{1,10}$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) return bad(`${shown(v)} is not an integer`);
    if (n < min || n > max) return bad(`${shown(v)} is not in range ${min} through ${max}`);
    return ok(n);
  };
}

const uuid: Check = (v) => (typeof v === 'string' && UUID.test(v) ? ok(v.toLowerCase()) : bad(`${shown(v)} is not a valid UUID`));

function list(item: Check, max: number): Check {
  return (v) => {
    if (!Array.isArray(v)) return bad(`${shown(v)} is not a list`);
    if (v.length > max) return bad(`more than ${max} items`);
    const out: unknown[] = [];
    for (const x of v) {
      const r = item(x);
      if ('error' in r) return r;
      out.push(r.ok);
    }
    return ok(out);
  };
}

function dict(fields: Record<string, { check: Check; required?: boolean }>, open = false): Check {
  return (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return bad(`${shown(v)} is not a dictionary`);
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const f = fields[k];
      if (!f) {
        if (!open) return bad(`Unexpected keys supplied: ${k}`);
        continue;
      }
      const r = f.check(x);
      if ('error' in r) return r;
      out[k] = r.ok;
    }
    for (const [k, f] of Object.entries(fields)) if (f.required && !(k in out)) return bad(`Validation of dictionary's keys failed. Expected keys: {'${k}'}`);
    return ok(out);
  };
}

/** Text only: whether it is an address is the role's question (it knows the subnet's version). */
const ipText = str(64, 'IP address');
const nullOr = (c: Check): Check => (v) => (v === null ? ok(null) : c(v));
const MAC = /^([0-9a-f]{2}[:-]){5}[0-9a-f]{2}$/i;
const HOST = /^[A-Za-z0-9]([A-Za-z0-9.-]{0,253}[A-Za-z0-9])?$/;

export const ATTRIBUTE_CHECKS = {
  any: (v: unknown) => ok(v),
  readOnly: (v: unknown) => ok(v),
  name: str(255),
  description: str(255),
  project: str(64, 'project id'),
  bool,
  uuid,
  uuidOrNull: nullOr(uuid),
  uuidList: list(uuid, 64),
  mtu: int(68, 9216),
  ipVersion: (v: unknown) => {
    const r = int(4, 6)(v);
    return 'ok' in r && (r.ok === 4 || r.ok === 6) ? r : bad(`${shown(v)} is not in [4, 6]`);
  },
  cidr: str(64, 'CIDR'),
  ip: ipText,
  ipOrNull: nullOr(ipText),
  pools: list(dict({ start: { check: ipText, required: true }, end: { check: ipText, required: true } }), 64),
  nameservers: list(ipText, 5),
  hostRoutes: list(dict({ destination: { check: str(64, 'CIDR'), required: true }, nexthop: { check: ipText, required: true } }), 20),
  ipv6Mode: nullOr((v) => (typeof v === 'string' && ['slaac', 'dhcpv6-stateful', 'dhcpv6-stateless'].includes(v) ? ok(v) : bad(`${shown(v)} is not in ['dhcpv6-stateful', 'dhcpv6-stateless', 'slaac', None]`))),
  nullOnly: (v: unknown) => (v === null ? ok(null) : bad(`${shown(v)} is not supported here`)),
  stringList: list(str(255), 16),
  mac: (v: unknown) => (typeof v === 'string' && MAC.test(v) ? ok(v.toLowerCase().replace(/-/g, ':')) : bad(`${shown(v)} is not a valid MAC address`)),
  fixedIps: list(dict({ subnet_id: { check: uuid }, ip_address: { check: ipText } }), 32),
  deviceId: str(255),
  deviceOwner: str(255),
  addressPairs: list(dict({ ip_address: { check: str(64, 'IP address'), required: true }, mac_address: { check: (v) => (typeof v === 'string' && MAC.test(v) ? ok(v.toLowerCase()) : bad(`${shown(v)} is not a valid MAC address`)) } }), 10),
  hostId: (v: unknown) => (v === '' || (typeof v === 'string' && HOST.test(v)) ? ok(v) : bad(`${shown(v)} is not a valid host name`)),
  vnicType: (v: unknown) => (typeof v === 'string' && ['normal', 'direct', 'macvtap', 'baremetal', 'direct-physical', 'virtio-forwarder', 'smart-nic', 'remote-managed'].includes(v) ? ok(v) : bad(`${shown(v)} is not a valid vnic type`)),
  bindingProfile: dict({}, true),
  dnsName: str(255),
  dnsDomain: str(255),
  dhcpOpts: list(dict({ opt_name: { check: str(64), required: true }, opt_value: { check: nullOr(str(255)) }, ip_version: { check: int(4, 6) } }), 20),
  networkType: (v: unknown) => (typeof v === 'string' && ['flat', 'vlan', 'local'].includes(v) ? ok(v) : bad(`${shown(v)} is not a supported network type (flat, vlan, local)`)),
  physnet: nullOr(str(64, 'physical network')),
  segmentationId: int(1, 4094, true),
  zoneHints: list(str(255), 8),
  gatewayInfo: nullOr(dict({
    network_id: { check: uuid, required: true },
    enable_snat: { check: bool },
    external_fixed_ips: { check: list(dict({ subnet_id: { check: uuid }, ip_address: { check: ipText } }), 8) },
  })),
} satisfies Record<string, Check>;

export type AttributeCheck = keyof typeof ATTRIBUTE_CHECKS;
