/**
 * The verbs a host answers (`get`, `spawn`, `destroy`, `power`), run against its driver. An
 * operation is started here and not awaited by the host actor: builds on one host run concurrently,
 * as Nova's do.
 */
import { BadRequestError, NovactError } from '../../protocols/errors.js';
import type { PowerOp } from '../../protocols/lifecycle.js';
import type { GuestReply, HostView } from '../../protocols/messages.js';
import { PowerState } from '../../protocols/states.js';
import { fieldsOf, int, oneOf, optStr, str, stringMap } from '../../protocols/validate.js';
import { DriverError, type GuestInfo, type GuestSpec, type HypervisorDriver } from '../../hosts/driver.js';
import type { HostRecord } from './host-record.js';

const POWER_OPS: readonly PowerOp[] = ['stop', 'start', 'reboot_soft', 'reboot_hard', 'pause', 'unpause', 'suspend', 'resume'];
const TARGET: Record<PowerOp, PowerState> = {
  stop: PowerState.SHUTDOWN,
  start: PowerState.RUNNING,
  reboot_soft: PowerState.RUNNING,
  reboot_hard: PowerState.RUNNING,
  pause: PowerState.PAUSED,
  unpause: PowerState.RUNNING,
  suspend: PowerState.SUSPENDED,
  resume: PowerState.RUNNING,
};
/** Operations whose repetition after they took effect is a no-op (retries after a timeout, resumes). */
const SETTLES = new Set<PowerOp>(['stop', 'start', 'pause', 'unpause', 'suspend', 'resume']);

export const isMutatingHostVerb = (verb: string): boolean => verb !== 'get';

/**
 * Starts `verb`. Bad input and driver failures come back as a rejected promise (answered as typed
 * errors); anything else a driver throws synchronously is a bug and is rethrown, so that it crashes
 * the host actor, whose supervisor answers the request retryably and restarts it.
 */
export function startVerb(rec: HostRecord, verb: string, body: Record<string, unknown>): Promise<unknown> {
  try {
    return run(rec, verb, body);
  } catch (err) {
    if (err instanceof NovactError || err instanceof DriverError) return Promise.reject(err);
    throw err;
  }
}

function run(rec: HostRecord, verb: string, body: Record<string, unknown>): Promise<unknown> {
  const { driver, name } = rec;
  switch (verb) {
    case 'get':
      return Promise.all([driver.hostInfo(), driver.usage(), driver.listGuests()]).then(
        ([info, usage, guests]): HostView => ({ host: name, info, usage, guests, enabled: true, reportSeq: rec.seq }),
      );
    case 'spawn': {
      const spec = parseGuest(body);
      (rec.spawning ??= new Set()).add(spec.uuid);
      return driver.spawn(spec).then(
        (guest): GuestReply => {
          rec.failedBuilds = 0;
          return { guest };
        },
        (err: unknown) => {
          rec.failedBuilds++;
          throw err;
        },
      ).finally(() => rec.spawning?.delete(spec.uuid));
    }
    case 'destroy': {
      const o = fieldsOf(body, ['uuid'], 'destroy');
      return driver.destroy(str(o, 'uuid', { max: 64 })).then(() => ({}));
    }
    case 'power': {
      const o = fieldsOf(body, ['uuid', 'op'], 'power');
      return power(driver, str(o, 'uuid', { max: 64 }), oneOf(o, 'op', POWER_OPS)).then((guest): GuestReply => ({ guest }));
    }
    default:
      throw new BadRequestError(`host ${name} has no verb '${verb}'`);
  }
}

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
  if (guest && guest.powerState === TARGET[op] && SETTLES.has(op)) return guest;
  switch (op) {
    case 'stop':
      return driver.powerOff(uuid);
    case 'start':
      return driver.powerOn(uuid);
    case 'reboot_soft':
      return driver.reboot(uuid, false);
    case 'reboot_hard':
      return driver.reboot(uuid, true);
    case 'pause':
      return driver.pause(uuid);
    case 'unpause':
      return driver.unpause(uuid);
    case 'suspend':
      return driver.suspend(uuid);
    case 'resume':
      return driver.resume(uuid);
  }
}
