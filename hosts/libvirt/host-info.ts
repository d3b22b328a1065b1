/**
 * What a libvirt host reports about itself: capacity from `nodeGetInfo` and the instances path's
 * filesystem, the hypervisor's version from `virsh version`, the machine's uptime line and address,
 * what the disk can take at the least (its free space less the guests' disks' room to grow), and
 * usage summed over this host's guests plus what cold migrations keep here for a revert (Nova counts
 * allocations, not load).
 */
import { readdir, statfs } from 'node:fs/promises';
import type { HostInfo, HostUsage } from '../driver.js';
import { PowerState } from '../../protocols/states.js';
import type { Bound } from './bound.js';
import { planMeta } from './build.js';
import type { LibvirtCore } from './core.js';
import { listFound } from './guests.js';
import { isUuid } from './layout.js';
import { machineIp, machineUptime } from './machine.js';
import { overCommittedBytes } from './overcommit.js';

const GIB = 1024 ** 3;

export async function hostInfo(c: LibvirtCore, b: Bound): Promise<HostInfo> {
  const node = await c.conn.call(b, 'node info', (h) => h.nodeGetInfo());
  const fs = await b.race(statfs(c.layout.root));
  const [uptime, hostIp, over] = await b.race(Promise.all([machineUptime(), machineIp(), overCommittedBytes(c.layout)]));
  const info: HostInfo = {
    hypervisorType: 'QEMU',
    hypervisorVersion: await c.conn.hypervisorVersion(b),
    cpuArch: node.model,
    vcpus: node.cpus,
    memoryMb: Math.floor(node.memory / 1024),
    diskGb: Math.floor((fs.blocks * fs.bsize) / GIB),
    // Nova: (free - over-committed) / GiB, truncated by the integer column.
    diskAvailableLeastGb: Math.trunc((fs.bavail * fs.bsize - over) / GIB),
  };
  if (uptime !== undefined) info.uptime = uptime;
  if (hostIp !== undefined) info.hostIp = hostIp;
  return info;
}

/** The uuids with a `<uuid>_resize` directory here. */
export async function keptUuids(c: LibvirtCore): Promise<string[]> {
  const names = await readdir(c.layout.root).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('_resize')).map((n) => n.slice(0, -'_resize'.length)).filter(isUuid);
}

export async function usage(c: LibvirtCore, b: Bound): Promise<HostUsage> {
  const u: HostUsage = { vcpusUsed: 0, memoryMbUsed: 0, diskGbUsed: 0, runningVms: 0 };
  const add = (m: { vcpus: number; memoryMb: number; diskGb: number }) => {
    u.vcpusUsed += m.vcpus;
    u.memoryMbUsed += m.memoryMb;
    u.diskGbUsed += m.diskGb;
  };
  for (const f of await listFound(c, b)) {
    add(f.meta);
    if (f.state === PowerState.RUNNING) u.runningVms++;
  }
  for (const uuid of await keptUuids(c)) {
    const m = await planMeta(c.layout.kept(uuid));
    if (m) add(m);
  }
  return u;
}
