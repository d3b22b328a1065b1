/**
 * The fake's operations on one guest beyond power: console, diagnostics, snapshot, rescue, rebuild,
 * admin password, crash dump. Each goes through `FakeCore.run` (faults, deadlines, close).
 */
import { createHash } from 'node:crypto';
import { DriverError, type CallOptions, type GuestDiagnostics, type GuestInfo, type GuestSpec, type ImageDataSink } from '../driver.js';
import { PowerState } from '../../protocols/states.js';
import { toInfo, type FakeCore, type Guest } from './fake-core.js';

const { RUNNING, PAUSED, SHUTDOWN, CRASHED } = PowerState;

/** Snapshot chunks: small, so a test sees several writes without allocating much. */
export const FAKE_SNAPSHOT_CHUNK = 16 * 1024;
export const FAKE_SNAPSHOT_CHUNKS = 4;

/**
 * The bytes a fake guest's root disk holds: derived from the guest and the image it was built from
 * (SHA-256 in counter mode), so a test can compute what a snapshot must contain.
 */
export function fakeDiskBytes(uuid: string, imageId: string, chunk: number): Uint8Array {
  const out = new Uint8Array(FAKE_SNAPSHOT_CHUNK);
  for (let i = 0; i < FAKE_SNAPSHOT_CHUNK; i += 32) {
    out.set(createHash('sha256').update(`${uuid}:${imageId}:${chunk}:${i}`).digest().subarray(0, Math.min(32, FAKE_SNAPSHOT_CHUNK - i)), i);
  }
  return out;
}

export function consoleOutput(c: FakeCore, uuid: string, lines: number | undefined, opts?: CallOptions): Promise<string> {
  return c.run('consoleOutput', uuid, opts, () => {
    const g = c.need(uuid);
    const all = [
      `Linux version 6.1.0-fake (novact fake hypervisor ${c.info.hypervisorVersion})`,
      `Booting guest ${g.name} (${g.uuid}) on ${c.hostname}`,
      `cloud-init: ${g.name} reached target Multi-User System`,
      `${g.name} login:`,
      ...(g.log ?? []),
    ];
    return (lines === undefined ? all : lines > 0 ? all.slice(-lines) : []).join('\n');
  });
}

const DIAG_STATE: Record<number, GuestDiagnostics['state']> = {
  [PowerState.NOSTATE]: 'pending', [RUNNING]: 'running', [PAUSED]: 'paused', [SHUTDOWN]: 'shutdown',
  [CRASHED]: 'crashed', [PowerState.SUSPENDED]: 'suspended',
};

export function diagnostics(c: FakeCore, uuid: string, opts?: CallOptions): Promise<GuestDiagnostics> {
  return c.run('diagnostics', uuid, opts, () => {
    const g = c.need(uuid);
    const up = g.powerState === RUNNING ? Math.floor((c.clock.now() - g.startedAt) / 1000) : 0;
    const mac = `fa:16:3e:${g.uuid.replace(/-/g, '').slice(0, 6).match(/../g)!.join(':')}`;
    return {
      state: DIAG_STATE[g.powerState] ?? 'pending',
      driver: 'fake', hypervisor: c.info.hypervisorType, hypervisor_os: 'fake-os',
      uptime: up, config_drive: false, num_cpus: g.vcpus, num_disks: 1, num_nics: 1,
      memory_details: { maximum: g.memoryMb, used: g.powerState === RUNNING ? g.memoryMb : 0 },
      cpu_details: Array.from({ length: g.vcpus }, (_, id) => ({ id, time: up * 1e9, utilisation: 0 })),
      disk_details: [{ read_bytes: 0, read_requests: 0, write_bytes: 0, write_requests: 0, errors_count: 0 }],
      nic_details: [{
        mac_address: mac, rx_octets: 0, rx_errors: 0, rx_drop: 0, rx_packets: 0, rx_rate: null,
        tx_octets: 0, tx_errors: 0, tx_drop: 0, tx_packets: 0, tx_rate: null,
      }],
    };
  });
}

/**
 * Writes `fakeDiskBytes` chunk by chunk; the deadline, a signal or close may stop it between chunks,
 * and then (as on a sink failure) the sink is aborted so the image does not keep half the data.
 */
export function snapshot(c: FakeCore, uuid: string, sink: ImageDataSink, opts?: CallOptions): Promise<void> {
  return c.run('snapshot', uuid, opts, async (check) => {
    const g = c.need(uuid);
    const { imageId } = g;
    c.log(g, 'fake-hv: snapshot started');
    try {
      for (let i = 0; i < FAKE_SNAPSHOT_CHUNKS; i++) {
        await sink.write(fakeDiskBytes(uuid, imageId, i));
        check();
      }
      await sink.finish();
    } catch (err) {
      await sink.abort(err instanceof Error ? err.message : String(err)).catch(() => undefined);
      if (err instanceof DriverError) throw err;
      throw new DriverError('failed', `snapshot of ${uuid}: the image sink failed: ${err instanceof Error ? err.message : String(err)}`, true);
    }
  });
}

/** Nova rescues from active, stopped or error; a rescued guest is returned as is (retries converge). */
export function rescue(c: FakeCore, uuid: string, rescueImage: string, opts?: CallOptions): Promise<GuestInfo> {
  return c.run('rescue', uuid, opts, () => {
    const g = c.need(uuid);
    if (g.rescueImage !== undefined) return toInfo(g);
    c.requireState(g, [RUNNING, SHUTDOWN, CRASHED], 'rescue');
    g.rescueImage = rescueImage;
    return c.setState(g, RUNNING, `fake-hv: rescue boot from image ${rescueImage}`);
  });
}

export function unrescue(c: FakeCore, uuid: string, opts?: CallOptions): Promise<GuestInfo> {
  return c.run('unrescue', uuid, opts, () => {
    const g = c.need(uuid);
    if (g.rescueImage === undefined) return toInfo(g);
    g.rescueImage = undefined;
    g.powerState = SHUTDOWN; // the rescue domain is destroyed, then the guest boots from its own disk
    return c.setState(g, RUNNING, 'fake-hv: booted from own disk (unrescue)');
  });
}

/** The disks are made again from `spec.image` (so a snapshot afterwards holds the new image's bytes). */
export function rebuild(c: FakeCore, spec: GuestSpec, opts?: CallOptions): Promise<GuestInfo> {
  return c.run('rebuild', spec.uuid, opts, () => {
    const g = c.need(spec.uuid);
    g.imageId = spec.image.id;
    g.name = spec.name;
    c.keepSpec(g, spec);
    g.rescueImage = undefined;
    g.powerState = SHUTDOWN;
    return c.setState(g, RUNNING, `fake-hv: rebuilt from image ${spec.image.id}`);
  });
}

export function setAdminPassword(c: FakeCore, uuid: string, opts?: CallOptions): Promise<void> {
  return c.run('setAdminPassword', uuid, opts, () => {
    const g: Guest = c.need(uuid);
    // libvirt sets it through the guest agent, which answers only in a running guest.
    c.requireState(g, [RUNNING], 'set the admin password of');
    c.log(g, 'qemu-ga: admin password changed'); // never the password itself
  });
}

export function triggerCrashDump(c: FakeCore, uuid: string, opts?: CallOptions): Promise<void> {
  return c.run('triggerCrashDump', uuid, opts, () => {
    const g = c.need(uuid);
    c.requireState(g, [RUNNING, PAUSED], 'inject an NMI into');
    c.log(g, 'Kernel panic - not syncing: NMI: Not continuing (crash dump written)');
  });
}
