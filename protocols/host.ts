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
}

/** Resources the guests on this host use, as the hypervisor sees them. */
export interface HostUsage {
  vcpusUsed: number;
  memoryMbUsed: number;
  diskGbUsed: number;
  runningVms: number;
}

export interface GuestSpec {
  uuid: string;
  name: string;
  vcpus: number;
  memoryMb: number;
  diskGb: number;
  image: { id: string; diskFormat: string; properties: Record<string, string> };
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
