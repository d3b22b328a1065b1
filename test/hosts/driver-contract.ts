/**
 * The contract every HypervisorDriver must pass (hosts/driver.ts's failure contract, plus the power
 * state table). A driver's own test file calls `driverContract(t, 'name', make)`; `make` must give
 * a fresh, open driver each time. Assertions use deltas and fresh uuids, so a real hypervisor with
 * guests of its own can run the suite too.
 */
import { randomUUID } from 'node:crypto';
import type { Test } from 'tap';
import { DriverError, type GuestSpec, type HypervisorDriver } from '../../hosts/driver.js';
import { PowerState } from '../../protocols/states.js';

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

/** Resolves to the DriverError kind the promise rejected with; fails the test if it resolved. */
export async function rejectionKind(t: Test, p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    t.ok(e instanceof DriverError, `rejects with a DriverError (got ${String(e)})`);
    return e instanceof DriverError ? e.kind : undefined;
  }
  t.fail('expected a rejection, but the call resolved');
  return undefined;
}

type PowerOpName = 'powerOff' | 'powerOn' | 'softReboot' | 'hardReboot' | 'pause' | 'unpause' | 'suspend' | 'resume';

function call(d: HypervisorDriver, op: PowerOpName, uuid: string) {
  if (op === 'softReboot') return d.reboot(uuid, false);
  if (op === 'hardReboot') return d.reboot(uuid, true);
  return d[op](uuid);
}

/** Drives a fresh guest into `state` through accepted transitions only. */
async function bring(d: HypervisorDriver, uuid: string, state: PowerState): Promise<void> {
  if (state === PowerState.SHUTDOWN) await d.powerOff(uuid);
  else if (state === PowerState.PAUSED) await d.pause(uuid);
  else if (state === PowerState.SUSPENDED) await d.suspend(uuid);
}

const { RUNNING, PAUSED, SHUTDOWN, SUSPENDED } = PowerState;

// [from, op, to]: transitions every driver must accept.
const ACCEPTED: [PowerState, PowerOpName, PowerState][] = [
  [RUNNING, 'powerOff', SHUTDOWN],
  [SHUTDOWN, 'powerOn', RUNNING],
  [RUNNING, 'softReboot', RUNNING],
  [RUNNING, 'hardReboot', RUNNING],
  [SHUTDOWN, 'hardReboot', RUNNING],
  [PAUSED, 'hardReboot', RUNNING],
  [RUNNING, 'pause', PAUSED],
  [PAUSED, 'unpause', RUNNING],
  [RUNNING, 'suspend', SUSPENDED],
  [SUSPENDED, 'resume', RUNNING],
];

// [from, op]: transitions every driver must reject with 'invalid-state', leaving the state alone.
const REJECTED: [PowerState, PowerOpName][] = [
  [SHUTDOWN, 'softReboot'],
  [SUSPENDED, 'softReboot'],
  [SHUTDOWN, 'pause'],
  [SUSPENDED, 'pause'],
  [RUNNING, 'unpause'],
  [SHUTDOWN, 'unpause'],
  [SHUTDOWN, 'suspend'],
  [PAUSED, 'suspend'],
  [RUNNING, 'resume'],
  [PAUSED, 'resume'],
];

const ALL_OPS: PowerOpName[] = ['powerOff', 'powerOn', 'softReboot', 'hardReboot', 'pause', 'unpause', 'suspend', 'resume'];

export function driverContract(t: Test, name: string, make: () => Promise<HypervisorDriver>): void {
  const fresh = async (t: Test): Promise<HypervisorDriver> => {
    const d = await make();
    t.teardown(() => d.close());
    return d;
  };
  // Pause and suspend are optional capabilities: a driver without them skips those rows.
  const needs = (d: HypervisorDriver, op: PowerOpName, from: PowerState = RUNNING) =>
    ((op === 'pause' || op === 'unpause' || from === PAUSED) && !d.capabilities.supportsPause) ||
    ((op === 'suspend' || op === 'resume' || from === SUSPENDED) && !d.capabilities.supportsSuspend);

  t.test(`${name}: spawn, get and list`, async (t) => {
    const d = await fresh(t);
    const spec = guestSpec({ vcpus: 2, memoryMb: 2048, diskGb: 20 });
    const g = await d.spawn(spec);
    t.match(g, { uuid: spec.uuid, name: spec.name, powerState: RUNNING, vcpus: 2, memoryMb: 2048, diskGb: 20 });
    t.same(await d.getGuest(spec.uuid), g, 'getGuest returns what spawn returned');
    t.equal(await d.getGuest(randomUUID()), undefined, 'getGuest of an unknown uuid is undefined');
    const other = await d.spawn(guestSpec());
    const uuids = (await d.listGuests()).map((x) => x.uuid);
    t.ok(uuids.includes(spec.uuid) && uuids.includes(other.uuid), 'listGuests has both guests');
    const info = await d.hostInfo();
    t.ok(info.vcpus > 0 && info.memoryMb > 0 && info.diskGb > 0, 'hostInfo reports capacity');
  });

  t.test(`${name}: spawn is idempotent on uuid`, async (t) => {
    const d = await fresh(t);
    const spec = guestSpec();
    const [a, b] = await Promise.all([d.spawn(spec), d.spawn(spec)]);
    t.same(a, b, 'concurrent spawns of one uuid agree');
    await d.powerOff(spec.uuid);
    const again = await d.spawn(spec);
    t.equal(again.powerState, SHUTDOWN, 'a later spawn returns the existing guest untouched');
    t.equal((await d.listGuests()).filter((x) => x.uuid === spec.uuid).length, 1, 'only one guest exists');
  });

  t.test(`${name}: destroy`, async (t) => {
    const d = await fresh(t);
    await t.resolves(d.destroy(randomUUID()), 'destroy of an absent guest succeeds');
    const spec = guestSpec();
    await d.spawn(spec);
    await d.destroy(spec.uuid);
    t.equal(await d.getGuest(spec.uuid), undefined, 'destroyed guest is gone');
    await t.resolves(d.destroy(spec.uuid), 'destroying twice succeeds');
  });

  t.test(`${name}: accepted power transitions`, async (t) => {
    const d = await fresh(t);
    for (const [from, op, to] of ACCEPTED) {
      if (needs(d, op, from)) continue;
      const { uuid } = await d.spawn(guestSpec());
      await bring(d, uuid, from);
      const g = await call(d, op, uuid);
      t.equal(g.powerState, to, `${op} from ${from} gives ${to}`);
      t.equal((await d.getGuest(uuid))?.powerState, to, `${op} from ${from} is visible in getGuest`);
    }
  });

  t.test(`${name}: rejected power transitions`, async (t) => {
    const d = await fresh(t);
    for (const [from, op] of REJECTED) {
      if (needs(d, op, from)) continue;
      const { uuid } = await d.spawn(guestSpec());
      await bring(d, uuid, from);
      t.equal(await rejectionKind(t, call(d, op, uuid)), 'invalid-state', `${op} from ${from} is invalid-state`);
      t.equal((await d.getGuest(uuid))?.powerState, from, `${op} from ${from} leaves the state alone`);
    }
  });

  t.test(`${name}: power operations on an absent guest are not-found`, async (t) => {
    const d = await fresh(t);
    const uuid = randomUUID();
    for (const op of ALL_OPS) {
      if (needs(d, op)) continue;
      t.equal(await rejectionKind(t, call(d, op, uuid)), 'not-found', `${op} of an absent guest`);
    }
    t.equal(await rejectionKind(t, d.consoleOutput(uuid)), 'not-found', 'consoleOutput of an absent guest');
  });

  t.test(`${name}: usage accounting`, async (t) => {
    const d = await fresh(t);
    const base = await d.usage();
    const a = guestSpec({ vcpus: 2, memoryMb: 1024, diskGb: 10 });
    const b = guestSpec({ vcpus: 1, memoryMb: 512, diskGb: 5 });
    await d.spawn(a);
    await d.spawn(b);
    await d.spawn(b); // idempotent: must not count twice
    t.same(await d.usage(), {
      vcpusUsed: base.vcpusUsed + 3, memoryMbUsed: base.memoryMbUsed + 1536,
      diskGbUsed: base.diskGbUsed + 15, runningVms: base.runningVms + 2,
    }, 'both guests counted once');
    await d.powerOff(b.uuid);
    t.same(await d.usage(), {
      vcpusUsed: base.vcpusUsed + 3, memoryMbUsed: base.memoryMbUsed + 1536,
      diskGbUsed: base.diskGbUsed + 15, runningVms: base.runningVms + 1,
    }, 'a stopped guest still holds resources but is not running');
    await d.destroy(a.uuid);
    t.same(await d.usage(), {
      vcpusUsed: base.vcpusUsed + 1, memoryMbUsed: base.memoryMbUsed + 512,
      diskGbUsed: base.diskGbUsed + 5, runningVms: base.runningVms,
    }, 'a destroyed guest frees its resources');
  });

  t.test(`${name}: close rejects later calls`, async (t) => {
    const d = await make();
    const { uuid } = await d.spawn(guestSpec());
    await d.close();
    await t.resolves(d.close(), 'close is idempotent');
    const calls: [string, () => Promise<unknown>][] = [
      ['spawn', () => d.spawn(guestSpec())], ['destroy', () => d.destroy(uuid)],
      ['powerOff', () => d.powerOff(uuid)], ['reboot', () => d.reboot(uuid, true)],
      ['getGuest', () => d.getGuest(uuid)], ['listGuests', () => d.listGuests()],
      ['usage', () => d.usage()], ['hostInfo', () => d.hostInfo()],
      ['consoleOutput', () => d.consoleOutput(uuid)],
    ];
    for (const [what, fn] of calls) t.equal(await rejectionKind(t, fn()), 'closed', `${what} after close`);
  });
}
