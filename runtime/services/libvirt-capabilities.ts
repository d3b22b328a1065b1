/**
 * QEMU capabilities shared between novact's libvirtds. A new daemon probes QEMU on its first
 * domain call (≈5 s here, the longest part of a first boot); seeded with an earlier daemon's probe
 * it needs under one. libvirt checks the cached file against the QEMU binary, its own version, the
 * kernel and the CPU's microcode, and probes again when any changed, so a stale seed costs nothing.
 */
import { copyFile, mkdir, readdir, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultCapabilitiesCache(): string {
  return join(homedir(), '.cache', 'novact', 'libvirt-capabilities');
}

/** Where a session daemon whose XDG_CACHE_HOME is `xdgCache` keeps its QEMU probes. */
export function daemonCapabilitiesDir(xdgCache: string): string {
  return join(xdgCache, 'libvirt', 'qemu', 'cache', 'capabilities');
}

async function copyXml(from: string, to: string): Promise<void> {
  let names: string[];
  try {
    names = (await readdir(from)).filter((n) => n.endsWith('.xml'));
  } catch {
    return; // Nothing probed or shared yet.
  }
  await mkdir(to, { recursive: true, mode: 0o700 });
  for (const name of names) {
    // Through a private temp name and a rename: daemons stopping together write the same file.
    const tmp = join(to, `.${name}.${process.pid}.tmp`);
    await copyFile(join(from, name), tmp);
    await rename(tmp, join(to, name));
  }
}

/** Before the daemon starts. */
export const seedCapabilities = (shared: string, xdgCache: string): Promise<void> => copyXml(shared, daemonCapabilitiesDir(xdgCache));

/** After it stopped: its probe (fresh, or the seed it kept) for the next daemon. */
export const harvestCapabilities = (shared: string, xdgCache: string): Promise<void> => copyXml(daemonCapabilitiesDir(xdgCache), shared);
