/**
 * The work of an image import, done in the background after the image's actor has accepted it
 * (`import` answers at once; Glance answers 202): copy the staged data (`glance-direct`), fetch a
 * URL (`web-download`) or copy the active data (`copy-image`) into each target store, then tell the
 * actor (`imported`, internal) which stores got the data. The actor makes every status change.
 *
 * `web-download` fetches only what the operator's allow-list permits (protocols/image-import.ts),
 * follows at most a few redirects and checks each target again, stops at the size cap (or the
 * owner's quota room) and at a deadline, and never keeps a partial download.
 */
import { createHash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { ImportMethod } from '../../protocols/image-import.js';
import { refusedUri, webDownloadAllowed } from '../../protocols/image-import.js';
import { BadRequestError } from '../../protocols/errors.js';
import type { Logger } from '../../runtime/log/logger.js';
import { errorFields } from '../../runtime/log/logger.js';
import type { ImageStores } from './image-stores.js';
import type { UploadResult } from './image-upload.js';

export interface ImportConfig {
  /** Hosts (or `host:port`) `web-download` may fetch from; empty: none (every URL is refused). */
  webDownloadAllow: string[];
  webDownloadTimeoutMs: number;
  maxRedirects: number;
}

export const DEFAULT_IMPORT_CONFIG: ImportConfig = { webDownloadAllow: [], webDownloadTimeoutMs: 300_000, maxRedirects: 3 };

/** One accepted import, as the actor hands it over. */
export interface ImportTask {
  imageId: string;
  method: ImportMethod;
  uri?: string;
  stores: string[];
  /** Where the data already is (copy-image). */
  from: string[];
  /** The most bytes a download may bring (size cap or quota room). */
  maxBytes: number;
  allStoresMustSucceed: boolean;
}

/** What the actor hears back. */
export interface ImportOutcome {
  method: ImportMethod;
  stores: string[];
  failed: string[];
  allStoresMustSucceed: boolean;
  /** A download's size and hashes. */
  result?: UploadResult;
  [k: string]: unknown;
}

export class Importer {
  private readonly running = new Set<Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(
    private readonly stores: ImageStores,
    private readonly cfg: ImportConfig,
    private readonly log: Logger,
    private readonly report: (imageId: string, outcome: ImportOutcome) => Promise<unknown>,
  ) {}

  /** Refuses (400) a `web-download` URL the allow-list does not permit, before anything changes. */
  checkUri(uri: string): void {
    if (!webDownloadAllowed(uri, this.cfg.webDownloadAllow)) throw refusedUri(uri);
  }

  start(task: ImportTask): void {
    const p = this.run(task).finally(() => this.running.delete(p));
    this.running.add(p);
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    await Promise.allSettled([...this.running]);
  }

  private async run(t: ImportTask): Promise<void> {
    const ok: string[] = [];
    const failed: string[] = [];
    let result: UploadResult | undefined;
    let download: string | undefined;
    try {
      let source: string | undefined;
      if (t.method === 'glance-direct') source = this.stores.stagedPath(t.imageId);
      else if (t.method === 'copy-image') source = await this.stores.source(t.imageId, t.from);
      else {
        download = this.stores.primary.stagingPath();
        result = await this.fetchTo(t.uri!, download, t.maxBytes);
        source = download;
      }
      if (source === undefined) throw new Error('the image has no data to copy');
      for (const store of t.stores) {
        try {
          await this.stores.copyInto(source, store, t.imageId);
          ok.push(store);
        } catch (err) {
          this.log.warn('image import into a store failed', { image: t.imageId, store, ...errorFields(err) });
          failed.push(store);
        }
      }
    } catch (err) {
      this.log.info('image import failed', { image: t.imageId, method: t.method, ...errorFields(err) });
      for (const s of t.stores) if (!ok.includes(s)) failed.push(s);
    } finally {
      if (download !== undefined) await this.stores.primary.discard(download).catch(() => undefined);
    }
    // Staged data serves one import: after it the image is active, or queued to be staged again.
    if (t.method === 'glance-direct') await this.stores.dropStaged(t.imageId).catch(() => undefined);
    try {
      await this.report(t.imageId, { method: t.method, stores: ok, failed, allStoresMustSucceed: t.allStoresMustSucceed, ...(result ? { result } : {}) });
    } catch (err) {
      // The image was deleted (or moved on) meanwhile: what this import wrote has no image to belong to.
      this.log.info('image import finished for an image that moved on', { image: t.imageId, ...errorFields(err) });
      if (t.method !== 'copy-image') await this.stores.removeAll(t.imageId).catch(() => undefined);
    }
  }

  /** Downloads `uri` into `path` (0600), hashing as it goes; redirects re-checked against the allow-list. */
  private async fetchTo(uri: string, path: string, maxBytes: number): Promise<UploadResult> {
    const signal = AbortSignal.any([AbortSignal.timeout(this.cfg.webDownloadTimeoutMs), this.stopping.signal]);
    let url = uri;
    let res: Response | undefined;
    for (let hop = 0; ; hop++) {
      this.checkUri(url);
      res = await fetch(url, { redirect: 'manual', signal });
      const location = res.headers.get('location');
      if (res.status < 300 || res.status >= 400 || location === null) break;
      await res.body?.cancel();
      if (hop >= this.cfg.maxRedirects) throw new BadRequestError(`web-download: more than ${this.cfg.maxRedirects} redirects`);
      url = new URL(location, url).toString();
    }
    if (!res.ok || !res.body) throw new BadRequestError(`web-download: the server answered ${res.status}`);
    const declared = Number(res.headers.get('content-length') ?? 0);
    if (declared > maxBytes) throw new BadRequestError(`web-download: ${declared} bytes exceed the limit of ${maxBytes}`);
    const md5 = createHash('md5');
    const sha512 = createHash('sha512');
    let size = 0;
    const fh = await open(path, 'wx', 0o600);
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.length;
        if (size > maxBytes) throw new BadRequestError(`web-download: the data exceeds the limit of ${maxBytes} bytes`);
        md5.update(chunk);
        sha512.update(chunk);
        await fh.write(chunk);
      }
    } finally {
      await fh.close();
    }
    return { size, checksum: md5.digest('hex'), osHashAlgo: 'sha512', osHashValue: sha512.digest('hex') };
  }
}
