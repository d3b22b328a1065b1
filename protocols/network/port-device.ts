/**
 * The host-side device name of a port's NIC, as Nova names it (nova/network/neutron.py
 * `_build_vif_model`: `"tap" + port id`, cut to `NIC_NAME_LEN`, 14, under Linux's 15-byte
 * interface names). The tap a host plugs, the link id in the guest's `network_data.json` and the
 * device the port's nftables rules match are all this one name.
 */
export const NIC_NAME_LEN = 14;

export function portDeviceName(portId: string): string {
  return `tap${portId}`.slice(0, NIC_NAME_LEN);
}
