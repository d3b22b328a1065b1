/**
 * Cold and live migration between fake hosts. Fake hosts that may migrate to each other share a
 * `FakeFabric` (the in-process stand-in for the network between hypervisors); a destination the
 * fabric does not know is unreachable, as a real one would be.
 */
import { DriverError, type CallOptions, type GuestInfo, type GuestSpec, type MigrationTarget } from '../driver.js';
import { PowerState } from '../../protocols/states.js';
import { toInfo, type FakeCore } from './fake-core.js';

const { RUNNING, PAUSED, SHUTDOWN } = PowerState;

/** The fake hosts that can reach each other, by host name. */
export class FakeFabric {
  private readonly hosts = new Map<string, FakeCore>();
  /** @internal called by FakeDriver's constructor. */
  join(core: FakeCore): void {
    if (this.hosts.has(core.hostname)) throw new Error(`fake fabric: host ${core.hostname} joined twice`);
    this.hosts.set(core.hostname, core);
  }
  /** @internal */
  leave(core: FakeCore): void {
    if (this.hosts.get(core.hostname) === core) this.hosts.delete(core.hostname);
  }
  /** @internal */
  reach(from: FakeCore, dest: MigrationTarget): FakeCore {
    const d = this.hosts.get(dest.host);
    if (!d || d.closed) throw new DriverError('failed', `${from.hostname}: destination ${dest.host} is unreachable`, true);
    return d;
  }
}

const unreachable = (c: FakeCore, dest: MigrationTarget) => new DriverError('failed', `${c.hostname}: destination ${dest.host} is unreachable (no fabric)`, true);

/** Source: power off, copy the disks to the destination, keep the guest for a revert. */
export function migrateOut(c: FakeCore, fabric: FakeFabric | undefined, uuid: string, dest: MigrationTarget, opts?: CallOptions): Promise<GuestInfo> {
  return c.run('migrateOut', uuid, opts, () => {
    const kept = c.kept?.get(uuid);
    if (kept) return toInfo(kept); // done already: a retry converges
    const g = c.need(uuid);
    if (!fabric) throw unreachable(c, dest);
    const d = fabric.reach(c, dest);
    c.setState(g, SHUTDOWN, `fake-hv: powered off for migration to ${dest.host}`);
    (d.migrated ??= new Map()).set(uuid, { imageId: g.imageId, diskGb: g.diskGb });
    c.guests.delete(uuid);
    (c.kept ??= new Map()).set(uuid, g);
    return toInfo(g);
  });
}

/** Destination: the guest from the migrated disks, with the spec's (new) flavor. */
export function finishMigration(c: FakeCore, spec: GuestSpec, powerOn: boolean, opts?: CallOptions): Promise<GuestInfo> {
  return c.run('finishMigration', spec.uuid, opts, () => {
    const existing = c.guests.get(spec.uuid);
    if (existing) return toInfo(existing);
    const disks = c.migrated?.get(spec.uuid);
    if (!disks) throw new DriverError('not-found', `${c.hostname}: no migrated disks for ${spec.uuid}`);
    c.migrated!.delete(spec.uuid);
    const g = c.create(spec, powerOn ? RUNNING : SHUTDOWN, disks.imageId);
    c.log(g, `fake-hv: migrated guest created (${powerOn ? 'powered on' : 'left off'})`);
    return toInfo(g);
  });
}

export function confirmMigration(c: FakeCore, uuid: string, opts?: CallOptions): Promise<void> {
  return c.run('confirmMigration', uuid, opts, () => { c.kept?.delete(uuid); });
}

export function revertMigration(c: FakeCore, uuid: string, opts?: CallOptions): Promise<void> {
  return c.run('revertMigration', uuid, opts, () => {
    c.guests.delete(uuid);
    c.migrated?.delete(uuid);
  });
}

/** Source: the kept guest comes back (old flavor, old disks). */
export function finishRevertMigration(c: FakeCore, uuid: string, powerOn: boolean, opts?: CallOptions): Promise<GuestInfo> {
  return c.run('finishRevertMigration', uuid, opts, () => {
    const g = c.kept?.get(uuid);
    if (!g) return toInfo(c.need(uuid)); // reverted already, or not-found
    c.kept!.delete(uuid);
    c.guests.set(uuid, g);
    return c.setState(g, powerOn ? RUNNING : SHUTDOWN, 'fake-hv: migration reverted');
  });
}

export function prepareIncoming(c: FakeCore, spec: GuestSpec, opts?: CallOptions): Promise<void> {
  return c.run('prepareIncoming', spec.uuid, opts, () => {
    if (c.guests.has(spec.uuid) || c.incoming?.has(spec.uuid)) return;
    (c.incoming ??= new Map()).set(spec.uuid, { spec, arrived: false });
  });
}

/**
 * Source: the transfer is the call's latency (and faults); `abortLiveMigration` stops it. On success
 * the guest exists on the destination, in the state it had here, and no longer here.
 */
export function liveMigrate(c: FakeCore, fabric: FakeFabric | undefined, uuid: string, dest: MigrationTarget, opts?: CallOptions): Promise<void> {
  const running = c.outgoing?.get(uuid);
  if (running) return running.p;
  const abort = new AbortController();
  const p = c.run('liveMigrate', uuid, opts, () => {
    const g = c.need(uuid);
    c.requireState(g, [RUNNING, PAUSED], 'live-migrate');
    if (!fabric) throw unreachable(c, dest);
    const d = fabric.reach(c, dest);
    const inc = d.incoming?.get(uuid);
    if (!inc) throw new DriverError('failed', `${dest.host} was not prepared for ${uuid}`);
    const arrived = d.create(inc.spec, g.powerState, g.imageId);
    arrived.startedAt = g.startedAt;
    d.log(arrived, `fake-hv: arrived by live migration from ${c.hostname}`);
    inc.arrived = true;
    c.guests.delete(uuid);
  }, abort.signal).finally(() => c.outgoing?.delete(uuid));
  (c.outgoing ??= new Map()).set(uuid, { p, abort });
  return p;
}

export async function abortLiveMigration(c: FakeCore, uuid: string, opts?: CallOptions): Promise<void> {
  const m = c.outgoing?.get(uuid);
  if (m) {
    m.abort.abort(new DriverError('aborted', `live migration of ${uuid} aborted`, false));
    await m.p.catch(() => undefined);
  }
  await c.run('abortLiveMigration', uuid, opts, () => { c.need(uuid); });
}

export function finishIncoming(c: FakeCore, uuid: string, opts?: CallOptions): Promise<GuestInfo> {
  return c.run('finishIncoming', uuid, opts, () => {
    const g = c.need(uuid);
    c.incoming?.delete(uuid);
    return toInfo(g);
  });
}

export function abortIncoming(c: FakeCore, uuid: string, opts?: CallOptions): Promise<void> {
  return c.run('abortIncoming', uuid, opts, () => {
    const inc = c.incoming?.get(uuid);
    if (!inc) return;
    c.incoming!.delete(uuid);
    if (inc.arrived) c.guests.delete(uuid);
  });
}
