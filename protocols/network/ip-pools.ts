/**
 * A subnet's gateway and allocation pools, as Neutron computes and checks them
 * (neutron/ipam/utils.py `generate_pools`, neutron/db/ipam_backend_mixin.py
 * `_gateway_ip_str`, `pools_to_ip_range`, `validate_allocation_pools`,
 * `validate_gw_out_of_pools`), with Neutron's messages.
 */
import { cidrContains, firstAddress, formatAddress, formatCidr, ipAddressError, lastAddress, parseIp, type Cidr, type IpVersion } from './ip.js';
import { pyRepr } from './py-text.js';

/** Addresses from `start` to `end`, both included. */
export interface IpRange { start: bigint; end: bigint }

export function rangeSize(r: IpRange): bigint {
  return r.end >= r.start ? r.end - r.start + 1n : 0n;
}

/** `start-end`, as netaddr prints an IPRange in Neutron's messages. */
export function formatRange(version: IpVersion, r: IpRange): string {
  return `${formatAddress(version, r.start)}-${formatAddress(version, r.end)}`;
}

/**
 * The gateway Neutron gives a subnet created without `gateway_ip`: IPv4 the network + 1; IPv6
 * the network address itself (the subnet-router anycast address, Neutron's default since Train,
 * bug 1682094). Null for IPv4 /31 and /32, which have no such address: there Neutron's own
 * default is refused (/31: "cannot be the network or broadcast IP address") or off the subnet
 * (/32).
 */
export function defaultGateway(c: Cidr): bigint | null {
  if (c.version === 6) return c.network;
  return c.prefix <= 30 ? c.network + 1n : null;
}

/**
 * The first and last address a pool may use: IPv4 leaves out the network and broadcast
 * addresses up to /30 (a /31 or /32 uses all), IPv6 leaves out the network address (the
 * subnet-router anycast address) and nothing else.
 */
export function usableBounds(c: Cidr): IpRange {
  const first = firstAddress(c);
  const last = lastAddress(c);
  if (c.version === 4) return c.prefix <= 30 ? { start: first + 1n, end: last - 1n } : { start: first, end: last };
  return { start: first + 1n, end: last };
}

/** `ranges` without one address (a range holding it is split around it). */
export function cutAddress(ranges: IpRange[], ip: bigint): IpRange[] {
  const out: IpRange[] = [];
  for (const r of ranges) {
    if (ip < r.start || ip > r.end) { out.push(r); continue; }
    if (r.start < ip) out.push({ start: r.start, end: ip - 1n });
    if (ip < r.end) out.push({ start: ip + 1n, end: r.end });
  }
  return out;
}

/**
 * Neutron's pools for a subnet created without `allocation_pools`: the usable bounds with the
 * gateway cut out. A single-address subnet (IPv4 /32, IPv6 /128) is that address, gateway or not,
 * as Neutron does.
 */
export function defaultPools(c: Cidr, gateway: bigint | null): IpRange[] {
  const first = firstAddress(c);
  const last = lastAddress(c);
  if (first === last) return [{ start: first, end: last }];
  const pools = [usableBounds(c)];
  return gateway === null ? pools : cutAddress(pools, gateway);
}

export type PoolErrorType =
  | 'InvalidInput'
  | 'HTTPBadRequest'
  | 'InvalidAllocationPool'
  | 'OutOfBoundsAllocationPool'
  | 'OverlappingAllocationPools'
  | 'GatewayConflictWithAllocationPools';

/** A refusal as Neutron answers it: its exception's name, HTTP status and message. */
export interface PoolError { type: PoolErrorType; status: 400 | 409; message: string }

const STATUS: Record<PoolErrorType, 400 | 409> = {
  InvalidInput: 400,
  HTTPBadRequest: 400,
  InvalidAllocationPool: 400,
  OutOfBoundsAllocationPool: 400,
  OverlappingAllocationPools: 409,
  GatewayConflictWithAllocationPools: 409,
};

function fail(type: PoolErrorType, message: string): PoolError {
  return { type, status: STATUS[type], message };
}

/** A pool as parsed from a request: its versions kept, so the subnet check can refuse a mismatch. */
export interface RequestedPool extends IpRange { version: IpVersion }

/**
 * Checks pools against a subnet in Neutron's order: each pool in turn for its version and its
 * bounds, then every pair for overlap, then the gateway against each pool. `pools` may carry a
 * `version` (from {@link parseAllocationPools}); without one they are taken as the subnet's.
 */
export function checkPools(c: Cidr, pools: readonly (IpRange | RequestedPool)[], gateway: bigint | null): PoolError | undefined {
  const cidrText = formatCidr(c);
  const bounds = usableBounds(c);
  for (const p of pools) {
    const version = 'version' in p ? p.version : c.version;
    const text = formatRange(version, p);
    if (version !== c.version || p.start > p.end) return fail('InvalidAllocationPool', `The allocation pool ${text} is not valid.`);
    if (p.start < bounds.start || p.end > bounds.end) {
      return fail('OutOfBoundsAllocationPool', `The allocation pool ${text} spans beyond the subnet cidr ${cidrText}.`);
    }
  }
  for (let i = 0; i < pools.length; i++) {
    for (let j = i + 1; j < pools.length; j++) {
      const [a, b] = [pools[i]!, pools[j]!];
      if (a.start <= b.end && b.start <= a.end) {
        return fail('OverlappingAllocationPools',
          `Found overlapping allocation pools: ${formatRange(c.version, a)} ${formatRange(c.version, b)} for subnet ${cidrText}.`);
      }
    }
  }
  if (gateway !== null) {
    const hit = pools.find((p) => gateway >= p.start && gateway <= p.end);
    if (hit) {
      return fail('GatewayConflictWithAllocationPools',
        `Gateway ip ${formatAddress(c.version, gateway)} conflicts with allocation pool ${formatRange(c.version, hit)}.`);
    }
  }
  return undefined;
}

/** {@link checkPools}'s message alone. */
export function validatePools(c: Cidr, pools: readonly IpRange[], gateway: bigint | null): string | undefined {
  return checkPools(c, pools, gateway)?.message;
}

/** Neutron's converter: an IPv6 value in canonical text, anything else as it came. */
function canonicalValue(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const ip = parseIp(v);
  return ip && ip.version === 6 ? formatAddress(6, ip.value) : v;
}

/** A Python set's repr of keys (`set()` when empty); Python's own order is per process. */
function keySet(keys: string[]): string {
  return keys.length === 0 ? 'set()' : `{${keys.map((k) => pyRepr(k)).join(', ')}}`;
}

/**
 * A request's `allocation_pools` (`[{start, end}]`) as ranges, refused the way Neutron refuses
 * it: the converter (`Invalid data format for allocation pools`), the `type:ip_pools` validator
 * (exact keys, each an IP address), then netaddr's IPRange (start and end of one version, start
 * not above end; the pool shown as the request's dict). Null (as Neutron) is no pools. The
 * subnet's version and bounds are {@link checkPools}'s.
 */
export function parseAllocationPools(raw: unknown): { pools: RequestedPool[] } | PoolError {
  const invalidFormat = fail('InvalidInput', 'Invalid input for operation: Invalid data format for allocation pools.');
  if (raw === null || raw === '' || (typeof raw === 'object' && !Array.isArray(raw) && Object.keys(raw).length === 0)) {
    return { pools: [] };
  }
  if (!Array.isArray(raw)) return invalidFormat;
  const dicts: Record<string, unknown>[] = [];
  for (const p of raw) {
    if (p === null || typeof p !== 'object' || Array.isArray(p)) return invalidFormat;
    dicts.push(Object.fromEntries(Object.entries(p).map(([k, v]) => [k, canonicalValue(v)])));
  }
  const reason = (r: string) => fail('HTTPBadRequest', `Invalid input for allocation_pools. Reason: ${r}.`);
  for (const d of dicts) {
    const keys = Object.keys(d);
    if (keys.length !== 2 || !('start' in d) || !('end' in d)) {
      return reason(`Validation of dictionary's keys failed. Expected keys: {'start', 'end'} Provided keys: ${keySet(keys)}`);
    }
    for (const k of ['start', 'end']) {
      const e = ipAddressError(d[k]);
      if (e) return reason(e);
    }
  }
  const pools: RequestedPool[] = [];
  for (const d of dicts) {
    const start = parseIp(d['start'] as string)!;
    const end = parseIp(d['end'] as string)!;
    if (start.version !== end.version || start.value > end.value) {
      return fail('InvalidAllocationPool', `The allocation pool ${pyRepr(d)} is not valid.`);
    }
    pools.push({ version: start.version, start: start.value, end: end.value });
  }
  return { pools };
}

/**
 * Neutron's `_prepare_allocation_pools` for a create: no `allocation_pools` in the request
 * (`undefined`) gives the default pools; otherwise they are parsed and checked against the
 * subnet and the gateway.
 */
export function prepareAllocationPools(c: Cidr, raw: unknown, gateway: bigint | null): { pools: IpRange[] } | PoolError {
  if (raw === undefined) return { pools: defaultPools(c, gateway) };
  const parsed = parseAllocationPools(raw);
  if (!('pools' in parsed)) return parsed;
  const problem = checkPools(c, parsed.pools, gateway);
  if (problem) return problem;
  return { pools: parsed.pools.map(({ start, end }) => ({ start, end })) };
}

/**
 * Neutron's check of a requested gateway (`check_gateway_invalid_in_subnet`): inside the subnet
 * an IPv4 gateway may not be the network or broadcast address; outside it anything goes (it is
 * taken as on-link). The message is `_validate_subnet`'s InvalidInput.
 */
export function gatewayError(c: Cidr, gateway: bigint): string | undefined {
  if (c.version === 4 && cidrContains(c, gateway) && (gateway === firstAddress(c) || gateway === lastAddress(c))) {
    return 'Invalid input for operation: Gateway is not valid on subnet.';
  }
  return undefined;
}

/** Device owners that may hold an IPv6 subnet's network address (neutron_lib ROUTER_PORT_OWNERS). */
export const ROUTER_PORT_OWNERS: readonly string[] = [
  'network:router_interface',
  'network:ha_router_replicated_interface',
  'network:router_interface_distributed',
  'network:router_centralized_snat',
  'network:router_gateway',
];

/**
 * Whether a port may have this fixed IP on the subnet (Neutron's `check_subnet_ip`): inside it,
 * and for IPv4 neither the network nor the broadcast address; for IPv6 the network address only
 * for a router's port (or an owner not yet known, ''). Neutron refuses the others with
 * {@link invalidIpForSubnet}.
 */
export function checkSubnetIp(c: Cidr, ip: bigint, deviceOwner = ''): boolean {
  if (!cidrContains(c, ip)) return false;
  if (c.version === 4) return ip !== firstAddress(c) && ip !== lastAddress(c);
  return ip !== c.network || deviceOwner === '' || ROUTER_PORT_OWNERS.includes(deviceOwner);
}

/** Neutron's InvalidIpForSubnet message (400). */
export function invalidIpForSubnet(ipText: string): string {
  return `IP address ${ipText} is not a valid IP for the specified subnet.`;
}
