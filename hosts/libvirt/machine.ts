/**
 * What the machine the driver runs on says about itself, read where `uptime` and Nova's `my_ip`
 * read it: /proc/uptime, /proc/loadavg and utmp for the uptime line, the routing table for the
 * address of the interface the default route leaves by.
 */
import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { uptimeLine } from '../uptime-line.js';

/** Where the facts are read (tests point them at files of their own). */
export interface MachinePaths { uptime: string; loadavg: string; utmp: string; route: string }
export const PROC: MachinePaths = { uptime: '/proc/uptime', loadavg: '/proc/loadavg', utmp: '/run/utmp', route: '/proc/net/route' };

// glibc's `struct utmp` on Linux: 384 bytes, `ut_type` (short) first, `ut_user` at 44.
const UTMP_RECORD = 384;
const USER_PROCESS = 7;
const UT_USER = 44;

/** Logged-in sessions, as `uptime` counts them: USER_PROCESS records with a user name. No utmp: none. */
async function users(path: string): Promise<number> {
  const buf = await readFile(path).catch(() => Buffer.alloc(0));
  let n = 0;
  for (let at = 0; at + UTMP_RECORD <= buf.length; at += UTMP_RECORD) {
    if (buf.readInt16LE(at) === USER_PROCESS && buf[at + UT_USER] !== 0) n++;
  }
  return n;
}

/** The machine's `uptime` line at `now` (local time, as `uptime` prints it); undefined when /proc cannot tell. */
export async function machineUptime(now = new Date(), paths: MachinePaths = PROC): Promise<string | undefined> {
  try {
    const [up, load, n] = await Promise.all([readFile(paths.uptime, 'utf8'), readFile(paths.loadavg, 'utf8'), users(paths.utmp)]);
    const upSeconds = Number(up.trim().split(/\s+/)[0]);
    const avg = load.trim().split(/\s+/).slice(0, 3).map(Number);
    if (!Number.isFinite(upSeconds) || avg.length !== 3 || !avg.every(Number.isFinite)) return undefined;
    return uptimeLine({
      clock: { hours: now.getHours(), minutes: now.getMinutes(), seconds: now.getSeconds() },
      upSeconds, users: n, load: [avg[0]!, avg[1]!, avg[2]!],
    });
  } catch {
    return undefined;
  }
}

/**
 * The address Nova's `my_ip` defaults to: the first IPv4 address of the interface the default route
 * leaves by, else the first external one, else IPv6 likewise (not link-local); undefined when there is none.
 */
export async function machineIp(paths: MachinePaths = PROC): Promise<string | undefined> {
  const table = await readFile(paths.route, 'utf8').catch(() => '');
  // Columns: Iface Destination Gateway Flags RefCnt Use Metric Mask …; the default route is 0.0.0.0/0.
  const viaDefault = table.split('\n').slice(1).map((l) => l.trim().split(/\s+/)).find((c) => c[1] === '00000000' && c[7] === '00000000')?.[0];
  const all = Object.entries(networkInterfaces()).flatMap(([name, addrs]) => (addrs ?? []).map((a) => ({ name, ...a }))).filter((a) => !a.internal && !(a.family === 'IPv6' && a.scopeid !== 0));
  const pick = (family: string) => all.find((a) => a.family === family && a.name === viaDefault) ?? all.find((a) => a.family === family);
  return (pick('IPv4') ?? pick('IPv6'))?.address;
}
