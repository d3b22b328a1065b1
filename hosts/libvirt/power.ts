/**
 * Power operations on a libvirt guest. Nova's meanings: power off is a clean shutdown given
 * `softShutdownMs` (shutdown_timeout), then a destroy; soft reboot is shutdown and start, falling
 * back to hard (destroy and start); pause is suspend/resume of the vCPUs; suspend saves the guest's
 * memory to `<dir>/managed.save` (SUSPENDED = shut off with that file present) and resume restores it.
 */
import { rm } from 'node:fs/promises';
import type { GuestInfo } from '../driver.js';
import { PowerState } from '../../protocols/states.js';
import type { Bound } from './bound.js';
import { hardStop, start } from './build.js';
import { classify } from './connection.js';
import type { LibvirtCore } from './core.js';
import { needGuest, onDomain, requireState, toInfo, type Found } from './guests.js';

const { RUNNING, PAUSED, SUSPENDED } = PowerState;
const LIBVIRT_SHUTOFF = 5;
const SHUTDOWN_POLL_MS = 100;
const SHUTDOWN_RETRY_MS = 2_000;

export async function current(c: LibvirtCore, b: Bound, uuid: string): Promise<GuestInfo> {
  return toInfo(await needGuest(c, b, uuid));
}

/**
 * Asks the guest to shut down and waits up to `softShutdownMs`; true when it did. The request is
 * sent again every `SHUTDOWN_RETRY_MS` (Nova's retry_interval): a guest whose ACPI daemon was not
 * listening yet missed the first one.
 */
async function cleanShutdown(c: LibvirtCore, b: Bound, uuid: string): Promise<boolean> {
  const ms = c.settings.softShutdownMs;
  if (ms <= 0) return false;
  const ask = () => onDomain(c, b, uuid, 'shut down', (h, d) => h.domainShutdown(d)).catch((e: unknown) => {
    if (classify('shutdown', e).error.kind !== 'invalid-state') throw e;
  });
  const end = Date.now() + ms;
  let next = Date.now();
  for (;;) {
    if (Date.now() >= next) { await ask(); next = Date.now() + SHUTDOWN_RETRY_MS; }
    if ((await needGuest(c, b, uuid)).info.state === LIBVIRT_SHUTOFF) return true;
    const left = end - Date.now();
    if (left <= 0) return false;
    await b.sleep(Math.min(SHUTDOWN_POLL_MS, left));
  }
}

/** Restores the saved guest (running) and drops the save file. */
async function restore(c: LibvirtCore, b: Bound, uuid: string): Promise<void> {
  const save = c.layout.guest(uuid).save;
  await c.conn.call(b, `restore ${uuid}`, (h) => h.domainRestore(save));
  await rm(save, { force: true });
  c.startedAt.set(uuid, Date.now());
}

const dropSave = (c: LibvirtCore, uuid: string) => rm(c.layout.guest(uuid).save, { force: true });

/** Stops the guest from whatever state it is in (cleanly when it runs); it stays defined. */
export async function stop(c: LibvirtCore, b: Bound, f: Found): Promise<void> {
  const uuid = f.meta.uuid;
  if (f.state === SUSPENDED) return dropSave(c, uuid);
  if (f.info.state === LIBVIRT_SHUTOFF) return;
  if (f.state === RUNNING && (await cleanShutdown(c, b, uuid))) { c.startedAt.delete(uuid); return; }
  await hardStop(c, b, uuid);
}

export async function powerOff(c: LibvirtCore, b: Bound, uuid: string): Promise<GuestInfo> {
  await stop(c, b, await needGuest(c, b, uuid));
  return current(c, b, uuid);
}

export async function powerOn(c: LibvirtCore, b: Bound, uuid: string): Promise<GuestInfo> {
  const f = await needGuest(c, b, uuid);
  if (f.state === PAUSED) await onDomain(c, b, uuid, 'resume', (h, d) => h.domainResume(d));
  else if (f.state === SUSPENDED) await restore(c, b, uuid);
  else if (f.state !== RUNNING) {
    if (f.info.state !== LIBVIRT_SHUTOFF) await hardStop(c, b, uuid); // crashed, or stuck shutting down
    await start(c, b, uuid);
  }
  return current(c, b, uuid);
}

export async function reboot(c: LibvirtCore, b: Bound, uuid: string, hard: boolean): Promise<GuestInfo> {
  const f = await needGuest(c, b, uuid);
  if (!hard) {
    requireState(f, [RUNNING], 'soft reboot');
    if (!(await cleanShutdown(c, b, uuid))) await hardStop(c, b, uuid);
  } else {
    if (f.state === SUSPENDED) await dropSave(c, uuid);
    else if (f.info.state !== LIBVIRT_SHUTOFF) await hardStop(c, b, uuid);
  }
  await start(c, b, uuid);
  return current(c, b, uuid);
}

export async function pause(c: LibvirtCore, b: Bound, uuid: string): Promise<GuestInfo> {
  requireState(await needGuest(c, b, uuid), [RUNNING], 'pause');
  await onDomain(c, b, uuid, 'pause', (h, d) => h.domainSuspend(d));
  return current(c, b, uuid);
}

export async function unpause(c: LibvirtCore, b: Bound, uuid: string): Promise<GuestInfo> {
  requireState(await needGuest(c, b, uuid), [PAUSED], 'unpause');
  await onDomain(c, b, uuid, 'unpause', (h, d) => h.domainResume(d));
  return current(c, b, uuid);
}

export async function suspend(c: LibvirtCore, b: Bound, uuid: string): Promise<GuestInfo> {
  requireState(await needGuest(c, b, uuid), [RUNNING], 'suspend');
  const save = c.layout.guest(uuid).save;
  await onDomain(c, b, uuid, 'save', (h, d) => h.domainSave(d, save));
  c.startedAt.delete(uuid);
  return current(c, b, uuid);
}

export async function resume(c: LibvirtCore, b: Bound, uuid: string): Promise<GuestInfo> {
  requireState(await needGuest(c, b, uuid), [SUSPENDED], 'resume');
  await restore(c, b, uuid);
  return current(c, b, uuid);
}
