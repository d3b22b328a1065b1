/**
 * The contract every HypervisorDriver must pass (hosts/driver.ts's failure contract, the power
 * state table, and every lifecycle operation), shipped so an embedder can run it against its own
 * driver: `driverContract(t, 'mine', make, hooks)` from a tap file, where `t` is tap's test object
 * (this module does not import tap, so tap stays a test-only dependency). `make` must give a fresh,
 * open driver each time. Assertions use deltas and fresh uuids, so a real hypervisor with guests of
 * its own can run the suite too. Rows that need a capability the driver lacks, or a hook it does not
 * give (hangs, failures, external power changes, a migration pair), are not registered.
 */
import { randomUUID } from 'node:crypto';
import { DriverError, type HypervisorDriver } from './driver.js';
import { PowerState } from '../protocols/states.js';
import { guestOpRows } from './contract-guest-ops.js';
import { migrationRows } from './contract-migration.js';
import { UPTIME_LINE } from './uptime-line.js';
import { guestSpec, rejectionKind, resolves, settle, type ContractHooks, type ContractTest, type Fresh } from './contract-support.js';

export { guestSpec, rejectionKind, resolves, settle, type ContractHooks, type ContractTest } from './contract-support.js';
export { MemorySink } from './contract-guest-ops.js';

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

const { RUNNING, PAUSED, SHUTDOWN, SUSPENDED, CRASHED } = PowerState;

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

export function driverContract<D extends HypervisorDriver>(t: ContractTest, name: string, make: () => Promise<D>, hooks: ContractHooks<D> = {}): void {
  const fresh = async (t: ContractTest): Promise<D> => {
    const d = await make();
    t.teardown(() => d.close());
    return d;
  };
  // Pause and suspend are optional capabilities: a driver without them skips those rows.
  const needs = (d: HypervisorDriver, op: PowerOpName, from: PowerState = RUNNING) =>
    ((op === 'pause' || op === 'unpause' || from === PAUSED) && !d.capabilities.supportsPause) ||
    ((op === 'suspend' || op === 'resume' || from === SUSPENDED) && !d.capabilities.supportsSuspend);

  t.test(`${name}: spawn, get and list`, async (t: ContractTest) => {
    const d = await fresh(t);
    const spec = guestSpec({ vcpus: 2, memoryMb: 2048, diskGb: 20 });
    const g = await d.spawn(spec);
    t.match(g, { uuid: spec.uuid, name: spec.name, powerState: RUNNING, vcpus: 2, memoryMb: 2048, diskGb: 20 }, 'spawn returns the running guest');
    t.same(await d.getGuest(spec.uuid), g, 'getGuest returns what spawn returned');
    t.equal(await d.getGuest(randomUUID()), undefined, 'getGuest of an unknown uuid is undefined');
    const other = await d.spawn(guestSpec());
    const uuids = (await d.listGuests()).map((x) => x.uuid);
    t.ok(uuids.includes(spec.uuid) && uuids.includes(other.uuid), 'listGuests has both guests');
    const info = await d.hostInfo();
    t.ok(info.vcpus > 0 && info.memoryMb > 0 && info.diskGb > 0, 'hostInfo reports capacity');
  });

  t.test(`${name}: hostInfo's uptime line, address, and the disk a guest may grow into taken from what is left`, async (t: ContractTest) => {
    const d = await fresh(t);
    const before = await d.hostInfo();
    if (before.uptime !== undefined) t.match(before.uptime, UPTIME_LINE, 'an uptime line');
    if (before.hostIp !== undefined) t.match(before.hostIp, /^[0-9a-f:.]+$/i, 'an address');
    if (before.diskAvailableLeastGb === undefined) return;
    t.ok(Number.isInteger(before.diskAvailableLeastGb) && before.diskAvailableLeastGb <= before.diskGb, 'at most the disk, in whole GiB');
    await d.spawn(guestSpec({ diskGb: 20 }));
    const taken = before.diskAvailableLeastGb - (await d.hostInfo()).diskAvailableLeastGb!;
    // Within a GiB: a real host's free space moves a little on its own.
    t.ok(taken >= 19 && taken <= 21, `a 20 GiB guest takes 20 GiB of it (took ${taken})`);
  });

  t.test(`${name}: spawn is idempotent on uuid`, async (t: ContractTest) => {
    const d = await fresh(t);
    const spec = guestSpec();
    const [a, b] = await Promise.all([d.spawn(spec), d.spawn(spec)]);
    t.same(a, b, 'concurrent spawns of one uuid agree');
    await d.powerOff(spec.uuid);
    const again = await d.spawn(spec);
    t.equal(again.powerState, SHUTDOWN, 'a later spawn returns the existing guest untouched');
    t.equal((await d.listGuests()).filter((x) => x.uuid === spec.uuid).length, 1, 'only one guest exists');
  });

  t.test(`${name}: destroy`, async (t: ContractTest) => {
    const d = await fresh(t);
    await resolves(t, d.destroy(randomUUID()), 'destroy of an absent guest succeeds');
    const spec = guestSpec();
    await d.spawn(spec);
    await d.destroy(spec.uuid);
    t.equal(await d.getGuest(spec.uuid), undefined, 'destroyed guest is gone');
    await resolves(t, d.destroy(spec.uuid), 'destroying twice succeeds');
  });

  t.test(`${name}: accepted power transitions`, async (t: ContractTest) => {
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

  t.test(`${name}: rejected power transitions`, async (t: ContractTest) => {
    const d = await fresh(t);
    for (const [from, op] of REJECTED) {
      if (needs(d, op, from)) continue;
      const { uuid } = await d.spawn(guestSpec());
      await bring(d, uuid, from);
      t.equal(await rejectionKind(t, call(d, op, uuid)), 'invalid-state', `${op} from ${from} is invalid-state`);
      t.equal((await d.getGuest(uuid))?.powerState, from, `${op} from ${from} leaves the state alone`);
    }
  });

  t.test(`${name}: power operations on an absent guest are not-found`, async (t: ContractTest) => {
    const d = await fresh(t);
    const uuid = randomUUID();
    for (const op of ALL_OPS) {
      if (needs(d, op)) continue;
      t.equal(await rejectionKind(t, call(d, op, uuid)), 'not-found', `${op} of an absent guest`);
    }
    const single: [string, () => Promise<unknown>][] = [
      ['consoleOutput', () => d.consoleOutput(uuid)], ['diagnostics', () => d.diagnostics(uuid)],
      ['rebuild', () => d.rebuild(guestSpec({ uuid }))], ['setAdminPassword', () => d.setAdminPassword(uuid, 'pw')],
      ['triggerCrashDump', () => d.triggerCrashDump(uuid)],
    ];
    for (const [what, fn] of single) t.equal(await rejectionKind(t, fn()), 'not-found', `${what} of an absent guest`);
  });

  t.test(`${name}: usage accounting`, async (t: ContractTest) => {
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

  t.test(`${name}: close rejects later calls`, async (t: ContractTest) => {
    const d = await make();
    const { uuid } = await d.spawn(guestSpec());
    await d.close();
    await resolves(t, d.close(), 'close is idempotent');
    const calls: [string, () => Promise<unknown>][] = [
      ['spawn', () => d.spawn(guestSpec())], ['destroy', () => d.destroy(uuid)],
      ['powerOff', () => d.powerOff(uuid)], ['reboot', () => d.reboot(uuid, true)],
      ['getGuest', () => d.getGuest(uuid)], ['listGuests', () => d.listGuests()],
      ['usage', () => d.usage()], ['hostInfo', () => d.hostInfo()],
      ['consoleOutput', () => d.consoleOutput(uuid)], ['diagnostics', () => d.diagnostics(uuid)],
      ['rebuild', () => d.rebuild(guestSpec({ uuid }))], ['setAdminPassword', () => d.setAdminPassword(uuid, 'pw')],
      ['init', () => d.init()],
    ];
    for (const [what, fn] of calls) t.equal(await rejectionKind(t, fn()), 'closed', `${what} after close`);
    t.equal((await d.health()).state, 'closed', 'health says closed, without rejecting');
  });

  t.test(`${name}: init and health`, async (t: ContractTest) => {
    const d = await fresh(t);
    await resolves(t, d.init(), 'init');
    await resolves(t, d.init(), 'init again (idempotent)');
    t.equal((await d.health()).state, 'up', 'an open driver is up');
  });

  deadlineRows(t, name, fresh, hooks);
  eventRows(t, name, fresh, hooks);
  guestOpRows(t, name, fresh, hooks);
  migrationRows(t, name, hooks);
}

/** Deadlines, signals, and a destroy racing a spawn. */
function deadlineRows<D extends HypervisorDriver>(t: ContractTest, name: string, fresh: Fresh<D>, hooks: ContractHooks<D>): void {
  t.test(`${name}: a call past its deadline or aborted does not act`, async (t: ContractTest) => {
    const d = await fresh(t);
    const { uuid } = await d.spawn(guestSpec());
    t.equal(await rejectionKind(t, d.powerOff(uuid, { deadlineMs: 0 })), 'timeout', 'deadline already passed: timeout');
    const ac = new AbortController();
    ac.abort(new Error('caller gave up'));
    t.equal(await rejectionKind(t, d.powerOff(uuid, { signal: ac.signal })), 'aborted', 'signal already aborted: aborted');
    t.equal((await d.getGuest(uuid))?.powerState, RUNNING, 'neither call acted');
    t.equal((await d.powerOff(uuid, { deadlineMs: 60_000 })).powerState, SHUTDOWN, 'a call within its deadline acts');
  });

  const { hang, failNext } = hooks;
  if (hang) {
    t.test(`${name}: a hung call ends at its deadline, its signal, or close`, async (t: ContractTest) => {
      const d = await fresh(t);
      const { uuid } = await d.spawn(guestSpec());
      hang(d, 'reboot');
      t.equal(await rejectionKind(t, d.reboot(uuid, true, { deadlineMs: 5 })), 'timeout', 'deadline');
      hang(d, 'powerOff');
      const ac = new AbortController();
      const off = settle(d.powerOff(uuid, { signal: ac.signal }));
      ac.abort(new Error('cancelled'));
      t.match(await off, { kind: 'aborted' }, 'signal');
      t.equal((await d.getGuest(uuid))?.powerState, RUNNING, 'the interrupted calls did not act');
      hang(d, 'pause');
      const hung = settle(d.pause(uuid));
      await d.close();
      t.match(await hung, { kind: 'closed' }, 'close');
    });

    t.test(`${name}: destroy during a hung spawn wins`, async (t: ContractTest) => {
      const d = await fresh(t);
      const spec = guestSpec();
      hang(d, 'spawn');
      const spawn = settle(d.spawn(spec));
      await resolves(t, d.destroy(spec.uuid, { deadlineMs: 60_000 }), 'destroy does not wait for the hung spawn');
      t.ok((await spawn) instanceof DriverError, 'the spawn rejects with a DriverError');
      t.equal(await d.getGuest(spec.uuid), undefined, 'no guest is left');
    });
  }

  t.test(`${name}: destroy during spawn wins`, async (t: ContractTest) => {
    const d = await fresh(t);
    const spec = guestSpec();
    const spawn = settle(d.spawn(spec));
    await resolves(t, d.destroy(spec.uuid), 'destroy resolves');
    const err = await spawn;
    t.ok(err === undefined || err instanceof DriverError, 'the spawn resolves or rejects with a DriverError');
    t.equal(await d.getGuest(spec.uuid), undefined, 'no guest is left');
  });

  if (failNext) {
    t.test(`${name}: a failed spawn leaves nothing behind`, async (t: ContractTest) => {
      const d = await fresh(t);
      const base = await d.usage();
      const spec = guestSpec({ vcpus: 2 });
      failNext(d, 'spawn');
      t.ok((await settle(d.spawn(spec))) instanceof DriverError, 'the spawn fails');
      t.equal(await d.getGuest(spec.uuid), undefined, 'no guest');
      t.same(await d.usage(), base, 'no usage');
      t.equal((await d.spawn(spec)).powerState, RUNNING, 'a retry succeeds');
    });
  }
}

/** A power change made by the hypervisor shows in listGuests and getGuest and, when the driver emits events, as one. */
function eventRows<D extends HypervisorDriver>(t: ContractTest, name: string, fresh: Fresh<D>, hooks: ContractHooks<D>): void {
  const { externalPower, externalStates = [CRASHED, SHUTDOWN] } = hooks;
  if (!externalPower) return;
  t.test(`${name}: external power changes are seen`, async (t: ContractTest) => {
    const d = await fresh(t);
    const { uuid } = await d.spawn(guestSpec());
    const seen: PowerState[] = [];
    const off = d.onEvent((e) => { if (e.uuid === uuid) seen.push(e.powerState); });
    for (const [i, state] of externalStates.entries()) {
      if (i > 0) await d.reboot(uuid, true);
      await externalPower(d, uuid, state);
      // Alternately through the listing and the single read: both must see it.
      const found = i % 2 === 0 ? (await d.listGuests()).find((g) => g.uuid === uuid) : await d.getGuest(uuid);
      t.equal(found?.powerState, state, `${i % 2 === 0 ? 'listGuests' : 'getGuest'} shows the external change to ${state}`);
    }
    if (d.capabilities.emitsEvents) t.same(seen, externalStates, 'one event per external change, none for the reboots asked for');
    off();
  });
}
