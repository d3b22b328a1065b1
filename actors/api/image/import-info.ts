/**
 * The cluster's import methods and stores, as the image role configures them: asked once per API
 * process and kept (they change only with a restart). Glance sends them as headers on a created
 * image, which is how clients (openstacksdk) learn they may import.
 */
import type { ReplyOf } from '../../../protocols/catalog/index.js';
import type { ImageInfo } from '../../../protocols/catalog/image.js';
import type { Backend } from '../backend.js';
import type { ApiDeps } from '../deps.js';

type Info = ReplyOf<typeof ImageInfo>;
const infos = new WeakMap<Backend, Promise<Info>>();

/** The cluster's import methods and stores (configuration: asked of the image role once). */
export function importInfo(d: ApiDeps): Promise<Info> {
  let p = infos.get(d.backend);
  if (!p) {
    p = d.backend.imageInfo();
    infos.set(d.backend, p);
    p.catch(() => infos.delete(d.backend));
  }
  return p;
}

/** Glance's headers on a created image: how its data may be imported, and into which stores. */
export async function importHeaders(d: ApiDeps): Promise<Record<string, string>> {
  const info = await importInfo(d);
  return { 'OpenStack-image-import-methods': info.importMethods.join(','), 'OpenStack-image-store-ids': info.stores.map((s) => s.id).join(',') };
}

