/**
 * Cold migration and resize between libvirt hosts of one `LibvirtFabric` (Nova's
 * migrate_disk_and_power_off / finish_migration / confirm / revert). The source powers the guest
 * off, renames its directory to `<uuid>_resize` (kept for a revert), copies the disks into the
 * destination's instances path and undefines its domain; the destination rebases the root overlay
 * onto its own `_base`, grows the disks to the new flavor and defines the guest there. Each step is
 * ordered so that a retry after a failure anywhere picks up where it stopped.
 */
import { constants } from 'node:fs';
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DriverError, type GuestInfo, type GuestSpec, type MigrationTarget } from '../driver.js';
import { PowerState } from '../../protocols/states.js';
import type { Bound } from './bound.js';
import { acquireImages, define, imageIds, loadPlan, planMeta, removeDomain, savePlan, start, teardown } from './build.js';
import { buildConfigDrive } from './config-drive.js';
import type { LibvirtCore } from './core.js';
import { createBlank, grow } from './disks.js';
import { buildDomainXml } from './domain-xml.js';
import { diskSizes, gib, planDomain } from './domain-plan.js';
import { run } from './exec.js';
import { exists, findGuest, needGuest, toInfo } from './guests.js';
import { MIGRATED_FILES } from './layout.js';
import type { GuestMeta } from './metadata.js';
import { current, stop } from './power.js';

const { RUNNING, SHUTDOWN } = PowerState;

const keptInfo = (m: GuestMeta): GuestInfo => ({ uuid: m.uuid, name: m.name, powerState: SHUTDOWN, vcpus: m.vcpus, memoryMb: m.memoryMb, diskGb: m.diskGb });

export async function migrateOut(c: LibvirtCore, b: Bound, uuid: string, dest: MigrationTarget): Promise<GuestInfo> {
  const kept = c.layout.kept(uuid);
  const own = c.layout.guest(uuid);
  const f = await findGuest(c, b, uuid);
  if (!f) {
    const meta = await planMeta(kept);
    if (meta) return keptInfo(meta); // done already: a retry converges
    throw new DriverError('not-found', `guest ${uuid} not found on ${c.settings.host}`);
  }
  if (!c.fabric) throw new DriverError('failed', `${c.settings.host}: destination ${dest.host} is unreachable (no fabric)`, true);
  const target = c.fabric.reach(c.settings.host, dest);
  await stop(c, b, f);
  if (!(await exists(kept.dir))) await rename(own.dir, kept.dir);
  const to = join(target.instancesPath, uuid);
  // Copied beside the destination directory, then renamed: a destination directory is complete.
  if (!(await exists(to))) {
    const tmp = `${to}.migrating`;
    await rm(tmp, { recursive: true, force: true });
    await mkdir(tmp, { recursive: true });
    for (const name of MIGRATED_FILES) {
      const src = join(kept.dir, name);
      if (await exists(src)) await b.race(copyFile(src, join(tmp, name), constants.COPYFILE_FICLONE));
    }
    await rename(tmp, to);
  }
  await removeDomain(c, b, uuid);
  c.watch.forget(uuid);
  return keptInfo(f.meta);
}

/** `qemu-img rebase -u`: the copied overlay names the source's base; this host's copy of the same image replaces it. */
async function rebase(b: Bound, disk: string, base: string, baseFormat: string): Promise<void> {
  await b.race(run('qemu-img', ['rebase', '-u', '-f', 'qcow2', '-F', baseFormat, '-b', base, disk], b.opts));
}

export async function finishMigration(c: LibvirtCore, b: Bound, spec: GuestSpec, powerOn: boolean): Promise<GuestInfo> {
  const uuid = spec.uuid;
  const existing = await findGuest(c, b, uuid);
  if (existing) return toInfo(existing);
  const files = c.layout.guest(uuid);
  if (!(await exists(files.disk))) throw new DriverError('not-found', `${c.settings.host}: no migrated disks for ${uuid}`);
  const before = await planMeta(files);
  const { image, kernel, ramdisk } = await acquireImages(c, b, spec);
  await rebase(b, files.disk, image.path, image.format);
  const sizes = diskSizes(spec);
  if (sizes.rootGb > 0) await b.race(grow(files.disk, 'qcow2', gib(sizes.rootGb), b.opts));
  if (sizes.ephemeralGb > 0) {
    if (await exists(files.eph0)) await b.race(grow(files.eph0, 'qcow2', gib(sizes.ephemeralGb), b.opts));
    else await b.race(createBlank(files.eph0, gib(sizes.ephemeralGb), b.opts));
  }
  // Swap holds nothing worth keeping: made again at the new size.
  await rm(files.swap, { force: true });
  if (sizes.swapMb > 0) await b.race(createBlank(files.swap, sizes.swapMb * 1024 * 1024, b.opts));
  const created = before?.created ?? new Date().toISOString();
  if (spec.configDrive && !(await exists(files.config))) await b.race(buildConfigDrive(spec, files.config, {}, b.opts));
  const plan = planDomain({
    spec, host: c.settings.host, type: c.settings.domainType, files, created, nicBackend: c.settings.nicBackend,
    ...(kernel ? { kernel: kernel.path } : {}), ...(ramdisk ? { initrd: ramdisk.path } : {}),
  });
  await savePlan(files, plan);
  await define(c, b, uuid, buildDomainXml(plan));
  if (powerOn) await start(c, b, uuid);
  return current(c, b, uuid);
}

/** Source: drops the kept directory and its cache references (those a guest of the uuid here still uses stay). */
export async function confirmMigration(c: LibvirtCore, b: Bound, uuid: string): Promise<void> {
  const kept = c.layout.kept(uuid);
  const meta = await planMeta(kept);
  await rm(kept.dir, { recursive: true, force: true });
  if (!meta) return;
  const live = await findGuest(c, b, uuid);
  const inUse = new Set(live ? imageIds(live.meta) : []);
  for (const id of imageIds(meta)) if (!inUse.has(id)) c.release(id, uuid);
}

/** Destination: the migrated guest and its directory go; a kept directory (a resize on one host) stays. */
export async function revertMigration(c: LibvirtCore, b: Bound, uuid: string): Promise<void> {
  const f = await findGuest(c, b, uuid);
  const keptHere = await exists(c.layout.kept(uuid).dir);
  if (keptHere) {
    if (f) await removeDomain(c, b, uuid);
    await rm(c.layout.guest(uuid).dir, { recursive: true, force: true });
  } else {
    await teardown(c, b, uuid, f !== undefined);
  }
  await rm(`${c.layout.guest(uuid).dir}.migrating`, { recursive: true, force: true });
  c.watch.forget(uuid);
}

/** Source: the kept directory back in place, the old domain defined again (old flavor). */
export async function finishRevertMigration(c: LibvirtCore, b: Bound, uuid: string, powerOn: boolean): Promise<GuestInfo> {
  const kept = c.layout.kept(uuid);
  const own = c.layout.guest(uuid);
  if (await exists(kept.dir)) {
    if (!(await findGuest(c, b, uuid))) await rm(own.dir, { recursive: true, force: true });
    await rename(kept.dir, own.dir);
  }
  const plan = await loadPlan(own).catch(() => undefined);
  let f = await findGuest(c, b, uuid);
  if (!f) {
    if (!plan) throw new DriverError('not-found', `guest ${uuid} not found on ${c.settings.host}`);
    await define(c, b, uuid, buildDomainXml(plan));
    for (const id of imageIds(plan.meta)) c.adopt(id, uuid);
    f = await needGuest(c, b, uuid);
  }
  if (powerOn && f.state !== RUNNING) await start(c, b, uuid);
  return current(c, b, uuid);
}
