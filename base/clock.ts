/**
 * Time behind an interface, so the runtime's own timers (reports, heartbeats, sweeps, deadlines)
 * and the fake hypervisor's can be driven by a manual clock in unit tests. nact keeps its own
 * timers; see docs/architecture.md. In base/, the floor under hosts/ and runtime/, because both use
 * it and neither may import the other.
 */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  setInterval(fn: () => void, ms: number): Timer;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const h = setTimeout(fn, ms);
    h.unref?.();
    return { cancel: () => clearTimeout(h) };
  },
  setInterval(fn, ms) {
    const h = setInterval(fn, ms);
    h.unref?.();
    return { cancel: () => clearInterval(h) };
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

interface Pending {
  at: number;
  fn: () => void;
  every?: number;
  id: number;
}

/** A clock that only moves when told to; timers fire in order during `advance`. */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private pending: Pending[] = [];

  constructor(start = 0) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number): Timer {
    return this.add({ at: this.t + ms, fn, id: this.seq++ });
  }
  setInterval(fn: () => void, ms: number): Timer {
    return this.add({ at: this.t + ms, fn, every: Math.max(1, ms), id: this.seq++ });
  }
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.setTimeout(resolve, ms));
  }
  /** Moves time forward, firing every timer that falls due, in due order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.pending.sort((a, b) => a.at - b.at || a.id - b.id);
      const next = this.pending[0];
      if (!next || next.at > end) break;
      this.t = next.at;
      if (next.every) next.at += next.every;
      else this.pending.shift();
      next.fn();
    }
    this.t = end;
  }
  private add(p: Pending): Timer {
    this.pending.push(p);
    return { cancel: () => { this.pending = this.pending.filter((x) => x !== p); } };
  }
}
