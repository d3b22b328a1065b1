/**
 * Where a libvirt host keeps things under its instances path (Nova's layout): `<uuid>/` per guest
 * with its disks, domain XML, plan, console log and save file; `<uuid>_resize/` for what a cold
 * migration keeps for a revert; `_base/` for the image cache; `_snapshots/` for snapshot scratch.
 */
import { join } from 'node:path';

// Nova's uuids, lower case: a uuid is also a directory name, so nothing else may pass.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const isUuid = (s: string): boolean => UUID.test(s);

export interface InstanceFiles {
  dir: string;
  disk: string;
  eph0: string;
  swap: string;
  config: string;
  rescue: string;
  xml: string;
  plan: string;
  console: string;
  save: string;
}

export function instanceFiles(dir: string): InstanceFiles {
  const f = (name: string) => join(dir, name);
  return {
    dir, disk: f('disk'), eph0: f('disk.eph0'), swap: f('disk.swap'), config: f('disk.config'), rescue: f('disk.rescue'),
    xml: f('libvirt.xml'), plan: f('plan.json'), console: f('console.log'), save: f('managed.save'),
  };
}

export class Layout {
  constructor(readonly root: string) {}
  get base(): string { return join(this.root, '_base'); }
  get snapshots(): string { return join(this.root, '_snapshots'); }
  /** The guest's files (the uuid must have passed `isUuid`). */
  guest(uuid: string): InstanceFiles { return instanceFiles(join(this.root, uuid)); }
  /** What a cold migration keeps on the source for a revert. */
  kept(uuid: string): InstanceFiles { return instanceFiles(join(this.root, `${uuid}_resize`)); }
}

/** The disk files a cold migration copies (the rest is made again at the destination). */
export const MIGRATED_FILES = ['disk', 'disk.eph0', 'disk.swap', 'disk.config', 'plan.json'] as const;
