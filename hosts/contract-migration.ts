/**
 * Contract rows for cold and live migration, run on a pair of drivers from `hooks.pair` (see
 * hosts/contract.ts). Every step is called twice where Nova's retries would repeat it: it must converge.
 */
import type { HypervisorDriver } from './driver.js';
import { PowerState } from '../protocols/states.js';
import { guestSpec, rejectionKind, resolves, settle, type ContractHooks, type ContractTest } from './contract-support.js';

const { RUNNING, SHUTDOWN } = PowerState;

export function migrationRows<D extends HypervisorDriver>(t: ContractTest, name: string, hooks: ContractHooks<D>): void {
  const { pair } = hooks;
  if (!pair) return;
  const fresh = async (t: ContractTest) => {
    const p = await pair();
    t.teardown(() => Promise.all([p.source.close(), p.dest.close()]));
    return p;
  };

  t.test(`${name}: resize to another host, confirmed`, async (t: ContractTest) => {
    const { source, dest, target } = await fresh(t);
    if (!source.capabilities.supportsMigration) return;
    const base = await source.usage();
    const spec = guestSpec({ vcpus: 1, memoryMb: 512 });
    await source.spawn(spec);
    t.equal((await source.migrateOut(spec.uuid, target)).powerState, SHUTDOWN, 'the source powers the guest off');
    t.equal((await source.migrateOut(spec.uuid, target)).powerState, SHUTDOWN, 'migrateOut again converges');
    const g = await source.getGuest(spec.uuid);
    t.ok(g === undefined || g.powerState === SHUTDOWN, 'the source guest, if still listed, is off');
    const bigger = { ...spec, vcpus: 2, memoryMb: 1024 };
    t.match(await dest.finishMigration(bigger, true), { powerState: RUNNING, vcpus: 2, memoryMb: 1024 }, 'the destination runs the new flavor');
    t.match(await dest.finishMigration(bigger, true), { powerState: RUNNING, vcpus: 2 }, 'finishMigration again converges');
    await source.confirmMigration(spec.uuid);
    await resolves(t, source.confirmMigration(spec.uuid), 'confirm again converges');
    t.equal(await source.getGuest(spec.uuid), undefined, 'the source keeps nothing');
    t.same(await source.usage(), base, 'the source frees what it kept');
  });

  t.test(`${name}: resize reverted`, async (t: ContractTest) => {
    const { source, dest, target } = await fresh(t);
    if (!source.capabilities.supportsMigration) return;
    const spec = guestSpec({ vcpus: 1 });
    await source.spawn(spec);
    await source.migrateOut(spec.uuid, target);
    t.equal((await dest.finishMigration({ ...spec, vcpus: 4 }, false)).powerState, SHUTDOWN, 'finishMigration without power on leaves it off');
    await dest.revertMigration(spec.uuid);
    await resolves(t, dest.revertMigration(spec.uuid), 'revert again converges');
    t.equal(await dest.getGuest(spec.uuid), undefined, 'the destination has no guest');
    t.match(await source.finishRevertMigration(spec.uuid, true), { powerState: RUNNING, vcpus: 1 }, 'the source runs the old flavor again');
    t.match(await source.finishRevertMigration(spec.uuid, true), { powerState: RUNNING }, 'finishRevertMigration again converges');
  });

  t.test(`${name}: live migration`, async (t: ContractTest) => {
    const { source, dest, target } = await fresh(t);
    if (!source.capabilities.supportsLiveMigration) return;
    const spec = guestSpec();
    await source.spawn(spec);
    await dest.prepareIncoming(spec);
    await resolves(t, dest.prepareIncoming(spec), 'prepareIncoming again converges');
    await source.liveMigrate(spec.uuid, target);
    t.equal(await source.getGuest(spec.uuid), undefined, 'the source no longer has the guest');
    t.equal((await dest.finishIncoming(spec.uuid)).powerState, RUNNING, 'the destination runs it');
    t.equal((await dest.finishIncoming(spec.uuid)).powerState, RUNNING, 'finishIncoming again converges');
    await resolves(t, dest.abortIncoming(spec.uuid), 'abortIncoming after finish leaves it alone');
    t.equal((await dest.getGuest(spec.uuid))?.powerState, RUNNING, 'the guest still runs');
  });

  t.test(`${name}: live migration rolled back`, async (t: ContractTest) => {
    const { source, dest, target } = await fresh(t);
    if (!source.capabilities.supportsLiveMigration) return;
    const spec = guestSpec();
    await source.spawn(spec);
    await dest.prepareIncoming(spec);
    if (hooks.failNext) {
      hooks.failNext(source, 'liveMigrate');
      t.ok((await settle(source.liveMigrate(spec.uuid, target))) !== undefined, 'a failed transfer rejects');
      t.equal((await source.getGuest(spec.uuid))?.powerState, RUNNING, 'and the guest runs on at the source');
    }
    if (hooks.hang) {
      hooks.hang(source, 'liveMigrate');
      const moving = settle(source.liveMigrate(spec.uuid, target));
      await source.abortLiveMigration(spec.uuid);
      t.match(await moving, { kind: 'aborted' }, 'an aborted transfer rejects aborted');
      t.equal((await source.getGuest(spec.uuid))?.powerState, RUNNING, 'and the guest runs on at the source');
    }
    await dest.abortIncoming(spec.uuid);
    await resolves(t, dest.abortIncoming(spec.uuid), 'abortIncoming again converges');
    t.equal(await dest.getGuest(spec.uuid), undefined, 'the destination has nothing');
    t.equal(await rejectionKind(t, dest.finishIncoming(spec.uuid)), 'not-found', 'nothing to finish');
  });
}
