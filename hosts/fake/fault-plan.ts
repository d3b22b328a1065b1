/**
 * A seeded, declarative fault plan for the fake hypervisor. Chaos tests describe *what* should go
 * wrong ("fail the next two spawns", "make 10% of reboots hang") and the `FaultInjector` decides,
 * call by call, whether a rule fires. All randomness comes from one seeded PRNG, so a plan plus a
 * seed replays the same faults in the same order on every run.
 */
import { DRIVER_OPS, type DriverOp } from '../driver.js';

export { DRIVER_OPS };

export interface FaultRule {
  op: DriverOp;
  action: 'fail' | 'slow' | 'hang';
  /** How many matching calls to affect; default unlimited. */
  times?: number;
  /** Chance (0..1) that a matching call is affected, drawn from the seeded PRNG; default 1. */
  probability?: number;
  /** For 'slow': how long the call is held before it proceeds. */
  delayMs?: number;
  /** Only calls for this guest. */
  uuid?: string;
  /** For 'fail': the DriverError message. */
  message?: string;
  /** For 'fail': the DriverError's `retryable`; default false, as for any DriverError. */
  retryable?: boolean;
}

/**
 * Spontaneous guest faults: every `everyMs`, each RUNNING guest crashes with chance `crash` or shuts
 * itself down with chance `shutdown` (a guest-initiated `poweroff`), as the hypervisor would report.
 */
export interface GuestFaultPlan {
  everyMs: number;
  crash?: number;
  shutdown?: number;
}

export interface FaultPlan {
  seed?: number;
  rules: FaultRule[];
  guests?: GuestFaultPlan;
}

export type GuestFault = 'crash' | 'shutdown';

export type FaultDecision =
  | { action: 'none' }
  | { action: 'fail'; message: string; retryable: boolean }
  | { action: 'slow'; delayMs: number }
  | { action: 'hang' };

const ACTIONS: readonly string[] = ['fail', 'slow', 'hang'];
const RULE_FIELDS = new Set(['op', 'action', 'times', 'probability', 'delayMs', 'uuid', 'message', 'retryable']);

/** Shared so the common "no fault" path allocates nothing (it runs on every driver call). */
const NONE: FaultDecision = Object.freeze({ action: 'none' });

/** mulberry32: a tiny, fast 32-bit PRNG; plenty for fault dice, and trivially seedable. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * Throws a plain Error naming the offending rule and field. Plans are often written by hand or
 * loaded from JSON, so unknown fields (a typo such as `time`) are rejected rather than ignored.
 */
export function validateRule(rule: FaultRule, where = 'fault rule'): void {
  if (typeof rule !== 'object' || rule === null) throw new Error(`${where}: must be an object`);
  for (const k of Object.keys(rule)) {
    if (!RULE_FIELDS.has(k)) throw new Error(`${where}: unknown field '${k}'`);
  }
  if (!(DRIVER_OPS as readonly string[]).includes(rule.op)) {
    throw new Error(`${where}: unknown op '${String(rule.op)}' (expected one of ${DRIVER_OPS.join(', ')})`);
  }
  if (!ACTIONS.includes(rule.action)) {
    throw new Error(`${where}: unknown action '${String(rule.action)}' (expected one of ${ACTIONS.join(', ')})`);
  }
  if (rule.times !== undefined && !(Number.isInteger(rule.times) && rule.times >= 0)) {
    throw new Error(`${where}: times must be a non-negative integer, got ${String(rule.times)}`);
  }
  if (rule.probability !== undefined &&
      !(typeof rule.probability === 'number' && rule.probability >= 0 && rule.probability <= 1)) {
    throw new Error(`${where}: probability must be within [0, 1], got ${String(rule.probability)}`);
  }
  if (rule.delayMs !== undefined && !(Number.isFinite(rule.delayMs) && rule.delayMs >= 0)) {
    throw new Error(`${where}: delayMs must be a non-negative finite number, got ${String(rule.delayMs)}`);
  }
  if (rule.action === 'slow' && rule.delayMs === undefined) {
    throw new Error(`${where}: action 'slow' needs delayMs`);
  }
  if (rule.uuid !== undefined && typeof rule.uuid !== 'string') throw new Error(`${where}: uuid must be a string`);
  if (rule.message !== undefined && typeof rule.message !== 'string') {
    throw new Error(`${where}: message must be a string`);
  }
  if (rule.retryable !== undefined && typeof rule.retryable !== 'boolean') {
    throw new Error(`${where}: retryable must be a boolean`);
  }
}

function validateGuestFaults(g: GuestFaultPlan): void {
  const where = 'fault plan guests';
  if (typeof g !== 'object' || g === null) throw new Error(`${where}: must be an object`);
  for (const k of Object.keys(g)) if (!['everyMs', 'crash', 'shutdown'].includes(k)) throw new Error(`${where}: unknown field '${k}'`);
  if (!(Number.isFinite(g.everyMs) && g.everyMs > 0)) throw new Error(`${where}: everyMs must be > 0, got ${String(g.everyMs)}`);
  const p = (v: number | undefined) => v === undefined || (typeof v === 'number' && v >= 0 && v <= 1);
  if (!p(g.crash) || !p(g.shutdown) || (g.crash ?? 0) + (g.shutdown ?? 0) > 1) {
    throw new Error(`${where}: crash and shutdown must be chances within [0, 1] that sum to at most 1`);
  }
}

interface ActiveRule {
  rule: FaultRule;
  left: number;
}

/**
 * Decides, per driver call, which fault (if any) applies. Rules are checked in order and the first
 * one that matches and fires wins; a rule whose `times` are used up is dropped.
 */
export class FaultInjector {
  private rules: ActiveRule[] = [];
  private readonly random: () => number;
  /** A stream of its own, so guest faults do not shift the per-operation dice (and vice versa). */
  private readonly guestRandom: () => number;
  readonly guests: GuestFaultPlan | undefined;

  constructor(plan: FaultPlan = { rules: [] }) {
    if (typeof plan !== 'object' || plan === null || !Array.isArray(plan.rules)) {
      throw new Error('fault plan: rules must be an array');
    }
    if (plan.seed !== undefined && !Number.isFinite(plan.seed)) {
      throw new Error(`fault plan: seed must be a finite number, got ${String(plan.seed)}`);
    }
    // Validate everything before keeping anything, so a bad plan has no half-applied effect.
    plan.rules.forEach((r, i) => validateRule(r, `fault plan rule ${i}`));
    if (plan.guests !== undefined) validateGuestFaults(plan.guests);
    this.random = mulberry32(plan.seed ?? 1);
    this.guestRandom = mulberry32((plan.seed ?? 1) ^ 0x9e3779b9);
    this.guests = plan.guests && { ...plan.guests };
    for (const r of plan.rules) this.push(r);
  }

  /** One draw for one RUNNING guest at a guest-fault tick. */
  guestFault(): GuestFault | undefined {
    const g = this.guests;
    if (!g) return undefined;
    const x = this.guestRandom();
    if (x < (g.crash ?? 0)) return 'crash';
    if (x < (g.crash ?? 0) + (g.shutdown ?? 0)) return 'shutdown';
    return undefined;
  }

  /** Adds a rule to a live injector (chaos tests break a host mid-run); it is checked last. */
  addRule(rule: FaultRule): void {
    validateRule(rule);
    this.push(rule);
  }

  /** Drops every rule; the PRNG keeps its position so a replay stays deterministic. */
  clear(): void {
    this.rules = [];
  }

  /** How many rules are still active (not exhausted). */
  get size(): number {
    return this.rules.length;
  }

  /** The fault for this call, consuming one of the firing rule's `times`. */
  decide(op: DriverOp, uuid: string): FaultDecision {
    if (this.rules.length === 0) return NONE;
    for (let i = 0; i < this.rules.length; i++) {
      const a = this.rules[i]!;
      const r = a.rule;
      if (r.op !== op || (r.uuid !== undefined && r.uuid !== uuid)) continue;
      // Only draw for probabilistic rules, so adding a certain rule does not shift the dice.
      const p = r.probability ?? 1;
      if (p < 1 && !(this.random() < p)) continue;
      if (--a.left <= 0) this.rules.splice(i, 1);
      switch (r.action) {
        case 'fail':
          return {
            action: 'fail', message: r.message ?? `injected fault: ${op} failed`, retryable: r.retryable ?? false,
          };
        case 'slow':
          return { action: 'slow', delayMs: r.delayMs ?? 0 };
        case 'hang':
          return { action: 'hang' };
      }
    }
    return NONE;
  }

  private push(rule: FaultRule): void {
    const left = rule.times ?? Infinity;
    // A copy, so the caller mutating its plan object cannot change a live rule.
    if (left > 0) this.rules.push({ rule: { ...rule }, left });
  }
}
