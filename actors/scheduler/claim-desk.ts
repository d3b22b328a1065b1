/**
 * Claims and releases on their way to the ledger, batched (a burst of builds or deletes is a few
 * transactions, not one each), and the requests that wait for an instance whose claim is still in
 * flight: a repeated select must answer the claim that commits, not one that may still lose.
 */
import { Batcher, type BatchObserver } from '../../runtime/batcher.js';
import { endSpan, startSpan } from '../../runtime/trace/tracing.js';
import type { Claim, ClaimResult, PlacementLedger } from './ledger.js';

/** A claim's outcome with what its decision does next: handled inside the actor. */
export interface ClaimOutcome {
  claim: Claim;
  result: ClaimResult;
  then: () => void;
  lost: () => void;
  held: (host: string) => void;
  fail: (e: unknown) => void;
}

/** `W`: the requests that wait (the actor's messages). */
export class ClaimDesk<W> {
  readonly claims: Batcher<Claim, ClaimResult>;
  readonly releases: Batcher<string, number>;
  private readonly pending = new Map<string, W[]>();

  /** `settle` hands an outcome to the actor (a later turn). */
  constructor(ledger: PlacementLedger, private readonly settle: (o: ClaimOutcome) => void, observe: { claims?: BatchObserver; releases?: BatchObserver } = {}) {
    this.claims = new Batcher<Claim, ClaimResult>((batch) => ledger.claimBatch(batch), { maxSize: 512, maxInFlight: 2, observe: observe.claims });
    // Under a 10 s request timeout, thousands of single-release transactions queued until every one timed out.
    this.releases = new Batcher<string, number>(
      async (consumers) => {
        const released = await ledger.release(consumers);
        const per = new Map<string, number>();
        for (const r of released) per.set(r.consumer, (per.get(r.consumer) ?? 0) + 1);
        return consumers.map((c) => per.get(c) ?? 0);
      },
      { maxSize: 1_000, maxInFlight: 1, observe: observe.releases },
    );
  }

  /** Holds `m` until the consumer's claim in flight settles; false when none is. */
  waitFor(consumer: string, m: W): boolean {
    const waiting = this.pending.get(consumer);
    if (!waiting) return false;
    waiting.push(m);
    return true;
  }

  /** Sends the claim (in a span `ledger claim` until the ledger answers); its outcome goes to `settle`. */
  submit(claim: Claim, then: () => void, lost: () => void, fail: (e: unknown) => void, held: (host: string) => void = () => then()): void {
    this.pending.set(claim.consumer, this.pending.get(claim.consumer) ?? []);
    const nothing = () => undefined;
    const span = startSpan('ledger claim');
    if (span.isRecording()) span.setAttributes({ 'openstack.instance_uuid': claim.consumer, 'novact.host': claim.provider });
    this.claims.add(claim).then(
      (result) => {
        if (span.isRecording()) span.setAttribute('novact.claimed', result.ok);
        span.end();
        this.settle({ claim, result, then, lost, held, fail });
      },
      (err) => {
        endSpan(span, err);
        this.settle({ claim, result: { ok: false, used: {} }, then: nothing, lost: nothing, held: nothing, fail: nothing });
        fail(err);
      },
    );
  }

  /** The consumer's claim settled: the requests that waited for it, to decide again. */
  settled(consumer: string): W[] {
    const waiting = this.pending.get(consumer) ?? [];
    this.pending.delete(consumer);
    return waiting;
  }

  release(consumer: string): Promise<number> {
    return this.releases.add(consumer);
  }
}
