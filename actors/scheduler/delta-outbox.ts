/**
 * Claims and releases committed in one turn of the scheduler actor, sent to the other replicas as
 * one delta once the turn is over, so their host states stay close to this one's.
 */
import type { Delta } from '../../protocols/catalog/scheduler.js';

export class DeltaOutbox {
  private outgoing: Delta | undefined;

  constructor(
    private readonly replica: string,
    private readonly publish: (d: Delta) => void,
    /** False once the role stops (its connection may be draining; the others resync from the ledger). */
    private readonly canSend: () => boolean,
  ) {}

  share(f: (d: Delta) => void): void {
    if (!this.outgoing) {
      this.outgoing = { replica: this.replica, claims: [], releases: [] };
      setImmediate(() => {
        const d = this.outgoing;
        this.outgoing = undefined;
        if (d && this.canSend()) this.publish(d);
      });
    }
    f(this.outgoing);
  }
}
