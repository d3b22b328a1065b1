/**
 * The libvirt hosts of one process that can cold-migrate to each other, by host name (the
 * in-process stand-in for Nova's ssh between compute hosts): a migration's source copies the disks
 * straight into the destination's instances path. A destination the fabric does not know is
 * unreachable, as a real one would be.
 */
import { DriverError, type MigrationTarget } from '../driver.js';

export interface FabricHost {
  instancesPath: string;
  /** The destination's libvirt URI (live migration). */
  uri: string;
}

export class LibvirtFabric {
  private readonly hosts = new Map<string, FabricHost>();

  /** @internal called by LibvirtDriver's constructor. */
  join(host: string, entry: FabricHost): void {
    if (this.hosts.has(host)) throw new Error(`libvirt fabric: host ${host} joined twice`);
    this.hosts.set(host, entry);
  }

  /** @internal called by LibvirtDriver's close. */
  leave(host: string, entry: FabricHost): void {
    if (this.hosts.get(host) === entry) this.hosts.delete(host);
  }

  /** @internal */
  reach(from: string, dest: MigrationTarget): FabricHost {
    const d = this.hosts.get(dest.host);
    if (!d) throw new DriverError('failed', `${from}: destination ${dest.host} is unreachable`, true);
    return d;
  }
}
