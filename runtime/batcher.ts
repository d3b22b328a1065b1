/**
 * Groups calls made in the same moment into one execution (one SQL transaction instead of one per
 * call). A batch starts on the next macrotask or as soon as `maxSize` items wait; at most
 * `maxInFlight` batches run at once, so under load batches grow instead of queueing round trips.
 */
export interface BatcherOptions {
  maxSize: number;
  maxInFlight: number;
  /** Told of each executed batch: its size, how long it took and whether it failed (metrics). */
  observe?: BatchObserver;
}

export type BatchObserver = (items: number, seconds: number, failed: boolean) => void;

interface Pending<T, R> {
  item: T;
  resolve: (r: R) => void;
  reject: (e: unknown) => void;
}

export class Batcher<T, R> {
  private queue: Pending<T, R>[] = [];
  private idle: (() => void)[] = [];
  private inFlight = 0;
  private scheduled = false;
  /** Sizes of executed batches, for stats. */
  batches = 0;
  items = 0;

  constructor(
    /** Must return one result per item, in order. */
    private readonly exec: (items: T[]) => Promise<R[]>,
    private readonly opts: BatcherOptions = { maxSize: 256, maxInFlight: 2 },
  ) {}

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.kick();
    });
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Resolves when nothing is queued or running (for a clean stop). */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.inFlight > 0) {
      await new Promise<void>((resolve) => this.idle.push(resolve));
    }
  }

  private kick(): void {
    if (this.inFlight >= this.opts.maxInFlight || this.queue.length === 0) return;
    if (this.queue.length >= this.opts.maxSize) {
      void this.run();
      return;
    }
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.inFlight < this.opts.maxInFlight && this.queue.length > 0) void this.run();
    });
  }

  private async run(): Promise<void> {
    const batch = this.queue.splice(0, this.opts.maxSize);
    this.inFlight++;
    this.batches++;
    this.items += batch.length;
    const t0 = this.opts.observe ? performance.now() : 0;
    let failed = false;
    try {
      const results = await this.exec(batch.map((p) => p.item));
      batch.forEach((p, i) => p.resolve(results[i] as R));
    } catch (err) {
      failed = true;
      for (const p of batch) p.reject(err);
    } finally {
      this.opts.observe?.(batch.length, (performance.now() - t0) / 1000, failed);
      this.inFlight--;
      this.kick();
      if (this.inFlight === 0 && this.queue.length === 0) this.idle.splice(0).forEach((f) => f());
    }
  }
}
