import type { ImageMeta } from './resources.js';

/** The body of `image.register` (camelCase; the API translates Glance's names). */
export interface ImageRegisterRequest {
  id?: string;
  name?: string | null;
  visibility?: ImageMeta['visibility'];
  diskFormat?: string | null;
  containerFormat?: string | null;
  minDisk?: number;
  minRam?: number;
  protected?: boolean;
  osHidden?: boolean;
  tags?: string[];
  owner?: string | null;
  properties?: Record<string, string>;
  /** The owner's `image_count_total` (-1 or absent: unlimited), checked atomically with the insert. */
  maxImages?: number;
}
