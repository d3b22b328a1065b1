/**
 * The image actor's import verbs: `import` (Glance's `POST /v2/images/{id}/import`, accepted at once
 * and done by the Importer in the background) and the internal `imported` (the Importer's report).
 * Glance's statuses: a glance-direct or web-download import goes `importing` → `active`, back to
 * `queued` when no store got the data (or one failed and all had to succeed); copy-image leaves the
 * image `active`. Progress is shown as Glance shows it, in `os_glance_importing_to_stores` and
 * `os_glance_failed_import`.
 */
import { BadRequestError, ConflictError } from '../../protocols/errors.js';
import { checkImportStatus, type ImportJob } from '../../protocols/image-import.js';
import type { ImageReply } from '../../protocols/messages.js';
import type { ImageRow } from '../../runtime/db/entities/index.js';
import { imageView } from './image-view.js';
import type { ImportOutcome, Importer } from './image-import.js';
import type { ImageStores } from './image-stores.js';
import type { ImageVerb } from './image-verb-types.js';

const IMPORTING = 'os_glance_importing_to_stores';
const FAILED = 'os_glance_failed_import';

interface Deps {
  stores: ImageStores;
  importer: Importer;
  sizeCapBytes: number;
  write(row: ImageRow, changes: Partial<ImageRow>): Promise<ImageRow>;
  room(row: ImageRow, quotaBytes: number): Promise<number>;
}

function progress(props: Record<string, string>, importing: string[], failed: string[]): Record<string, string> {
  const { [IMPORTING]: _i, [FAILED]: _f, ...rest } = props;
  return { ...rest, ...(importing.length ? { [IMPORTING]: importing.join(',') } : {}), ...(failed.length ? { [FAILED]: failed.join(',') } : {}) };
}

export function importVerbs(d: Deps): Record<string, ImageVerb> {
  const reply = (row: ImageRow, event?: string) => ({ row, reply: { image: imageView(row) } satisfies ImageReply, ...(event ? { event } : {}) });

  const start: ImageVerb = async (row, body) => {
    const job = body as unknown as ImportJob & { quotaBytes?: number };
    if (row.properties[IMPORTING]) throw new ConflictError(`New operation on image '${row.id}' is not permitted as prior operation is still in progress`);
    checkImportStatus(job.method, row.status, job.method === 'glance-direct' && (await d.stores.hasStaged(row.id)));
    if (row.containerFormat === '') throw new ConflictError("'container_format' needs to be set before import");
    if (row.diskFormat === '') throw new ConflictError("'disk_format' needs to be set before import");
    const have = d.stores.of(row.stores);
    let targets = job.stores;
    if (job.method === 'copy-image') {
      const already = targets.filter((s) => have.includes(s));
      // With all_stores the ones that have it are skipped; named ones that have it are a mistake.
      if (already.length > 0 && !job.allStores) throw new BadRequestError(`Image is already present at store '${already[0]}'`);
      targets = targets.filter((s) => !have.includes(s));
      if (targets.length === 0) return reply(row);
    }
    let maxBytes = d.sizeCapBytes;
    if (job.method === 'web-download') {
      d.importer.checkUri(job.uri ?? '');
      maxBytes = Math.min(maxBytes, await d.room(row, job.quotaBytes ?? -1));
      if (maxBytes <= 0) throw new ConflictError('The owner’s image storage quota is full.');
    }
    const written = await d.write(row, {
      status: job.method === 'copy-image' ? row.status : 'importing',
      properties: progress(row.properties, targets, []),
    });
    d.importer.start({ imageId: row.id, method: job.method, ...(job.uri ? { uri: job.uri } : {}), stores: targets, from: have, maxBytes, allStoresMustSucceed: job.allStoresMustSucceed });
    return reply(written, 'import.start');
  };

  const imported: ImageVerb = async (row, body) => {
    const o = body as unknown as ImportOutcome;
    const props = progress(row.properties, [], o.failed);
    // One store failed and all had to succeed: the import failed, and no store keeps a copy.
    if (o.failed.length > 0 && o.allStoresMustSucceed && o.method !== 'copy-image') {
      await Promise.all(o.stores.map((s) => d.stores.removeFrom(s, row.id)));
      o.stores = [];
    }
    if (o.method === 'copy-image') {
      return reply(await d.write(row, { properties: props, stores: [...new Set([...d.stores.of(row.stores), ...o.stores])] }), 'import.end');
    }
    if (row.status !== 'importing') throw new ConflictError(`image ${row.id} is ${row.status}: the import cannot complete`);
    if (o.stores.length === 0) return reply(await d.write(row, { status: 'queued', properties: props }), 'import.error');
    const r = o.result;
    return reply(await d.write(row, {
      status: 'active', properties: props, stores: o.stores,
      ...(r ? { size: String(r.size), checksum: r.checksum, osHashAlgo: r.osHashAlgo, osHashValue: r.osHashValue } : {}),
    }), 'import.end');
  };

  return { import: start, imported };
}
