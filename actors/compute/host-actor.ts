/**
 * A host actor wraps one hypervisor driver. It executes guest operations (without blocking its
 * mailbox on them: builds on one host run concurrently, as Nova's do), answers inspection, and
 * reports capacity on an interval and right after every change. It holds no database handle.
 */
import { BadRequestError } from '../../protocols/errors.js';
import type { PowerOp } from '../../protocols/lifecycle.js';
import type { GuestReply, HostView } from '../../protocols/messages.js';
import type { CapacityReport, HeartbeatReport } from '../../protocols/resources.js';
import { PowerState } from '../../protocols/states.js';
import { fieldsOf, int, oneOf, optStr, str, stringMap } from '../../protocols/validate.js';
import type { GuestInfo, GuestSpec, HypervisorDriver } from '../../hosts/driver.js';
import type { ReplyTo } from '../../runtime/actors/reply.js';
import type { ActorRef } from '../../runtime/actors/system.js';
import type { RoleContext } from '../../runtime/role.js';
import { fromDriverError } from './driver-errors.js';

export type HostMsg =
  | { kind: 'request'; verb: string; body: Record<string, unknown>; key: string | undefined; reply: ReplyTo<unknown> }
  | { kind: 'report' }
  | { kind: 'heartbeat' }
  | { kind: 'changed' };

export interface HostActorState {
  seq: number;
  reportQueued: boolean;
  /** Recent idempotency keys → the outcome promise, so a retried request does not act twice. */
  recent: Map<string, Promise<unknown>>;
}

export interface HostOptions {
  host: string;
  driver: HypervisorDriver;
  availabilityZone: string | null;
}

const RECENT_KEYS = 256;
const POWER_OPS: readonly PowerOp[] = ['stop', 'start', 'reboot_soft', 'reboot_hard'];
const TARGET: Record<PowerOp, PowerState> = {
  stop: PowerState.SHUTDOWN,
  start: PowerState.RUNNING,
  reboot_soft: PowerState.RUNNING,
  reboot_hard: PowerState.RUNNING,
};

function parseGuest(body: Record<string, unknown>): GuestSpec {
  const o = fieldsOf(body.guest, ['uuid', 'name', 'vcpus', 'memoryMb', 'diskGb', 'image'], 'guest');
  const img = fieldsOf(o.image, ['id', 'diskFormat', 'properties'], 'guest.image');
  return {
    uuid: str(o, 'uuid', { max: 64 }),
    name: str(o, 'name'),
    vcpus: int(o, 'vcpus', { min: 1, max: 4096 }),
    memoryMb: int(o, 'memoryMb', { min: 1 }),
    diskGb: int(o, 'diskGb'),
    image: { id: str(img, 'id', { max: 64 }), diskFormat: optStr(img, 'diskFormat') ?? 'raw', properties: stringMap(img, 'properties') },
  };
}

async function power(driver: HypervisorDriver, uuid: string, op: PowerOp): Promise<GuestInfo> {
  const guest = await driver.getGuest(uuid);
  // Repeating a power operation that already took effect succeeds (retries after a timeout, resumes).
  if (guest && guest.powerState === TARGET[op] && (op === 'stop' || op === 'start')) return guest;
  switch (op) {
    case 'stop':
      return driver.powerOff(uuid);
    case 'start':
      return driver.powerOn(uuid);
    case 'reboot_soft':
      return driver.reboot(uuid, false);
    case 'reboot_hard':
      return driver.reboot(uuid, true);
  }
}

export function spawnHostActor(ctx: RoleContext, opts: HostOptions): ActorRef<HostMsg> {
  const { bridge, subjects, actors, clock } = ctx;
  const { host, driver } = opts;
  // Consecutive failed builds (Nova's compute manager counts them too): reported with the capacity,
  // so the scheduler's BuildFailureWeigher steers new builds away from a host that keeps failing.
  let failedBuilds = 0;

  const run = async (verb: string, body: Record<string, unknown>): Promise<unknown> => {
    switch (verb) {
      case 'get': {
        const [info, usage, guests] = await Promise.all([driver.hostInfo(), driver.usage(), driver.listGuests()]);
        const view: HostView = { host, info, usage, guests, enabled: true, reportSeq: 0 };
        return view;
      }
      case 'spawn': {
        const spec = parseGuest(body);
        try {
          const guest = await driver.spawn(spec);
          failedBuilds = 0;
          return { guest } satisfies GuestReply;
        } catch (err) {
          failedBuilds++;
          throw err;
        }
      }
      case 'destroy': {
        const o = fieldsOf(body, ['uuid'], 'destroy');
        await driver.destroy(str(o, 'uuid', { max: 64 }));
        return {};
      }
      case 'power': {
        const o = fieldsOf(body, ['uuid', 'op'], 'power');
        return { guest: await power(driver, str(o, 'uuid', { max: 64 }), oneOf(o, 'op', POWER_OPS)) } satisfies GuestReply;
      }
      default:
        throw new BadRequestError(`host ${host} has no verb '${verb}'`);
    }
  };

  const publishCapacity = async (seq: number): Promise<void> => {
    const [info, usage] = await Promise.all([driver.hostInfo(), driver.usage()]);
    const report: CapacityReport = {
      host,
      node: host,
      hypervisorType: info.hypervisorType,
      hypervisorVersion: info.hypervisorVersion,
      cpuArch: info.cpuArch,
      availabilityZone: opts.availabilityZone,
      vcpus: info.vcpus,
      memoryMb: info.memoryMb,
      diskGb: info.diskGb,
      vcpusUsed: usage.vcpusUsed,
      memoryMbUsed: usage.memoryMbUsed,
      diskGbUsed: usage.diskGbUsed,
      runningVms: usage.runningVms,
      failedBuilds,
      seq,
      sentAt: clock.now(),
    };
    bridge.publish(subjects.report(host, 'capacity'), report);
  };

  const ref = actors.spawn<HostActorState, HostMsg>(`host-${host}`, {
    init: () => ({ seq: 0, reportQueued: false, recent: new Map() }),
    handle: (s, m, { self }) => {
      switch (m.kind) {
        case 'request': {
          const mutating = m.verb !== 'get';
          let outcome = m.key !== undefined ? s.recent.get(m.key) : undefined;
          if (!outcome) {
            outcome = run(m.verb, m.body);
            if (m.key !== undefined) {
              s.recent.set(m.key, outcome);
              if (s.recent.size > RECENT_KEYS) s.recent.delete(s.recent.keys().next().value as string);
            }
          }
          outcome.then(
            (v) => {
              m.reply.ok(v);
              if (mutating) self.tell({ kind: 'changed' });
            },
            (err) => {
              m.reply.fail(fromDriverError(err, host));
              if (mutating) self.tell({ kind: 'changed' });
            },
          );
          return s;
        }
        case 'changed':
          // Coalesce a burst of changes into one report on the next turn.
          if (!s.reportQueued) {
            s.reportQueued = true;
            setImmediate(() => self.tell({ kind: 'report' }));
          }
          return s;
        case 'report':
          s.reportQueued = false;
          s.seq++;
          publishCapacity(s.seq).catch((err) => ctx.log.warn('capacity report failed', { host, err: String(err) }));
          return s;
        case 'heartbeat': {
          const hb: HeartbeatReport = { host, seq: s.seq, sentAt: clock.now() };
          bridge.publish(subjects.report(host, 'heartbeat'), hb);
          return s;
        }
      }
    },
  });

  bridge.serve(
    subjects.allHostVerbs(host),
    ({ verb, envelope }) =>
      ref.ask<unknown>((reply) => ({ kind: 'request', verb, body: envelope.body, key: envelope.idempotencyKey, reply }), Math.max(1, envelope.deadline - clock.now())),
    { isMutating: (verb) => verb !== 'get' },
  );
  return ref;
}
