/**
 * Image metadata the conductor needs to build (is it active? its format and properties), asked of
 * the image role and kept briefly so a burst of boots from one image costs one request.
 */
import { BadRequestError, NotFoundError } from '../../protocols/errors.js';
import type { ImageListReply, ImageReply } from '../../protocols/messages.js';
import type { ImageMeta } from '../../protocols/resources.js';
import type { Subjects } from '../../protocols/subjects.js';
import { isUuid } from '../../protocols/validate.js';
import type { Bridge } from '../../runtime/nats/bridge.js';
import type { Clock } from '../../runtime/clock.js';

export class ImageCache {
  private readonly entries = new Map<string, { image: Promise<ImageMeta>; at: number }>();

  constructor(
    private readonly bridge: Bridge,
    private readonly subjects: Subjects,
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly ttlMs = 5_000,
  ) {}

  /** The image by id or exact name; rejects with a 400 (Nova's answer) when it cannot be booted. */
  async bootable(ref: string): Promise<ImageMeta> {
    let image: ImageMeta;
    try {
      image = await this.get(ref);
    } catch (err) {
      if (err instanceof NotFoundError) throw new BadRequestError(`Can not find requested image ${ref}`);
      throw err;
    }
    if (image.status !== 'active') throw new BadRequestError(`Image ${image.id} is not active (status ${image.status}).`);
    return image;
  }

  get(ref: string): Promise<ImageMeta> {
    const now = this.clock.now();
    const hit = this.entries.get(ref);
    if (hit && now - hit.at < this.ttlMs) return hit.image;
    const image = this.fetch(ref);
    this.entries.set(ref, { image, at: now });
    image.catch(() => this.entries.delete(ref));
    return image;
  }

  private async fetch(ref: string): Promise<ImageMeta> {
    if (isUuid(ref)) {
      const r = await this.bridge.request<ImageReply>(this.subjects.image(ref.toLowerCase(), 'get'), 'get', {}, { timeoutMs: this.timeoutMs });
      return r.image;
    }
    const list = await this.bridge.request<ImageListReply>(this.subjects.imageRole('list'), 'list', {}, { timeoutMs: this.timeoutMs });
    const match = list.images.filter((i) => i.name === ref);
    if (match.length === 0) throw new NotFoundError(`image ${ref} could not be found`);
    if (match.length > 1) throw new BadRequestError(`more than one image is named ${ref}; use its id`);
    return match[0]!;
  }
}
