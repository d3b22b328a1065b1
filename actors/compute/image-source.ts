/**
 * A host's download of an image's data from the image role, chunk by chunk (`host-download`, any
 * active image), verified as it passes: the size, MD5 `checksum` and `os_hash_value` the image role
 * holds (and, when the caller knows them from the image it was asked to boot, those too) must match
 * the bytes received, or the fetch fails (Nova's ImageChecksumMismatch: the bytes are not used).
 */
import { createHash, getHashes } from 'node:crypto';
import { HOST_CHUNK_BYTES, ImageHostDownload, type HostDownloadReply } from '../../protocols/catalog/image-snapshot.js';
import { InternalError } from '../../protocols/errors.js';
import type { Subjects } from '../../protocols/subjects.js';
import type { Bridge } from '../../runtime/nats/bridge.js';
import { askImageRole } from './image-sink.js';

export interface ImageIntegrity {
  size: number;
  checksum: string | null;
  osHashAlgo: string | null;
  osHashValue: string | null;
}

export interface FetchOptions {
  /** What the caller was told about the image (its `get` view); each field given must match. */
  expected?: { sizeBytes?: number; checksum?: string | null; osHashAlgo?: string | null; osHashValue?: string | null };
  timeoutMs?: number;
  chunkBytes?: number;
}

/** The image's bytes did not match its integrity fields: typed, so a build fails with a fault, not a crash. */
export class ImageIntegrityError extends InternalError {
  constructor(imageId: string, what: string) {
    super(`Image ${imageId} failed verification: ${what}.`);
  }
}

const integrityOf = (r: HostDownloadReply): ImageIntegrity => ({ size: r.size, checksum: r.checksum, osHashAlgo: r.osHashAlgo, osHashValue: r.osHashValue });

/** Calls `onChunk` with each piece in order and resolves with the verified integrity fields. */
export async function fetchImage(
  bridge: Bridge, subjects: Subjects, hostName: string, imageId: string,
  onChunk: (chunk: Uint8Array, offset: number) => void | Promise<void>, opts: FetchOptions = {},
): Promise<ImageIntegrity> {
  const timeoutMs = opts.timeoutMs ?? bridge.defaultTimeoutMs;
  const length = Math.min(opts.chunkBytes ?? HOST_CHUNK_BYTES, HOST_CHUNK_BYTES);
  const subject = ImageHostDownload.subject(subjects, imageId, hostName);
  const md5 = createHash('md5');
  let secure: ReturnType<typeof createHash> | undefined;
  let first: ImageIntegrity | undefined;
  let offset = 0;
  for (;;) {
    const r = await askImageRole(bridge, ImageHostDownload, subject, { offset, length }, timeoutMs);
    const now = integrityOf(r);
    if (!first) {
      first = now;
      if (now.osHashAlgo !== null) {
        if (!getHashes().includes(now.osHashAlgo)) throw new ImageIntegrityError(imageId, `unsupported os_hash_algo ${now.osHashAlgo}`);
        secure = createHash(now.osHashAlgo);
      }
    } else if (JSON.stringify(now) !== JSON.stringify(first)) {
      throw new ImageIntegrityError(imageId, 'its integrity fields changed during the download');
    }
    const bytes = Buffer.from(r.data, 'base64');
    if (offset + bytes.length > now.size) throw new ImageIntegrityError(imageId, `more data than its size of ${now.size} bytes`);
    md5.update(bytes);
    secure?.update(bytes);
    if (bytes.length > 0) await onChunk(bytes, offset);
    offset += bytes.length;
    if (r.eof) break;
    if (bytes.length === 0) throw new ImageIntegrityError(imageId, `an empty chunk at offset ${offset} before the end`);
  }
  const got = first!;
  if (offset !== got.size) throw new ImageIntegrityError(imageId, `${offset} bytes received, its size is ${got.size}`);
  if (got.checksum !== null && md5.digest('hex') !== got.checksum) throw new ImageIntegrityError(imageId, 'checksum mismatch');
  if (got.osHashValue !== null && secure?.digest('hex') !== got.osHashValue) throw new ImageIntegrityError(imageId, 'os_hash_value mismatch');
  if (got.checksum === null && got.osHashValue === null) throw new ImageIntegrityError(imageId, 'it has neither checksum nor os_hash_value');
  const e = opts.expected ?? {};
  if (e.sizeBytes !== undefined && e.sizeBytes !== got.size) throw new ImageIntegrityError(imageId, `size ${got.size}, expected ${e.sizeBytes}`);
  for (const k of ['checksum', 'osHashAlgo', 'osHashValue'] as const) {
    if (e[k] !== undefined && e[k] !== null && e[k] !== got[k]) throw new ImageIntegrityError(imageId, `${k} differs from the image's`);
  }
  return got;
}
