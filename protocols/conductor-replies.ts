/**
 * What the conductor's usage and admin verbs reply with (`conductor.usage`, `conductor.host-servers`,
 * `conductor.services`, `conductor.zone-summary`): shared by the API, which reads them, and the
 * conductor, which writes them.
 */
import type { ComputeNodeView } from './messages.js';

/** `conductor.usage`: what a project's live instances hold. */
export interface ProjectUsage {
  instances: number;
  cores: number;
  ram: number;
}

/** `conductor.host-servers`. */
export interface HostServer { host: string; name: string; uuid: string }
export interface HostServersReply { servers: HostServer[]; next?: { host: string; uuid: string } }

/** A compute-node record with the operator's switches and the hypervisor's identity (os-services, os-hypervisors). */
export interface ServiceView extends ComputeNodeView {
  disabledReason: string | null;
  forcedDown: boolean;
  availabilityZone: string | null;
  hypervisorVersion: number;
  cpuArch: string;
  createdAt: string;
  /** From the host's last report; null when its driver cannot tell. */
  diskAvailableLeast: number | null;
  uptime: string | null;
  hostIp: string | null;
  /** Instances on the host with a task under way (Nova's `current_workload`). */
  currentWorkload: number;
}

/** One page, in host order; `next` is the marker (a host) to continue from when more may follow. */
export interface ServicesReply { services: ServiceView[]; next?: string }
export interface ServiceReply { service: ServiceView }

/** `services`: a page of records, after `marker` (a host), optionally one host, a node substring, or one id. */
export interface ServicesQuery {
  limit?: number;
  marker?: string;
  host?: string;
  nodeContains?: string;
  /** A service or hypervisor id as the API shows it (UUID from 2.53, integer before). */
  id?: { kind: 'service' | 'hypervisor'; value: string };
}

/** `zone-summary`: the zones' host lists in, per zone its host count and whether any host is up and enabled out. */
export interface ZoneSummaryReply { zones: { zone: string; hosts: number; available: boolean }[] }
