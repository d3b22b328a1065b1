/**
 * A host's image cache (Nova's `_base`): each image's bytes once per host, fetched through the
 * host's `ImageFetcher`, verified, and shared by every guest built from it. Concurrent acquires of
 * one image share one fetch. `sweep` removes bases no guest uses, oldest use first, while the cache
 * is over its byte cap or a base is unused past `maxUnusedMs`; a base in use is never removed.
 * SIGNATURES ONLY: the bodies land with the image-cache work.
 */
import { DriverError, type CallOptions, type ImageFetcher } from '../driver.js';
import type { GuestImage } from '../../protocols/host.js';
import type { DiskFormat } from './disks.js';

export interface ImageCacheOptions {
  /** The `_base` directory (created when missing). */
  dir: string;
  fetcher: ImageFetcher;
  /** Bytes the cache may hold before a sweep removes unused bases (default 10 GiB). */
  maxBytes?: number;
  /** A base unused this long is removed by a sweep even under the cap (default 24 h; Nova: remove_unused_original_minimum_age_seconds). */
  maxUnusedMs?: number;
  now?: () => number;
}

export interface CachedImage {
  path: string;
  /** What the bytes are, checked with qemu-img against the image's disk_format (`raw` for aki/ari/ami). */
  format: DiskFormat;
  sizeBytes: number;
}

export interface CacheStats {
  fetches: number;
  hits: number;
  bytesFetched: number;
  bytes: number;
  images: number;
}

export class ImageCache {
  constructor(readonly opts: ImageCacheOptions) {}
  /** The image's cached file, fetched and verified once; `user` (a guest uuid) holds it until `release`. */
  async acquire(_image: GuestImage, _user: string, _opts?: CallOptions): Promise<CachedImage> {
    throw new DriverError('unsupported', 'image cache: not built yet');
  }
  /** `user` no longer needs the image (its guest is gone). Unknown pairs are ignored. */
  release(_imageId: string, _user: string): void {}
  /** Marks a base as used by `user` without fetching (guests found after a restart). */
  adopt(_imageId: string, _user: string): void {}
  /** Removes what the policy allows; resolves with the removed image ids. */
  async sweep(): Promise<string[]> { return []; }
  get stats(): CacheStats { return { fetches: 0, hits: 0, bytesFetched: 0, bytes: 0, images: 0 }; }
}
