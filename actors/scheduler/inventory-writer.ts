/**
 * The scheduler's inventory writes: batched (one ledger transaction per batch, in order), with bad
 * rows isolated so that one invalid report or one failing host cannot drop the writes of every
 * other host in its batch, and failed rows retried with backoff. A write that still fails leaves
 * the host's cached inventory cleared in memory (no capacity until the ledger has it), so memory
 * never offers capacity the ledger does not hold, and the next report, identical or not, is
 * written again instead of being suppressed as unchanged.
 */
import type { ResourceClass } from '../../protocols/resources.js';
import { Batcher, type BatchObserver } from '../../runtime/batcher.js';
import type { Clock } from '../../runtime/clock.js';
import { writeIsolating } from '../../runtime/db/isolate.js';
import type { Logger } from '../../runtime/log/logger.js';
import { errorFields } from '../../runtime/log/logger.js';
import type { Inventory } from '../../protocols/resources.js';
import type { HostStates } from './host-states.js';
import type { PlacementLedger } from './ledger.js';

type Item = { provider: string; inventory: Record<ResourceClass, Inventory> };

export interface InventoryWriterOptions {
  /** Retries of a row that failed on its own before its host's inventory is cleared. */
  retries: number;
  retryBackoffMs: number;
}

export class InventoryWriter {
  private readonly batcher: Batcher<Item, unknown>;
  failures = 0;

  constructor(
    ledger: PlacementLedger,
    private readonly states: HostStates,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly written: (host: string) => void,
    private readonly o: InventoryWriterOptions = { retries: 3, retryBackoffMs: 200 },
    observe?: BatchObserver,
  ) {
    this.batcher = new Batcher<Item, unknown>(
      async (batch) => {
        let failed = await writeIsolating(batch, (items) => ledger.setInventories(items));
        for (let attempt = 0; failed.length > 0 && attempt < this.o.retries; attempt++) {
          await this.clock.sleep(this.o.retryBackoffMs * 2 ** attempt);
          failed = await writeIsolating(failed.map((f) => f.item), (items) => ledger.setInventories(items));
        }
        const errors = new Map(failed.map((f) => [f.item, f.err]));
        return batch.map((item) => errors.get(item));
      },
      { maxSize: 2_000, maxInFlight: 1, observe },
    );
  }

  write(host: string, inventory: Record<ResourceClass, Inventory>): void {
    this.batcher.add({ provider: host, inventory }).then(
      (err) => (err === undefined ? this.written(host) : this.failed(host, inventory, err)),
      (err) => this.failed(host, inventory, err),
    );
  }

  drain(): Promise<void> {
    return this.batcher.drain();
  }

  private failed(host: string, inventory: Record<ResourceClass, Inventory>, err: unknown): void {
    this.failures++;
    const cleared = this.states.forgetInventory(host, inventory);
    this.log.error('inventory write failed; the host offers no capacity until its next report is written', { host, cleared, ...errorFields(err) });
  }
}
