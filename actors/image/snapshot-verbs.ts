/**
 * The image actor's verbs for hosts, reached only through subjects that end in the calling host's
 * name (`<root>.image.<uuid>.<verb>.<host>`, which NATS lets only that host's identity publish); the
 * role passes that name in as `host`. A snapshot's upload is the recorded host's alone; any host
 * may download an active image (hosts run every project's images).
 */
import { ConflictError, ForbiddenError, NotFoundError } from '../../protocols/errors.js';
import type { HostDownloadReply } from '../../protocols/catalog/image-snapshot.js';
import { fieldsOf, int, str } from '../../protocols/validate.js';
import type { ImageRow } from '../../runtime/db/entities/index.js';
import { imageView } from './image-view.js';
import type { ImageStore } from './image-store.js';
import { CHUNK_BYTES, type UploadSessions } from './image-upload.js';
import type { ImageVerb, VerbResult } from './image-verb-types.js';
import type { ImageBytes } from './image-metrics.js';

export interface HostVerbDeps {
  remove(row: ImageRow): Promise<VerbResult>;
  beginUpload(row: ImageRow, quotaBytes: number, host: string): Promise<VerbResult>;
  uploads(): UploadSessions;
  store: ImageStore;
  bytes?: ImageBytes;
}

/** The verbs the role's host-form endpoints send (never the `image.<uuid>.<verb>` family). */
export const HOST_VERBS = ['snapshot-begin', 'snapshot-abort', 'host-download'] as const;

function snapshotOf(row: ImageRow, host: string): void {
  // One answer for "not a snapshot" and "another host's snapshot": a host learns nothing about images it was not given.
  if (!row.snapshotHost || row.snapshotHost !== host) throw new ForbiddenError(`Host ${host} may not upload data for image ${row.id}.`);
}

export function hostVerbs(d: HostVerbDeps): Record<(typeof HOST_VERBS)[number], ImageVerb> {
  return {
    'snapshot-begin': async (row, body) => {
      const host = str(fieldsOf(body, ['host'], 'snapshot-begin'), 'host');
      snapshotOf(row, host);
      if (row.status === 'saving') {
        // A retried begin whose reply was lost: the session this process opened for it.
        const live = d.uploads().find(row.id);
        if (live) return { row, reply: { image: imageView(row), ...live } };
      }
      const quota = row.snapshotQuotaBytes === null || row.snapshotQuotaBytes === undefined ? -1 : Number(row.snapshotQuotaBytes);
      return d.beginUpload(row, quota, host);
    },
    'snapshot-abort': async (row, body) => {
      const host = str(fieldsOf(body, ['host'], 'snapshot-abort'), 'host');
      snapshotOf(row, host);
      if (row.status === 'active') throw new ConflictError(`Image ${row.id} is active: the snapshot is complete.`);
      const out = await d.remove(row);
      return { ...out, reply: { ...(out.reply as object), deleted: true } };
    },
    'host-download': async (row, body) => {
      const o = fieldsOf(body, ['host', 'offset', 'length'], 'host-download');
      if (row.status !== 'active') throw new ConflictError(`Image ${row.id} is ${row.status}: hosts are served active images only.`);
      const offset = int(o, 'offset', { max: Number.MAX_SAFE_INTEGER });
      const length = int(o, 'length', { min: 1, max: CHUNK_BYTES });
      const size = Number(row.size);
      const buf = await d.store.read(row.id, offset, length);
      if (buf === undefined) throw new NotFoundError(`Image ${row.id} has no data.`);
      d.bytes?.sent('host', buf.length);
      const reply: HostDownloadReply = {
        data: buf.toString('base64'), eof: offset + buf.length >= size || buf.length < length, size,
        checksum: row.checksum, osHashAlgo: row.osHashAlgo ?? null, osHashValue: row.osHashValue ?? null,
      };
      return { row, reply };
    },
  };
}
