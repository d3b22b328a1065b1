/**
 * Libvirt hosts for one process (`novact up --driver libvirt`, tests, benches): per host, a
 * session-mode libvirtd of its own (runtime/services/libvirtd.ts) and a LibvirtDriver on it, each
 * with its own directories under `dir`, all on one LibvirtFabric so they can migrate to each other.
 * `stop` ends the daemons (and the guests' QEMU processes) after the compute role closed the drivers.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { LibvirtDriver, type LibvirtDriverOptions } from '../hosts/libvirt/libvirt-driver.js';
import { LibvirtFabric } from '../hosts/libvirt/fabric.js';
import { startLibvirtd, type LibvirtdHandle } from '../runtime/services/libvirtd.js';
import type { ComputeHost } from '../actors/compute/compute-role.js';

export type LibvirtHostOptions = Omit<LibvirtDriverOptions, 'uri' | 'instancesPath' | 'host' | 'fabric'>;

export interface LibvirtHosts {
  hosts: ComputeHost[];
  daemons: ReadonlyMap<string, LibvirtdHandle>;
  stop(): Promise<void>;
}

export async function startLibvirtHosts(names: string[], dir: string, opts: LibvirtHostOptions = {}): Promise<LibvirtHosts> {
  const fabric = new LibvirtFabric();
  const daemons = new Map<string, LibvirtdHandle>();
  const stop = async () => {
    await Promise.all([...daemons.values()].map((d) => d.stop()));
  };
  try {
    for (const name of names) {
      const base = join(dir, name);
      await mkdir(join(base, 'instances'), { recursive: true });
      daemons.set(name, await startLibvirtd({ dir: join(base, 'libvirtd') }));
    }
  } catch (err) {
    await stop();
    throw err;
  }
  const hosts = names.map((name) => ({
    name,
    driver: new LibvirtDriver({ ...opts, uri: daemons.get(name)!.uri, instancesPath: join(dir, name, 'instances'), host: name, fabric }),
  }));
  return { hosts, daemons, stop };
}
