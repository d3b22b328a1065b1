/**
 * Power sync against Nova's `_sync_instance_power_state` (nova/compute/manager.py): the table is
 * written out here independently, as the (vm_state, hypervisor power state) pairs Nova acts on;
 * every other pair only records the power state. Then the stop the sync begins, as a lifecycle
 * task: its end, its failure, a resume, a delete during it.
 */
import t from 'tap';
import { DRIVEN_TASK_STATES, observationMatters, syncAction, transition, type Caller, type Effect, type LifecycleState, type ObservedEvent, type Outcome, type Transition } from '../../protocols/lifecycle.js';
import { PowerState, VM_STATES, type VmState } from '../../protocols/states.js';

const { NOSTATE, RUNNING, PAUSED, SHUTDOWN, CRASHED, SUSPENDED } = PowerState;
const POWER_STATES: PowerState[] = [NOSTATE, RUNNING, PAUSED, SHUTDOWN, CRASHED, SUSPENDED];

/** Nova: active + shutdown/crashed ⇒ stop; active + suspended ⇒ stop; stopped + not off ⇒ force_stop; paused + off ⇒ force_stop. */
const ACTS: [VmState, PowerState, 'stop' | 'force_stop'][] = [
  ['active', SHUTDOWN, 'stop'], ['active', CRASHED, 'stop'], ['active', SUSPENDED, 'stop'],
  ['stopped', RUNNING, 'force_stop'], ['stopped', PAUSED, 'force_stop'], ['stopped', SUSPENDED, 'force_stop'],
  ['paused', SHUTDOWN, 'force_stop'], ['paused', CRASHED, 'force_stop'],
];
const actionFor = (vm: VmState, ps: PowerState) => ACTS.find(([v, p]) => v === vm && p === ps)?.[2] ?? 'none';

const FLAVOR = { id: '1', name: 'm1.tiny', vcpus: 1, memoryMb: 512, rootGb: 1, ephemeralGb: 0 };
const MEMBER: Caller = { userId: 'u1', projectId: 'p1', admin: false };

function st(over: Partial<LifecycleState> = {}): LifecycleState {
  return Object.freeze({
    flavor: FLAVOR, imageRef: 'img-1', vmState: 'active', taskState: null, powerState: RUNNING, host: 'h1', alternates: [], fault: null,
    launchedAt: 1_000, locked: null, ctx: { attempt: 5 }, running: null, ...over,
  } as LifecycleState);
}
const seen = (powerState: PowerState, host = 'h1'): ObservedEvent => ({ kind: 'observed', host, powerState, at: 2_000 });

function accepted(r: Transition): { next: LifecycleState; effects: Effect[]; finished?: unknown } {
  if (!r.ok) throw new Error(`refused: ${r.attr} ${r.value}`);
  return r;
}
const answer = (s: LifecycleState, o: Record<string, unknown> & { kind: Outcome['kind'] }): Outcome => ({ ...o, token: s.running! }) as Outcome;

t.test("Nova's table, exhaustively: 12 vm states x 6 power states, idle on the reporting host", async (t) => {
  let cases = 0;
  for (const vm of VM_STATES) {
    for (const ps of POWER_STATES) {
      for (const stored of [RUNNING, SHUTDOWN]) {
        cases++;
        const s = st({ vmState: vm, powerState: stored });
        const where = `${vm} (stored ${stored}) observed ${ps}`;
        const want = vm === 'deleted' ? 'none' : actionFor(vm, ps);
        t.equal(syncAction(s, seen(ps)), want, `${where}: ${want}`);
        const r = accepted(transition(s, seen(ps)));
        if (vm === 'deleted') {
          t.same(r.next, s, `${where}: a deleted instance is not touched`);
          t.equal(observationMatters(s, seen(ps)), false);
          continue;
        }
        t.equal(r.next.powerState, ps, `${where}: the stored power state follows the hypervisor`);
        t.equal(r.next.vmState, vm, `${where}: vm_state is the database's`);
        if (want === 'none') {
          t.same(r.effects, [], `${where}: nothing is done`);
          t.equal(r.next.taskState, null);
          t.equal(observationMatters(s, seen(ps)), stored !== ps, `${where}: matters only if the power state changed`);
        } else {
          t.equal(r.next.taskState, 'powering-off', `${where}: a stop begins`);
          t.same(r.next.ctx, { attempt: 6, action: 'stop', event: 'power_off' }, `${where}: recorded as Nova's stop`);
          t.same(r.effects, [{ kind: 'notify', event: 'power_off.start' }, { kind: 'power', token: { step: 'powering-off', attempt: 6 }, host: 'h1', op: 'stop' }], `${where}: the host stops the guest`);
          t.equal(observationMatters(s, seen(ps)), true);
        }
      }
    }
  }
  t.equal(cases, 144);
});

t.test('an instance with a task under way, or on another host, is left alone', async (t) => {
  for (const task of DRIVEN_TASK_STATES) {
    const s = st({ taskState: task, running: { step: task, attempt: 5 } });
    for (const ps of [SHUTDOWN, CRASHED, NOSTATE]) {
      t.same(accepted(transition(s, seen(ps))), { ok: true, next: s, effects: [] }, `${task} observed ${ps}`);
      t.equal(observationMatters(s, seen(ps)), false);
    }
  }
  const s = st();
  t.same(accepted(transition(s, seen(SHUTDOWN, 'h2'))), { ok: true, next: s, effects: [] }, 'a report from a host the instance is not on');
  t.same(accepted(transition(st({ host: null }), seen(SHUTDOWN))).effects, [], 'an instance with no host');
});

t.test('a matching observation changes nothing; a lock does not stop the sync (it acts as the system)', async (t) => {
  const s = st();
  t.same(accepted(transition(s, seen(RUNNING))).next, s, 'active and running: as recorded');
  t.equal(observationMatters(s, seen(RUNNING)), false, 'so the conductor need not load the instance');
  const locked = st({ locked: { by: 'owner', reason: null } });
  t.equal(accepted(transition(locked, seen(CRASHED))).next.taskState, 'powering-off', 'a locked server that crashed is stopped too');
});

t.test("the sync's stop ends SHUTOFF, recorded as a stop", async (t) => {
  const begun = accepted(transition(st(), seen(CRASHED))).next;
  const r = accepted(transition(begun, answer(begun, { kind: 'powered', powerState: SHUTDOWN })));
  t.equal(r.next.vmState, 'stopped');
  t.equal(r.next.taskState, null);
  t.equal(r.next.powerState, SHUTDOWN);
  t.same(r.effects, [{ kind: 'notify', event: 'power_off.end' }]);
  t.same(r.finished, { action: 'stop', result: 'Success', message: null });
  t.same(r.next.ctx, { attempt: 6 }, 'the context is cleared');
  t.same(accepted(transition(r.next, seen(SHUTDOWN))).effects, [], 'the next listing finds it as recorded');
});

t.test('a failed stop leaves the vm state and is retried by the next observation (Nova: "retried next time")', async (t) => {
  const begun = accepted(transition(st(), seen(SHUTDOWN))).next;
  const r = accepted(transition(begun, answer(begun, { kind: 'failed', code: 500, message: 'host said no' })));
  t.equal(r.next.vmState, 'active');
  t.equal(r.next.taskState, null);
  t.same(r.next.fault, { code: 500, message: 'host said no' });
  t.same(r.finished, { action: 'stop', result: 'Error', message: 'host said no' });
  t.equal(observationMatters(r.next, seen(SHUTDOWN)), true, 'the power state is as recorded, yet the rule still acts');
  t.equal(accepted(transition(r.next, seen(SHUTDOWN))).next.taskState, 'powering-off', 'so the next observation stops it again');
});

t.test("a resume re-issues the sync's stop; a stale outcome is ignored", async (t) => {
  const begun = accepted(transition(st(), seen(CRASHED))).next;
  const restarted = { ...begun, running: null };
  const r = accepted(transition(restarted, { kind: 'resume' }));
  t.same(r.effects, [{ kind: 'power', token: { step: 'powering-off', attempt: 7 }, host: 'h1', op: 'stop' }], 'the same stop, under a new token');
  const stale = accepted(transition(r.next, { kind: 'powered', token: { step: 'powering-off', attempt: 6 }, powerState: SHUTDOWN }));
  t.same(stale.next, r.next, 'the first issue answering late changes nothing');
});

t.test("a delete during the sync's stop takes over once the stop answers", async (t) => {
  const begun = accepted(transition(st(), seen(SHUTDOWN))).next;
  const d = accepted(transition(begun, { kind: 'action', name: 'delete', args: null, by: MEMBER }));
  t.equal(d.next.taskState, 'deleting');
  t.same(d.effects, [{ kind: 'notify', event: 'delete.start' }], 'it waits for the stop in flight');
  const after = accepted(transition(d.next, answer(d.next, { kind: 'powered', powerState: SHUTDOWN })));
  t.equal(after.next.taskState, 'deleting');
  t.same(after.effects.map((e) => e.kind), ['destroy'], 'then destroys the guest');
});
