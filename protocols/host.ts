/**
 * What a host says about itself and its guests: the data a hypervisor driver returns and the host
 * verbs carry over NATS. Pure types, below both the wire catalog and the drivers (hosts/driver.ts
 * re-exports them), so protocols/ never imports hosts/.
 */
import type { PowerState } from './states.js';

export interface HostInfo {
  hypervisorType: string;
  hypervisorVersion: number;
  cpuArch: string;
  vcpus: number;
  memoryMb: number;
  diskGb: number;
  /** The host's `uptime` line (Nova's `get_host_uptime`), as of this call; absent: the driver cannot tell. */
  uptime?: string;
  /** The host's own address (Nova's `my_ip`, `host_ip`); absent: unknown. */
  hostIp?: string;
  /**
   * What the disk can take at the least (Nova's `disk_available_least`, GiB): free space less what
   * the guests' sparse disks may still grow by. Negative when they may outgrow it; absent: unknown.
   */
  diskAvailableLeastGb?: number;
}

/** Resources the guests on this host use, as the hypervisor sees them. */
export interface HostUsage {
  vcpusUsed: number;
  memoryMbUsed: number;
  diskGbUsed: number;
  runningVms: number;
}

/** The image a guest is built from, with what a host verifies the downloaded bytes against. */
export interface GuestImage {
  id: string;
  diskFormat: string;
  properties: Record<string, string>;
  sizeBytes?: number;
  checksum?: string | null;
  osHashAlgo?: string | null;
  osHashValue?: string | null;
}

/** The project's key pair as the guest gets it (config drive `public_keys`). */
export interface GuestKeyPair {
  name: string;
  publicKey: string;
  type: string;
}

export interface GuestSpec {
  uuid: string;
  name: string;
  vcpus: number;
  memoryMb: number;
  /** Root plus ephemeral: what the ledger holds for the guest. */
  diskGb: number;
  image: GuestImage;
  /** The flavor's split of `diskGb` (absent: all of it is root) and its swap in MiB (absent: none). */
  rootGb?: number;
  ephemeralGb?: number;
  swapMb?: number;
  flavor?: { id: string; name: string };
  projectId?: string;
  userId?: string;
  /** The guest's hostname (Nova's `hostname`, sanitised from the display name). */
  hostname?: string;
  keyPair?: GuestKeyPair;
  /** Base64, as the API took it (at most 64 KiB decoded). */
  userData?: string;
  /** Build a config drive (ISO 9660 labelled `config-2`) for the guest. */
  configDrive?: boolean;
  /** The server's metadata (config drive `meta`). */
  metadata?: Record<string, string>;
  /** Its ports, in order: a NIC each (MAC, MTU) and what `network_data.json` says of them. */
  nics?: GuestNic[];
}

/** One port of a guest as its host plugs it. */
export interface GuestNic {
  portId: string;
  networkId: string;
  mac: string;
  mtu: number;
  fixedIps: GuestFixedIp[];
}

/** A port's address with what `network_data.json` says of its subnet. */
export interface GuestFixedIp {
  address: string;
  version: number;
  cidr: string;
  gateway: string | null;
  /** The subnet's `dns_nameservers` (absent: none). */
  dns?: string[];
  /** The subnet's `host_routes` (absent: none). */
  routes?: { destination: string; nexthop: string }[];
  /** The subnet's `ipv6_address_mode` (absent: none). */
  ipv6AddressMode?: string;
}

export interface GuestInfo {
  uuid: string;
  name: string;
  powerState: PowerState;
  vcpus: number;
  memoryMb: number;
  diskGb: number;
}

/** A lifecycle change the hypervisor noticed on its own (crash, guest-initiated shutdown). */
export interface DriverEvent {
  uuid: string;
  powerState: PowerState;
  at: number;
}
