/**
 * Power-state changes nobody asked for, turned into DriverEvents (the binding has no libvirt
 * events, so the driver compares what it reads with what it last knew). Every read of a guest (a
 * listing, a get, the poller's tick) is an observation; a driver operation on a guest marks it busy
 * and, when it ends, records the state it left, so the driver's own changes never emit. An
 * observation that started before an operation began or ended is stale and ignored.
 */
import type { DriverEvent } from '../driver.js';
import type { PowerState } from '../../protocols/states.js';

export class PowerWatch {
  private readonly known = new Map<string, PowerState>();
  private readonly busy = new Map<string, number>();
  private readonly gens = new Map<string, number>();
  private readonly listeners = new Set<(e: DriverEvent) => void>();

  get listening(): boolean { return this.listeners.size > 0; }

  onEvent(listener: (e: DriverEvent) => void): () => void {
    this.listeners.add(listener);
    return () => { this.listeners.delete(listener); };
  }

  /** Taken before reading a guest: the observation counts only if nothing happened meanwhile. */
  token(uuid: string): number { return this.gens.get(uuid) ?? 0; }

  /** A driver operation on `uuid` starts. */
  begin(uuid: string): void {
    this.bump(uuid);
    this.busy.set(uuid, (this.busy.get(uuid) ?? 0) + 1);
  }

  /**
   * It ended, leaving `state`: `same` when it changes no power state (a console read, a snapshot),
   * undefined when that is unknown (it failed part way: the next observation is silent).
   */
  end(uuid: string, state: PowerState | 'same' | undefined): void {
    this.bump(uuid);
    const n = (this.busy.get(uuid) ?? 1) - 1;
    if (n > 0) this.busy.set(uuid, n); else this.busy.delete(uuid);
    if (state === undefined) this.known.delete(uuid);
    else if (state !== 'same') this.known.set(uuid, state);
  }

  /** The guest is gone (destroyed, migrated away). */
  forget(uuid: string): void {
    this.bump(uuid);
    this.known.delete(uuid);
  }

  /** `state` was read for `uuid` after `token` was taken: emits when it changed on its own. */
  observe(uuid: string, state: PowerState, token: number): void {
    if (this.busy.has(uuid) || this.token(uuid) !== token) return;
    const before = this.known.get(uuid);
    this.known.set(uuid, state);
    if (before === undefined || before === state) return;
    const e: DriverEvent = { uuid, powerState: state, at: Date.now() };
    for (const l of [...this.listeners]) {
      try { l(e); } catch { /* one listener's failure must not starve the others */ }
    }
  }

  clear(): void {
    this.listeners.clear();
    this.known.clear();
  }

  private bump(uuid: string): void { this.gens.set(uuid, this.token(uuid) + 1); }
}
