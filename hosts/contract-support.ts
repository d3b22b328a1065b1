/** What the driver contract's rows share: the test object it needs, the hooks, and small helpers. */
import { randomUUID } from 'node:crypto';
import { DriverError, type DriverOp, type GuestSpec, type HypervisorDriver, type MigrationTarget } from './driver.js';
import type { PowerState } from '../protocols/states.js';

/** What the suite needs of a test object; tap's `Test` fits. */
export interface ContractTest {
  // \`any\`: tap's overloads take its own Test type; each row types its parameter as ContractTest.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  test(name: string, fn: (t: any) => Promise<void>): unknown;
  equal(found: unknown, wanted: unknown, message: string): unknown;
  not(found: unknown, wanted: unknown, message: string): unknown;
  ok(value: unknown, message: string): unknown;
  same(found: unknown, wanted: unknown, message: string): unknown;
  match(found: unknown, pattern: unknown, message: string): unknown;
  fail(message: string): unknown;
  teardown(fn: () => unknown): unknown;
}

/** Ways to make the driver misbehave or change on its own, for the rows that need them. */
export interface ContractHooks<D extends HypervisorDriver = HypervisorDriver> {
  /** The next call of `op` hangs until its deadline, its signal, or close. */
  hang?(d: D, op: DriverOp): void;
  /** The next call of `op` fails (and must leave nothing behind). */
  failNext?(d: D, op: DriverOp): void;
  /** The hypervisor changes the guest's power state on its own (a crash, a guest-initiated shutdown); done when it resolves. */
  externalPower?(d: D, uuid: string, state: PowerState): void | Promise<void>;
  /** The states `externalPower` can produce, tried in this order (default CRASHED, then SHUTDOWN). */
  externalStates?: PowerState[];
  /** The guest writes `line` on its console (for hypervisors whose guests print nothing by themselves). */
  guestPrints?(d: D, uuid: string, line: string): void | Promise<void>;
  /** Two fresh drivers that can migrate to each other, and how the source names the destination. */
  pair?(): Promise<{ source: D; dest: D; target: MigrationTarget }>;
  /** An image id the driver can rescue from (default `cirros`). */
  rescueImage?: string;
}

export function guestSpec(over: Partial<GuestSpec> = {}): GuestSpec {
  const uuid = over.uuid ?? randomUUID();
  return {
    uuid,
    name: `guest-${uuid.slice(0, 8)}`,
    vcpus: 1,
    memoryMb: 512,
    diskGb: 1,
    image: { id: 'cirros', diskFormat: 'qcow2', properties: {} },
    ...over,
  };
}

/**
 * Keeps the event loop alive until `p` settles: a driver's deadline timers may be unref'd (the
 * fake's are, on the system clock), and a row waiting only on them must not let the process exit.
 */
export function alive<T>(p: Promise<T>): Promise<T> {
  const keep = setInterval(() => undefined, 1_000);
  return p.finally(() => clearInterval(keep));
}

/** Resolves to the DriverError kind the promise rejected with; fails the test if it resolved. */
export async function rejectionKind(t: ContractTest, p: Promise<unknown>): Promise<string | undefined> {
  try {
    await alive(p);
  } catch (e) {
    t.ok(e instanceof DriverError, `rejects with a DriverError (got ${String(e)})`);
    return e instanceof DriverError ? e.kind : undefined;
  }
  t.fail('expected a rejection, but the call resolved');
  return undefined;
}

/** Resolves when `p` resolves; fails the test (without throwing) when it rejects. */
export async function resolves(t: ContractTest, p: Promise<unknown>, message: string): Promise<void> {
  try {
    await alive(p);
    t.ok(true, message);
  } catch (e) {
    t.fail(`${message}: rejected with ${String(e)}`);
  }
}

/** Settles `p` without letting an expected rejection go unhandled; resolves to the error or undefined. */
export const settle = (p: Promise<unknown>): Promise<unknown> => alive(p).then(() => undefined, (e: unknown) => e);

export type Fresh<D> = (t: ContractTest) => Promise<D>;

