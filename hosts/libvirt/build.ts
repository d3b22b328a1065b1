/**
 * Building a guest from its spec (spawn, rebuild) and taking one apart (destroy, a failed build):
 * the images from the cache (with the kernel and ramdisk the image names), the disks under the
 * instance directory (Nova's layout: `disk` a qcow2 overlay on `_base/<image>` grown to the root
 * size, `disk.eph0`, `disk.swap`, `disk.config`), the plan and XML beside them, the domain defined
 * and started. Undoing is the same list backwards, and each step tolerates what is already gone.
 */
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { DriverError, type GuestSpec } from '../driver.js';
import type { FaultDecision } from '../fake/fault-plan.js';
import type { Bound } from './bound.js';
import { buildConfigDrive } from './config-drive.js';
import { classify } from './connection.js';
import type { LibvirtCore } from './core.js';
import { createBlank, createOverlay } from './disks.js';
import { buildDomainXml, type DomainPlan } from './domain-xml.js';
import { diskSizes, gib, imageSettings, planDomain, readPlan } from './domain-plan.js';
import { exists } from './guests.js';
import type { InstanceFiles } from './layout.js';
import type { CachedImage } from './image-cache.js';
import type { GuestMeta } from './metadata.js';

/** The image ids a guest holds in the cache (its cache references are under its uuid). */
export function imageIds(meta: GuestMeta): string[] {
  return [meta.imageId, meta.kernelId, meta.ramdiskId, meta.rescueImage].filter((x): x is string => x !== undefined);
}

export function releaseImages(c: LibvirtCore, meta: GuestMeta): void {
  for (const id of imageIds(meta)) c.release(id, meta.uuid);
}

/** Writes the plan and its XML into the instance directory. */
export async function savePlan(files: InstanceFiles, plan: DomainPlan): Promise<void> {
  await writeFile(files.plan, JSON.stringify(plan, null, 1));
  await writeFile(files.xml, buildDomainXml(plan));
}

export async function loadPlan(files: InstanceFiles): Promise<DomainPlan> {
  return readPlan(await readFile(files.plan, 'utf8'), files.plan);
}

/** The guest's image from the cache, with the kernel and ramdisk it names (Nova's AMI style), held for the guest. */
export async function acquireImages(c: LibvirtCore, b: Bound, spec: GuestSpec): Promise<{ image: CachedImage; kernel?: CachedImage; ramdisk?: CachedImage }> {
  const s = imageSettings(spec.image.properties);
  const aux = (id: string | undefined, diskFormat: string) =>
    id === undefined ? undefined : b.race(c.cache.acquire({ id, diskFormat, properties: {} }, spec.uuid, b.opts));
  const [image, kernel, ramdisk] = await Promise.all([
    b.race(c.cache.acquire(spec.image, spec.uuid, b.opts)), aux(s.kernelId, 'aki'), aux(s.ramdiskId, 'ari'),
  ]);
  return { image, ...(kernel ? { kernel } : {}), ...(ramdisk ? { ramdisk } : {}) };
}

/** Defines `xml` (replacing a definition of the same uuid) without starting it. */
export async function define(c: LibvirtCore, b: Bound, uuid: string, xml: string): Promise<void> {
  await c.conn.call(b, `define ${uuid}`, (h) => h.domainDefineXML(xml));
}

/**
 * Creates the guest's disks, plan and domain from `spec` into its (fresh) directory, and starts
 * it (`define: false`: files only, for a live migration's destination). `created` is kept across rebuilds. An injected `fault` lands after the domain is defined, so a
 * failure is undone from the furthest point a real one could reach.
 */
export async function build(c: LibvirtCore, b: Bound, spec: GuestSpec, created: string, fault: FaultDecision, o: { define?: boolean } = {}): Promise<void> {
  const files = c.layout.guest(spec.uuid);
  const { image, kernel, ramdisk } = await acquireImages(c, b, spec);
  await mkdir(files.dir, { recursive: true });
  const sizes = diskSizes(spec);
  // Root 0 is Nova's "as large as the image": no growth.
  await b.race(createOverlay(image.path, image.format, files.disk, sizes.rootGb > 0 ? gib(sizes.rootGb) : undefined, b.opts));
  if (sizes.ephemeralGb > 0) await b.race(createBlank(files.eph0, gib(sizes.ephemeralGb), b.opts));
  if (sizes.swapMb > 0) await b.race(createBlank(files.swap, sizes.swapMb * 1024 * 1024, b.opts));
  if (spec.configDrive) await b.race(buildConfigDrive(spec, files.config, {}, b.opts));
  const plan = planDomain({
    spec, host: c.settings.host, type: c.settings.domainType, files, created, nicBackend: c.settings.nicBackend,
    ...(kernel ? { kernel: kernel.path } : {}), ...(ramdisk ? { initrd: ramdisk.path } : {}),
  });
  await savePlan(files, plan);
  if (o.define === false) return;
  await define(c, b, spec.uuid, buildDomainXml(plan));
  await c.apply(b, fault);
  await start(c, b, spec.uuid);
}

/** Starts the defined domain. */
export async function start(c: LibvirtCore, b: Bound, uuid: string): Promise<void> {
  await c.conn.call(b, `start ${uuid}`, async (h) => h.domainCreate(await h.domainLookupByUUIDString(uuid)));
  c.startedAt.set(uuid, Date.now());
}

/** Stops the domain now (a pulled plug); a domain not running is left alone. */
export async function hardStop(c: LibvirtCore, b: Bound, uuid: string): Promise<void> {
  await c.conn.call(b, `destroy ${uuid}`, async (h) => {
    try {
      await h.domainDestroy(await h.domainLookupByUUIDString(uuid));
    } catch (e) {
      const kind = classify('destroy', e).error.kind;
      if (kind !== 'invalid-state' && kind !== 'not-found') throw e;
    }
  });
  c.startedAt.delete(uuid);
}

/** Stops and undefines the domain when there is one; absent is fine. */
export async function removeDomain(c: LibvirtCore, b: Bound, uuid: string): Promise<void> {
  await hardStop(c, b, uuid);
  await c.conn.call(b, `undefine ${uuid}`, async (h) => {
    try {
      await h.domainUndefine(await h.domainLookupByUUIDString(uuid));
    } catch (e) {
      if (classify('undefine', e).error.kind !== 'not-found') throw e;
    }
  });
}

/** The metadata of the guest in `files` from its plan, when the directory holds one. */
export async function planMeta(files: InstanceFiles): Promise<GuestMeta | undefined> {
  if (!(await exists(files.plan))) return undefined;
  return (await loadPlan(files).catch(() => undefined))?.meta;
}

/**
 * Removes the guest entirely: the domain (only when it is ours: `owned`), its directory and the
 * cache references of what the directory's plan names. `spec` covers a build that failed before
 * its plan was written.
 */
export async function teardown(c: LibvirtCore, b: Bound, uuid: string, owned: boolean, spec?: GuestSpec): Promise<void> {
  const files = c.layout.guest(uuid);
  // The files go even when libvirt does not answer (the domain's error is reported after).
  const failure = owned ? await removeDomain(c, b, uuid).then(() => undefined, (e: unknown) => e) : undefined;
  const meta = await planMeta(files);
  await rm(files.dir, { recursive: true, force: true });
  if (meta) releaseImages(c, meta);
  if (spec) {
    const { kernel_id: k, ramdisk_id: r } = spec.image.properties;
    for (const id of [spec.image.id, k, r]) if (id) c.release(id, uuid);
  }
  if (failure !== undefined) throw failure;
}

/** A failed build's cleanup, bounded on its own; its failure is reported with the build's. */
export async function undoBuild(c: LibvirtCore, b: Bound, spec: GuestSpec, err: unknown): Promise<never> {
  const cb = await c.cleanupBound(b, `cleanup of ${spec.uuid}`);
  try {
    await teardown(c, cb, spec.uuid, true, spec);
  } catch (e) {
    throw new DriverError(kindOf(err), `${message(err)}; and its cleanup failed: ${message(e)}`, false);
  } finally {
    cb.dispose();
  }
  throw err instanceof DriverError ? err : new DriverError('failed', message(err));
}

const message = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const kindOf = (e: unknown): DriverError['kind'] => (e instanceof DriverError ? e.kind : 'failed');
