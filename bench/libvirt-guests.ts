/**
 * Real guests through the cluster client, timed for bench/libvirt.ts: request → ACTIVE (task done),
 * request → the tiny guest's `novact-tiny: ready` on its serial console (read the way the API's
 * os-getConsoleOutput reads it), delete, and the resident memory of a guest's QEMU process.
 */
import { readdir, readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NovactClient } from '../cluster/client.js';
import { domainName } from '../hosts/libvirt/domain-plan.js';
import type { BuildRequest } from '../protocols/messages.js';

export const READY_MARKER = 'novact-tiny: ready';
/** How often the console is read: the ready figures are this coarse. */
export const CONSOLE_POLL_MS = 250;
const ACTIVE_TIMEOUT_MS = 240_000;
const READY_TIMEOUT_MS = 240_000;
const DELETE_TIMEOUT_MS = 60_000;

export interface BootTiming {
  id: string;
  activeMs: number;
  readyMs?: number;
}

export async function waitActive(client: NovactClient, id: string): Promise<void> {
  const s = await client.waitForServer(id, (v) => v.status === 'ERROR' || (v.status === 'ACTIVE' && v.taskState === null), ACTIVE_TIMEOUT_MS);
  if (s.status === 'ERROR') throw new Error(`server ${id} went ERROR${s.fault ? `: ${s.fault.message}` : ''}`);
}

/** Polls the console's last lines until the marker shows (the guest prints it last). */
export async function waitReady(client: NovactClient, id: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const r = await client.serverQuery(id, 'getConsoleOutput', { length: 5 }, { timeoutMs: 10_000 });
    if (String(r.result?.output ?? '').includes(READY_MARKER)) return;
    if (Date.now() > deadline) throw new Error(`${READY_MARKER} not on ${id}'s console within ${READY_TIMEOUT_MS} ms`);
    await sleep(CONSOLE_POLL_MS);
  }
}

/** One boot from the request on; `ready: false` stops at ACTIVE. */
export async function timedBoot(client: NovactClient, req: BuildRequest, ready: boolean): Promise<BootTiming> {
  const t0 = performance.now();
  const { id } = await client.createServer(req, { timeoutMs: 60_000 });
  await waitActive(client, id);
  const activeMs = performance.now() - t0;
  if (!ready) return { id, activeMs };
  await waitReady(client, id);
  return { id, activeMs, readyMs: performance.now() - t0 };
}

export async function deleteServers(client: NovactClient, ids: readonly string[]): Promise<void> {
  await Promise.all(ids.map(async (id) => {
    await client.deleteServer(id, { timeoutMs: 60_000 });
    await client.waitForServer(id, (s) => s.status === 'DELETED', DELETE_TIMEOUT_MS);
  }));
}

/** VmRSS (MiB) of the QEMU process running the guest's domain (its `-name guest=<domain>,…`), if found. */
export async function qemuRssMb(uuid: string): Promise<number | undefined> {
  for (const pid of (await readdir('/proc')).filter((n) => /^\d+$/.test(n))) {
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (!cmd.includes(`guest=${domainName(uuid)},`)) continue;
    const kb = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''))?.[1];
    return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
  }
  return undefined;
}
