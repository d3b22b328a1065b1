/**
 * Contract rows for the operations on one guest beyond power: console, diagnostics, snapshot,
 * rescue, rebuild, admin password, crash dump (see hosts/contract.ts).
 */
import { randomUUID } from 'node:crypto';
import { DriverError, type HypervisorDriver, type ImageDataSink } from './driver.js';
import { PowerState } from '../protocols/states.js';
import { guestSpec, rejectionKind, resolves, settle, type ContractHooks, type ContractTest, type Fresh } from './contract-support.js';

const { RUNNING, SHUTDOWN } = PowerState;

/** A sink that keeps what it is given in memory; `failAt` makes the n-th write reject. */
export class MemorySink implements ImageDataSink {
  readonly chunks: Uint8Array[] = [];
  finished = 0;
  aborted: string | undefined;
  constructor(private readonly failAt?: number) {}
  async write(chunk: Uint8Array): Promise<void> {
    if (this.failAt !== undefined && this.chunks.length + 1 >= this.failAt) throw new Error('sink refused the chunk');
    this.chunks.push(chunk.slice());
  }
  async finish(): Promise<void> { this.finished++; }
  async abort(reason: string): Promise<void> { this.aborted = reason; }
  get bytes(): number { return this.chunks.reduce((n, c) => n + c.length, 0); }
}

export function guestOpRows<D extends HypervisorDriver>(t: ContractTest, name: string, fresh: Fresh<D>, hooks: ContractHooks<D>): void {
  t.test(`${name}: console output and diagnostics`, async (t: ContractTest) => {
    const d = await fresh(t);
    const spec = guestSpec({ vcpus: 2, memoryMb: 1024 });
    await d.spawn(spec);
    await hooks.guestPrints?.(d, spec.uuid, 'contract: hello from the guest');
    t.ok((await d.consoleOutput(spec.uuid)).length > 0, 'a running guest has console output');
    t.equal(await d.consoleOutput(spec.uuid, 0), '', 'zero lines is empty');
    const diag = await d.diagnostics(spec.uuid);
    t.match(diag, { state: 'running', num_cpus: 2, memory_details: { maximum: 1024 } }, 'diagnostics of a running guest');
    t.equal(diag.cpu_details.length, diag.num_cpus, 'one cpu_details row per vcpu');
    t.equal(diag.disk_details.length, diag.num_disks, 'one disk_details row per disk');
    t.equal(diag.nic_details.length, diag.num_nics, 'one nic_details row per nic');
    await d.powerOff(spec.uuid);
    t.match(await d.diagnostics(spec.uuid), { state: 'shutdown', uptime: 0 }, 'diagnostics of a stopped guest');
  });

  t.test(`${name}: admin password and crash dump need a live guest`, async (t: ContractTest) => {
    const d = await fresh(t);
    const { uuid } = await d.spawn(guestSpec());
    // Nova answers 409 where the hypervisor cannot (no guest agent, no NMI): `unsupported`, every time.
    for (const [what, call] of [['set the password of', () => d.setAdminPassword(uuid, 's3cret')], ['crash dump of', () => d.triggerCrashDump(uuid)]] as const) {
      const first = await settle(call());
      if (first instanceof DriverError && first.kind === 'unsupported') {
        t.equal(await rejectionKind(t, call()), 'unsupported', `${what} a running guest is unsupported, again`);
      } else {
        t.equal(first, undefined, `${what} a running guest`);
        await resolves(t, call(), `${what} a running guest again (idempotent)`);
      }
    }
    t.equal((await d.getGuest(uuid))?.powerState, RUNNING, 'neither changes the power state by itself');
    await d.powerOff(uuid);
    t.equal(await rejectionKind(t, d.setAdminPassword(uuid, 'x')), 'invalid-state', 'password of a stopped guest');
    t.equal(await rejectionKind(t, d.triggerCrashDump(uuid)), 'invalid-state', 'crash dump of a stopped guest');
  });

  t.test(`${name}: rebuild re-creates the guest, running`, async (t: ContractTest) => {
    const d = await fresh(t);
    const spec = guestSpec();
    await d.spawn(spec);
    await d.powerOff(spec.uuid);
    const img = { ...spec.image, id: 'rebuilt-image' };
    t.equal((await d.rebuild({ ...spec, image: img })).powerState, RUNNING, 'a stopped guest is rebuilt running');
    t.equal((await d.rebuild({ ...spec, image: img })).powerState, RUNNING, 'a retried rebuild converges');
    t.equal((await d.listGuests()).filter((g) => g.uuid === spec.uuid).length, 1, 'still one guest of that uuid');
  });

  // Capability-gated rows check the capability on the driver they get (a row with nothing to check passes).
  t.test(`${name}: rescue and unrescue`, async (t: ContractTest) => {
    const d = await fresh(t);
    if (!d.capabilities.supportsRescue) return;
    const image = hooks.rescueImage ?? 'cirros';
    const { uuid } = await d.spawn(guestSpec());
    t.equal((await d.rescue(uuid, image, 'pw')).powerState, RUNNING, 'a rescued guest runs');
    t.equal((await d.rescue(uuid, image, 'pw')).powerState, RUNNING, 'rescue again converges');
    t.equal((await d.unrescue(uuid)).powerState, RUNNING, 'unrescued, running');
    t.equal((await d.unrescue(uuid)).powerState, RUNNING, 'unrescue again converges');
    await d.powerOff(uuid);
    t.equal((await d.rescue(uuid, image, 'pw')).powerState, RUNNING, 'a stopped guest can be rescued');
    await d.unrescue(uuid);
    if (d.capabilities.supportsPause) {
      await d.pause(uuid);
      t.equal(await rejectionKind(t, d.rescue(uuid, image, 'pw')), 'invalid-state', 'a paused guest cannot be rescued');
    }
    t.equal(await rejectionKind(t, d.rescue(randomUUID(), image, 'pw')), 'not-found', 'rescue of an absent guest');
  });

  t.test(`${name}: snapshot into a sink`, async (t: ContractTest) => {
    const d = await fresh(t);
    if (!d.capabilities.supportsSnapshot) return;
    const { uuid } = await d.spawn(guestSpec());
    const sink = new MemorySink();
    await d.snapshot(uuid, sink);
    t.ok(sink.bytes > 0, 'the sink got data');
    t.equal(sink.finished, 1, 'finished once');
    t.equal(sink.aborted, undefined, 'not aborted');
    t.equal((await d.getGuest(uuid))?.powerState, RUNNING, 'a running guest keeps running');
    await d.powerOff(uuid);
    await d.snapshot(uuid, new MemorySink());
    t.equal((await d.getGuest(uuid))?.powerState, SHUTDOWN, 'a stopped guest stays stopped');
    const failing = new MemorySink(1);
    t.equal(await rejectionKind(t, d.snapshot(uuid, failing)), 'failed', 'a sink failure fails the snapshot');
    t.ok(failing.aborted !== undefined && failing.finished === 0, 'and aborts the sink instead of finishing it');
    t.equal(await rejectionKind(t, d.snapshot(randomUUID(), new MemorySink())), 'not-found', 'snapshot of an absent guest');
    if (hooks.hang) {
      hooks.hang(d, 'snapshot');
      t.match(await settle(d.snapshot(uuid, new MemorySink(), { deadlineMs: 5 })), { kind: 'timeout' }, 'a hung snapshot times out');
    }
  });
}
