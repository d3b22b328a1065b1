/**
 * Fencing on one host record with the fake driver: the fence stops (or destroys) every guest in the
 * driver's own state, stops again what came up meanwhile, and while fenced the host refuses every
 * verb that could start a guest and still lets guests be looked at, stopped and removed.
 */
import t from 'tap';
import { EventEmitter } from 'node:events';
import { guestSpec } from '../../hosts/contract-support.js';
import { FakeDriver } from '../../hosts/fake/fake-driver.js';
import { UnavailableError } from '../../protocols/errors.js';
import { PowerState } from '../../protocols/states.js';
import { HostFence } from '../../actors/compute/host-fence.js';
import { newHostRecord } from '../../actors/compute/host-record.js';
import { startVerb } from '../../actors/compute/host-verbs.js';
import type { GuestReaper } from '../../actors/compute/guest-reaper.js';
import { systemClock } from '../../runtime/clock.js';
import { createLogger } from '../../runtime/log/logger.js';
import type { RoleContext } from '../../runtime/role.js';

// What fence/enforce use of a role's context: its clock and log (recovery, which asks the conductor, is in test/integration/host-liveness.test.ts).
const ctx = { clock: systemClock, log: createLogger('silent') } as RoleContext;
const noReaper = {} as GuestReaper;

async function hostWith(n: number) {
  const driver = new FakeDriver({ hostname: 'h1' });
  await driver.init();
  const rec = newHostRecord('h1', driver, null);
  const uuids: string[] = [];
  for (let i = 0; i < n; i++) uuids.push((await driver.spawn(guestSpec())).uuid);
  return { driver, rec, uuids };
}

t.test('power-off: every guest stops, in the driver; one that comes up while fenced is stopped again', async (t) => {
  const { driver, rec, uuids } = await hostWith(3);
  await driver.pause(uuids[1]!);
  await driver.powerOff(uuids[2]!);
  const events = new EventEmitter();
  const fenced = new Promise<string[]>((resolve) => events.once('fenced', (_h: string, stopped: string[]) => resolve(stopped)));
  await new HostFence(ctx, 'power-off', noReaper, () => undefined, events).fence(rec);
  t.same((await fenced).sort(), [uuids[0], uuids[1]].sort(), 'the running and the paused one were stopped; the stopped one left alone');
  for (const g of await driver.listGuests()) t.equal(g.powerState, PowerState.SHUTDOWN, `${g.uuid} is shut down`);
  t.ok(rec.fenced, 'the host is fenced');

  // A spawn that was in flight lands after the fence: the next enforcement stops it.
  const late = await driver.spawn(guestSpec());
  const fence = new HostFence(ctx, 'power-off', noReaper, () => undefined, events);
  await fence.enforce(rec);
  t.equal((await driver.getGuest(late.uuid))?.powerState, PowerState.SHUTDOWN);
  t.ok(rec.fenced!.stopped.has(late.uuid), 'remembered, to start again if it is still owned');
});

t.test('destroy: the guests are gone', async (t) => {
  const { driver, rec } = await hostWith(2);
  await new HostFence(ctx, 'destroy', noReaper, () => undefined, new EventEmitter()).fence(rec);
  t.same(await driver.listGuests(), []);
});

t.test('a fenced host refuses what could start a guest, and allows looking, stopping and removing', async (t) => {
  const { rec, uuids } = await hostWith(2);
  rec.fenced = { stopped: new Set(), since: 0, recovering: false };
  const [a, b] = uuids as [string, string];
  await t.rejects(startVerb(rec, 'spawn', { guest: guestSpec() }), UnavailableError, 'spawn');
  await t.rejects(startVerb(rec, 'power', { uuid: a, op: 'start' }), UnavailableError, 'start');
  await t.rejects(startVerb(rec, 'power', { uuid: a, op: 'reboot_hard' }), UnavailableError, 'hard reboot');
  await t.rejects(startVerb(rec, 'unrescue', { uuid: a }), UnavailableError, 'unrescue');
  t.match(await startVerb(rec, 'power', { uuid: a, op: 'stop' }), { guest: { powerState: PowerState.SHUTDOWN } }, 'stop');
  t.match(await startVerb(rec, 'get', {}), { host: 'h1' }, 'get');
  await startVerb(rec, 'destroy', { uuid: b });
  t.equal(await rec.driver.getGuest(b), undefined, 'destroy');
  rec.fenced = undefined;
  t.match(await startVerb(rec, 'power', { uuid: a, op: 'start' }), { guest: { powerState: PowerState.RUNNING } }, 'unfenced: start works again');
});
