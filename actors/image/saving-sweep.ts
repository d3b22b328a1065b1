/**
 * Images left in `saving` by a crash (the image role died mid-upload) go back to `queued`, as
 * Glance does after a failed upload, and staging files nobody writes any more are removed. Runs at
 * image-role start and then every `intervalMs`.
 *
 * Several replicas may share the database and the store, so "stale" is decided by time, never by
 * "not mine": each sweep first touches the rows of this replica's live upload sessions, and a live
 * session writes its staging file at least every upload idle timeout. An image `saving` untouched
 * for `staleAfterMs`, or a staging file unmodified that long, has no live session anywhere.
 */
import { Image } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';
import type { Clock, Timer } from '../../runtime/clock.js';
import type { Logger } from '../../runtime/log/logger.js';
import { errorFields } from '../../runtime/log/logger.js';
import type { ImageStore } from './image-store.js';

export interface SavingSweepConfig {
  intervalMs: number;
  /** Longer than two intervals and than the upload idle timeout, so a live upload is never swept. */
  staleAfterMs: number;
}

export const DEFAULT_SAVING_SWEEP: SavingSweepConfig = { intervalMs: 30_000, staleAfterMs: 90_000 };

export interface SweepDeps {
  orm: Orm;
  clock: Clock;
  log: Logger;
  store: ImageStore;
  /** This replica's live upload sessions: their images and staging files. */
  live(): { images: Set<string>; staging: Set<string> };
  /** Returns an image from `saving` to `queued` through its actor (CAS, like a failed upload). */
  requeue(id: string): Promise<void>;
}

export class SavingSweep {
  readonly stats = { runs: 0, requeued: 0, stagingRemoved: 0 };
  private timer: Timer | undefined;
  private running: Promise<void> | undefined;

  constructor(
    private readonly d: SweepDeps,
    private readonly cfg: SavingSweepConfig = DEFAULT_SAVING_SWEEP,
  ) {}

  start(): void {
    void this.run();
    this.timer = this.d.clock.setInterval(() => void this.run(), this.cfg.intervalMs);
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    await this.running;
  }

  /** One sweep (never overlapping another); never rejects. */
  run(): Promise<void> {
    this.running ??= this.sweep()
      .catch((err) => this.d.log.error('saving sweep failed', errorFields(err)))
      .finally(() => {
        this.running = undefined;
        this.stats.runs++;
      });
    return this.running;
  }

  private async sweep(): Promise<void> {
    const { orm, clock, log, store } = this.d;
    const now = clock.now();
    const live = this.d.live();
    const em = orm.em.fork();
    if (live.images.size > 0) {
      await em.nativeUpdate(Image, { id: { $in: [...live.images] }, status: 'saving' }, { updatedAt: new Date(now) });
    }
    const stale = await em.find(Image, { status: 'saving', updatedAt: { $lt: new Date(now - this.cfg.staleAfterMs) } }, { fields: ['id'], limit: 1_000 });
    for (const { id } of stale) {
      if (live.images.has(id)) continue;
      try {
        await this.d.requeue(id);
        this.stats.requeued++;
        log.warn('image left in saving by a crashed upload returned to queued', { image: id });
      } catch (err) {
        log.warn('could not return a stale saving image to queued', { image: id, ...errorFields(err) });
      }
    }
    for (const f of await store.stagingFiles()) {
      if (live.staging.has(f.path) || now - f.mtimeMs < this.cfg.staleAfterMs) continue;
      await store.discard(f.path);
      this.stats.stagingRemoved++;
      log.info('removed a leftover staging file', { file: f.path });
    }
  }
}
