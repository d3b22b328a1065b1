/**
 * Addresses per subnet: an allocator over the subnet's pools (free intervals, so a /64 costs what a
 * /24 does) beside the state's allocation map, both changed only through a `Tx`, so a refused
 * request gives its addresses back. The lowest free address is handed out, which keeps allocation
 * deterministic and makes a released address the next one reused.
 */
import { IpAllocator } from '../../protocols/network/ip-allocator.js';
import { formatAddress, parseCidr, parseIp, type Cidr } from '../../protocols/network/ip.js';
import type { IpRange } from '../../protocols/network/ip-pools.js';
import { inConflict } from '../../protocols/network/errors.js';
import type { Allocation, NetRow, NetState, Tx } from './net-state.js';

interface SubnetIpam {
  cidr: Cidr;
  allocator: IpAllocator;
}

export class Ipam {
  private readonly subnets = new Map<string, SubnetIpam>();

  constructor(private readonly state: NetState) {}

  /** (Re)builds a subnet's allocator from its pools and the addresses in use on it. */
  build(subnet: NetRow): void {
    const cidr = parseCidr(subnet.attrs.cidr as string)!.cidr;
    const pools = ((subnet.attrs.allocation_pools as { start: string; end: string }[]) ?? []).map((p): IpRange => ({ start: parseIp(p.start)!.value, end: parseIp(p.end)!.value }));
    const used: bigint[] = [];
    for (const a of this.state.allocations.values()) if (a.subnetId === subnet.id) used.push(parseIp(a.ip)!.value);
    this.subnets.set(subnet.id, { cidr, allocator: new IpAllocator(pools, used) });
  }

  drop(subnetId: string): void {
    this.subnets.delete(subnetId);
  }

  cidrOf(subnetId: string): Cidr | undefined {
    return this.subnets.get(subnetId)?.cidr;
  }

  freeCount(subnetId: string): bigint {
    return this.subnets.get(subnetId)?.allocator.freeCount() ?? 0n;
  }

  /** The lowest free address of the subnet's pools, or undefined when they are full. */
  allocate(tx: Tx, subnet: NetRow, portId: string): Allocation | undefined {
    const s = this.subnets.get(subnet.id);
    const ip = s?.allocator.allocate();
    if (s === undefined || ip === undefined) return undefined;
    tx.onUndo(() => s.allocator.release(ip));
    const a = { subnetId: subnet.id, ip: formatAddress(s.cidr.version, ip), portId, networkId: subnet.attrs.network_id as string };
    tx.take(a);
    return a;
  }

  /** A named address (inside the subnet, in a pool or not); 409 when another port holds it. */
  take(tx: Tx, subnet: NetRow, ip: bigint, portId: string): Allocation {
    const s = this.subnets.get(subnet.id)!;
    const text = formatAddress(s.cidr.version, ip);
    if (!s.allocator.take(ip)) throw inConflict(`IP address ${text} already allocated in subnet ${subnet.id}`, 'IpAddressAlreadyAllocated');
    tx.onUndo(() => s.allocator.release(ip));
    const a = { subnetId: subnet.id, ip: text, portId, networkId: subnet.attrs.network_id as string };
    tx.take(a);
    return a;
  }

  free(tx: Tx, a: Allocation): void {
    const s = this.subnets.get(a.subnetId);
    const ip = parseIp(a.ip)!.value;
    if (s) {
      s.allocator.release(ip);
      tx.onUndo(() => void s.allocator.take(ip));
    }
    tx.free(a);
  }
}
