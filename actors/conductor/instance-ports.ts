/**
 * An instance's ports, asked of the network role: bound to the host that runs the guest (a move
 * takes its NICs along, a rebuild keeps them), released when the instance is gone, and as the host
 * plugs them. A cluster without a network role has no ports: nobody answers its subjects.
 */
import { NetInstanceAllocate, NetInstanceDeallocate, type Nic } from '../../protocols/catalog/network.js';
import type { GuestNic } from '../../protocols/host.js';
import type { InstanceRow } from '../../runtime/db/entities/index.js';
import type { Bridge } from '../../runtime/nats/bridge.js';
import { isNoResponders } from '../../runtime/nats/request-mux.js';

const noNetworkService = isNoResponders;

/** The instance's ports, found by instance and bound to `host`; none without a network role. */
export async function bindPorts(bridge: Bridge, row: InstanceRow, host: string, key: string, timeoutMs: number): Promise<Nic[]> {
  try {
    const body = { instanceId: row.uuid, projectId: row.projectId, host, requested: 'none' as const };
    return (await bridge.call(NetInstanceAllocate, ['instance'], body, { timeoutMs, idempotencyKey: key })).nics;
  } catch (err) {
    if (noNetworkService(err)) return [];
    throw err;
  }
}

/** Ports the build made are deleted, ports it was given unbound; no network role: nothing to do. */
export async function deallocatePorts(bridge: Bridge, uuid: string, timeoutMs: number): Promise<void> {
  try {
    await bridge.call(NetInstanceDeallocate, ['instance'], { instanceId: uuid }, { timeoutMs, idempotencyKey: `${uuid}.ports.release` });
  } catch (err) {
    if (!noNetworkService(err)) throw err;
  }
}

/** A port as the host plugs it. */
export const guestNic = (n: Nic): GuestNic => ({
  portId: n.portId, networkId: n.networkId, mac: n.mac, mtu: n.mtu,
  fixedIps: n.fixedIps.map((f) => ({
    address: f.address, version: f.version, cidr: f.cidr, gateway: f.gateway,
    ...(f.dns ? { dns: f.dns } : {}), ...(f.routes ? { routes: f.routes } : {}), ...(f.ipv6AddressMode ? { ipv6AddressMode: f.ipv6AddressMode } : {}),
  })),
});
