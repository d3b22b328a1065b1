/**
 * The libvirt guest's console, diagnostics, admin password and crash dump. The console is the
 * serial log qemu writes to `<dir>/console.log`; per-vCPU times and disk counters come from
 * `virsh domstats` where virsh reaches the daemon (the binding has neither).
 */
import { open } from 'node:fs/promises';
import { DriverError, type GuestDiagnostics } from '../driver.js';
import { PowerState } from '../../protocols/states.js';
import type { Bound } from './bound.js';
import type { LibvirtCore } from './core.js';
import { countDisks } from './domain-xml.js';
import { domainName } from './domain-plan.js';
import { needGuest, requireState } from './guests.js';
import { domainNics } from './nics.js';

const { RUNNING, PAUSED } = PowerState;
/** How much of the log is read: Nova caps the console output it returns (100 KiB) too. */
const CONSOLE_TAIL_BYTES = 256 * 1024;

async function tail(path: string, maxBytes: number): Promise<string> {
  const f = await open(path, 'r').catch((e: NodeJS.ErrnoException) => { if (e.code === 'ENOENT') return undefined; throw e; });
  if (!f) return '';
  try {
    const { size } = await f.stat();
    const len = Math.min(size, maxBytes);
    const buf = Buffer.alloc(len);
    await f.read(buf, 0, len, size - len);
    return buf.toString('utf8');
  } finally {
    await f.close();
  }
}

/** The last `lines` lines of the console log (all that was read when omitted), CRs dropped. */
export async function consoleOutput(c: LibvirtCore, b: Bound, uuid: string, lines: number | undefined): Promise<string> {
  await needGuest(c, b, uuid);
  if (lines !== undefined && lines <= 0) return '';
  const text = (await b.race(tail(c.layout.guest(uuid).console, CONSOLE_TAIL_BYTES))).replace(/\r/g, '');
  const all = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  return (lines === undefined ? all : all.slice(-lines)).join('\n');
}

const DIAG_STATE: Record<number, GuestDiagnostics['state']> = {
  [PowerState.NOSTATE]: 'pending', [RUNNING]: 'running', [PAUSED]: 'paused', [PowerState.SHUTDOWN]: 'shutdown',
  [PowerState.CRASHED]: 'crashed', [PowerState.SUSPENDED]: 'suspended',
};

/** `virsh domstats` lines (`key=value`) as a map of the numbers, and the interfaces' indexes by device name. */
function parseStats(out: string): { stats: Map<string, number>; netIndex: Map<string, number> } {
  const stats = new Map<string, number>();
  const netIndex = new Map<string, number>();
  for (const line of out.split('\n')) {
    const eq = /^\s*([\w.]+)=(\d+)\s*$/.exec(line);
    if (eq) stats.set(eq[1]!, Number(eq[2]));
    const name = /^\s*net\.(\d+)\.name=(\S+)\s*$/.exec(line);
    if (name) netIndex.set(name[2]!, Number(name[1]));
  }
  return { stats, netIndex };
}

export async function diagnostics(c: LibvirtCore, b: Bound, uuid: string): Promise<GuestDiagnostics> {
  const f = await needGuest(c, b, uuid);
  const n = f.info.nrVirtCpu;
  const disks = countDisks(f.xml);
  const active = f.state === RUNNING || f.state === PAUSED;
  const { stats, netIndex } = active && c.conn.virshReachesDomains
    ? parseStats(await c.conn.virsh(b, ['domstats', '--vcpu', '--block', '--interface', domainName(uuid)]))
    : { stats: new Map<string, number>(), netIndex: new Map<string, number>() };
  const nics = domainNics(f.xml);
  const started = c.startedAt.get(uuid);
  const get = (k: string) => stats.get(k) ?? 0;
  return {
    state: DIAG_STATE[f.state] ?? 'pending', driver: 'libvirt', hypervisor: c.settings.domainType, hypervisor_os: 'linux',
    uptime: f.state === RUNNING && started !== undefined ? Math.floor((Date.now() - started) / 1000) : 0,
    config_drive: f.xml.includes('/disk.config'),
    num_cpus: n, num_disks: disks, num_nics: nics.length,
    memory_details: { maximum: Math.round(f.info.maxMem / 1024), used: active ? Math.round(f.info.memory / 1024) : 0 },
    // Without domstats (the in-process test driver) the domain's CPU time is split evenly.
    cpu_details: Array.from({ length: n }, (_, id) => ({
      id, time: stats.get(`vcpu.${id}.time`) ?? (active ? Math.round(f.info.cpuTime / n) : 0), utilisation: 0,
    })),
    disk_details: Array.from({ length: disks }, (_, i) => ({
      read_bytes: get(`block.${i}.rd.bytes`), read_requests: get(`block.${i}.rd.reqs`),
      write_bytes: get(`block.${i}.wr.bytes`), write_requests: get(`block.${i}.wr.reqs`), errors_count: get(`block.${i}.errors`),
    })),
    // Counters where the NIC has a host-side device libvirt reads them from (a tap); a user-mode NIC has none.
    nic_details: nics.map((nic) => {
      const i = nic.dev === undefined ? undefined : netIndex.get(nic.dev);
      const net = (k: string) => (i === undefined ? 0 : get(`net.${i}.${k}`));
      return {
        mac_address: nic.mac, rx_octets: net('rx.bytes'), rx_errors: net('rx.errs'), rx_drop: net('rx.drop'), rx_packets: net('rx.pkts'), rx_rate: null,
        tx_octets: net('tx.bytes'), tx_errors: net('tx.errs'), tx_drop: net('tx.drop'), tx_packets: net('tx.pkts'), tx_rate: null,
      };
    }),
  };
}

/**
 * Nova sets the password through the QEMU guest agent (hw_qemu_guest_agent=yes); this driver
 * does not drive an agent yet, so a running guest answers `unsupported` (Nova's 409).
 */
export async function setAdminPassword(c: LibvirtCore, b: Bound, uuid: string): Promise<void> {
  requireState(await needGuest(c, b, uuid), [RUNNING], 'set the admin password of');
  throw new DriverError('unsupported', `setting the admin password of ${uuid} needs the QEMU guest agent, which this driver does not drive`);
}

/** `virsh inject-nmi` (the binding has no NMI): the guest kernel's NMI handler runs (a crash dump if so configured). */
export async function triggerCrashDump(c: LibvirtCore, b: Bound, uuid: string): Promise<void> {
  requireState(await needGuest(c, b, uuid), [RUNNING, PAUSED], 'inject an NMI into');
  await c.conn.virsh(b, ['inject-nmi', domainName(uuid)]);
}
