/**
 * The libvirt guest operations on its images: snapshot (the root disk converted into a standalone
 * qcow2, `-U` so a running guest need not stop, streamed into the sink), rescue (a domain booting
 * the rescue image's overlay with the guest's disk second), unrescue, and rebuild (disks made again
 * from the new image, same uuid, same creation time).
 */
import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DriverError, type GuestInfo, type GuestSpec, type ImageDataSink } from '../driver.js';
import { PowerState } from '../../protocols/states.js';
import type { Bound } from './bound.js';
import { build, define, hardStop, imageIds, loadPlan, start, teardown, undoBuild } from './build.js';
import type { LibvirtCore } from './core.js';
import { convert, createOverlay } from './disks.js';
import { buildDomainXml } from './domain-xml.js';
import { gib, rescuePlan } from './domain-plan.js';
import { needGuest, requireState } from './guests.js';
import { current } from './power.js';

const { RUNNING, SHUTDOWN, CRASHED } = PowerState;
const CHUNK = 1024 * 1024;
const SINK_ABORT_MS = 10_000;

export async function snapshot(c: LibvirtCore, b: Bound, uuid: string, sink: ImageDataSink): Promise<void> {
  await needGuest(c, b, uuid);
  await mkdir(c.layout.snapshots, { recursive: true });
  const tmp = join(c.layout.snapshots, `${uuid}.${randomUUID()}.qcow2`);
  try {
    await b.race(convert(c.layout.guest(uuid).disk, 'qcow2', tmp, 'qcow2', b.opts));
    for await (const chunk of createReadStream(tmp, { highWaterMark: CHUNK })) {
      await b.race(sink.write(chunk as Buffer));
    }
    await b.race(sink.finish());
  } catch (err) {
    // The image must not keep half the data; the sink's own abort is bounded too.
    const why = err instanceof Error ? err.message : String(err);
    await Promise.race([sink.abort(why).catch(() => undefined), new Promise((r) => setTimeout(r, SINK_ABORT_MS).unref())]);
    if (err instanceof DriverError) throw err;
    throw new DriverError('failed', `snapshot of ${uuid}: the image sink failed: ${why}`, true);
  } finally {
    await rm(tmp, { force: true });
  }
}

/** Nova rescues from active, stopped or error; a rescued guest is started again if it is not running. */
export async function rescue(c: LibvirtCore, b: Bound, uuid: string, rescueImage: string): Promise<GuestInfo> {
  const f = await needGuest(c, b, uuid);
  if (f.meta.rescueImage !== undefined) {
    if (f.state !== RUNNING) { await hardStop(c, b, uuid); await start(c, b, uuid); }
    return current(c, b, uuid);
  }
  requireState(f, [RUNNING, SHUTDOWN, CRASHED], 'rescue');
  const files = c.layout.guest(uuid);
  const plan = await loadPlan(files);
  // Only the id is known: the rescue image is read as the guest's own image format.
  const base = await b.race(c.cache.acquire({ id: rescueImage, diskFormat: f.meta.imageFormat, properties: {} }, uuid, b.opts));
  await hardStop(c, b, uuid);
  await rm(files.rescue, { force: true });
  await b.race(createOverlay(base.path, base.format, files.rescue, f.meta.rootGb > 0 ? gib(f.meta.rootGb) : undefined, b.opts));
  await define(c, b, uuid, buildDomainXml(rescuePlan(plan, files, rescueImage)));
  await start(c, b, uuid);
  return current(c, b, uuid);
}

export async function unrescue(c: LibvirtCore, b: Bound, uuid: string): Promise<GuestInfo> {
  const f = await needGuest(c, b, uuid);
  const id = f.meta.rescueImage;
  if (id === undefined) return current(c, b, uuid);
  const files = c.layout.guest(uuid);
  const plan = await loadPlan(files);
  await hardStop(c, b, uuid);
  await define(c, b, uuid, buildDomainXml(plan));
  await rm(files.rescue, { force: true });
  // The guest may have been rescued from its own image: that reference stays.
  if (!imageIds(plan.meta).includes(id)) c.release(id, uuid);
  await start(c, b, uuid);
  return current(c, b, uuid);
}

export async function rebuild(c: LibvirtCore, b: Bound, spec: GuestSpec): Promise<GuestInfo> {
  const f = await needGuest(c, b, spec.uuid);
  await teardown(c, b, spec.uuid, true);
  if (f.meta.rescueImage !== undefined) c.release(f.meta.rescueImage, spec.uuid);
  try {
    await build(c, b, spec, f.meta.created, { action: 'none' });
  } catch (e) {
    return undoBuild(c, b, spec, e);
  }
  return current(c, b, spec.uuid);
}
