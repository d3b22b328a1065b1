/**
 * The registered hosts: which identity (public key) may act as which host. Registration is the
 * allow-list: a host name no identity holds cannot publish a report or serve a request at all.
 * Registering hosts moves them to the new identity (a reinstalled hypervisor gets a new key), and an
 * identity left without hosts is dropped.
 */
import type { HostUser } from './nats-conf.js';

export class HostUsers {
  private readonly byKey = new Map<string, Set<string>>();
  private readonly owner = new Map<string, string>();

  assign(publicKey: string, hosts: readonly string[]): void {
    for (const h of hosts) {
      const prev = this.owner.get(h);
      if (prev !== undefined && prev !== publicKey) {
        const set = this.byKey.get(prev)!;
        set.delete(h);
        if (set.size === 0) this.byKey.delete(prev);
      }
      this.owner.set(h, publicKey);
    }
    let mine = this.byKey.get(publicKey);
    if (!mine) this.byKey.set(publicKey, (mine = new Set()));
    for (const h of hosts) mine.add(h);
  }

  ownerOf(host: string): string | undefined {
    return this.owner.get(host);
  }

  users(): HostUser[] {
    return [...this.byKey].map(([publicKey, hosts]) => ({ publicKey, hosts: [...hosts] }));
  }
}
