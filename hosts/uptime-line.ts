/**
 * The line `uptime` prints (procps), which Nova's drivers answer as the host's uptime and clients
 * parse (openstackclient's `hypervisor show` splits it into host_time, uptime, users, load_average):
 * ` 08:32:11 up 93 days, 18:25,  1 user,  load average: 0.20, 0.12, 0.14`.
 */

export interface UptimeFacts {
  /** The host's wall clock, as `uptime` shows it (local time on a real host). */
  clock: { hours: number; minutes: number; seconds: number };
  upSeconds: number;
  users: number;
  load: readonly [number, number, number];
}

/** The shape of such a line (the contract checks what a driver reports against it). */
export const UPTIME_LINE = /^ \d\d:\d\d:\d\d up (\d+ days?, )?(\d+ min|[ \d]\d:\d\d), +\d+ users?, +load average: \d+\.\d\d, \d+\.\d\d, \d+\.\d\d$/;

const two = (n: number) => String(n).padStart(2, '0');

export function uptimeLine(f: UptimeFacts): string {
  const up = Math.max(0, Math.floor(f.upSeconds));
  const days = Math.floor(up / 86_400);
  const hours = Math.floor(up / 3_600) % 24;
  const minutes = Math.floor(up / 60) % 60;
  const { clock: c } = f;
  return [
    ` ${two(c.hours)}:${two(c.minutes)}:${two(c.seconds)} up `,
    days > 0 ? `${days} day${days === 1 ? '' : 's'}, ` : '',
    hours > 0 ? `${String(hours).padStart(2)}:${two(minutes)}, ` : `${minutes} min, `,
    `${String(f.users).padStart(2)} user${f.users === 1 ? '' : 's'}, `,
    ` load average: ${f.load.map((l) => l.toFixed(2)).join(', ')}`,
  ].join('');
}
