/**
 * Live migration between libvirt hosts of one fabric (Nova's pre_live_migration, live_migration
 * with non-shared storage, post_live_migration_at_destination, rollback): the destination makes the
 * guest's directory and empty-on-top disks over its own `_base` and marks it `incoming`; the source
 * runs `virsh migrate --live --copy-storage-inc` with the destination's own domain XML (its paths,
 * its host name), so the guest arrives as the destination's. The binding has no migration call.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DriverError, type GuestInfo, type GuestSpec, type MigrationTarget } from '../driver.js';
import { PowerState } from '../../protocols/states.js';
import type { Bound } from './bound.js';
import { build, loadPlan, removeDomain, teardown } from './build.js';
import type { Connection } from './connection.js';
import type { LibvirtCore } from './core.js';
import { buildDomainXml } from './domain-xml.js';
import { domainName } from './domain-plan.js';
import { exists, findGuest, needGuest, requireState, toInfo } from './guests.js';
import { instanceFiles } from './layout.js';

const { RUNNING, PAUSED } = PowerState;
const marker = (c: LibvirtCore, uuid: string) => join(c.layout.guest(uuid).dir, 'incoming');

/** Whether live migration can work at all on this connection (libvirt's test driver cannot migrate). */
export function possible(conn: Connection): boolean {
  return conn.virshReachesDomains;
}

/** Destination: the guest's disks and plan, not defined, marked incoming. Idempotent. */
export async function prepareIncoming(c: LibvirtCore, b: Bound, spec: GuestSpec): Promise<void> {
  if (await findGuest(c, b, spec.uuid)) return;
  if (await exists(marker(c, spec.uuid))) return;
  await rm(c.layout.guest(spec.uuid).dir, { recursive: true, force: true });
  // Built as for a spawn but not started: the domain comes with the migration.
  await build(c, b, spec, new Date().toISOString(), { action: 'none' }, { define: false });
  await writeFile(marker(c, spec.uuid), '');
}

export async function liveMigrate(c: LibvirtCore, b: Bound, uuid: string, dest: MigrationTarget): Promise<void> {
  requireState(await needGuest(c, b, uuid), [RUNNING, PAUSED], 'live-migrate');
  if (!c.fabric) throw new DriverError('failed', `${c.settings.host}: destination ${dest.host} is unreachable (no fabric)`, true);
  const target = c.fabric.reach(c.settings.host, dest);
  const destFiles = instanceFiles(join(target.instancesPath, uuid));
  if (!(await exists(join(destFiles.dir, 'incoming')))) throw new DriverError('failed', `${dest.host} was not prepared for ${uuid}`);
  const xml = buildDomainXml(await loadPlan(destFiles));
  const dir = await mkdtemp(join(tmpdir(), 'novact-migrate-'));
  try {
    const file = join(dir, 'domain.xml');
    await writeFile(file, xml);
    await c.conn.virsh(b, [
      // Both definitions are the destination's: without --persistent-xml the source's inactive one (its paths, its host) persists.
      'migrate', '--live', '--persistent', '--undefinesource', '--copy-storage-inc', '--xml', file, '--persistent-xml', file,
      '--migrateuri', 'tcp://127.0.0.1', '--listen-address', '127.0.0.1', '--disks-uri', 'tcp://127.0.0.1',
      domainName(uuid), dest.uri ?? target.uri,
    ]);
  } catch (e) {
    // A killed virsh leaves the job to libvirt; ask it to stop (bounded on its own).
    if (b.signal.aborted) {
      const cb = await c.cleanupBound(b, `abort migration of ${uuid}`);
      await c.conn.virsh(cb, ['domjobabort', domainName(uuid)]).catch(() => undefined);
      cb.dispose();
    }
    throw e;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  await rm(c.layout.guest(uuid).dir, { recursive: true, force: true });
  c.watch.forget(uuid);
}

/** Destination: the guest arrived; the mark goes. */
export async function finishIncoming(c: LibvirtCore, b: Bound, uuid: string): Promise<GuestInfo> {
  const f = await needGuest(c, b, uuid);
  await rm(marker(c, uuid), { force: true });
  return toInfo(f);
}

/** Destination: a preparation (or a half-arrived guest) is dropped; a finished arrival stays. */
export async function abortIncoming(c: LibvirtCore, b: Bound, uuid: string): Promise<void> {
  if (!(await exists(marker(c, uuid)))) return;
  const f = await findGuest(c, b, uuid);
  if (f) await removeDomain(c, b, uuid);
  await teardown(c, b, uuid, false);
}
