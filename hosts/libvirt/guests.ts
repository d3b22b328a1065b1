/**
 * The guests of this host as libvirt has them: the domains whose `<metadata>` carries our namespace
 * and this host's name (a daemon may hold foreign domains, or another novact host's), with their
 * power state in Nova's terms. Every read is an observation for the power watch.
 */
import { access } from 'node:fs/promises';
import { DriverError, type GuestInfo } from '../driver.js';
import { PowerState } from '../../protocols/states.js';
import type { Bound } from './bound.js';
import { classify, type Dom, type Hypervisor, type LibvirtDomainInfo } from './connection.js';
import type { LibvirtCore } from './core.js';
import { isUuid } from './layout.js';
import { parseMeta, type GuestMeta } from './metadata.js';

export interface Found {
  meta: GuestMeta;
  info: LibvirtDomainInfo;
  state: PowerState;
  xml: string;
}

// virDomainState → Nova's power_state (nova/virt/libvirt/driver.py LIBVIRT_POWER_STATE).
const STATES: Record<number, PowerState> = {
  0: PowerState.NOSTATE, 1: PowerState.RUNNING, 2: PowerState.RUNNING, 3: PowerState.PAUSED,
  4: PowerState.SHUTDOWN, 5: PowerState.SHUTDOWN, 6: PowerState.CRASHED, 7: PowerState.SUSPENDED,
};
const SHUTOFF = 5;

export const exists = (path: string): Promise<boolean> => access(path).then(() => true, () => false);

/** Our guest on `h` for `dom`, or undefined when the domain is not ours. */
async function read(c: LibvirtCore, h: Hypervisor, dom: Dom, uuid: string): Promise<Found | undefined> {
  const xml = await h.domainGetXMLDesc(dom);
  const meta = parseMeta(xml);
  if (!meta || meta.uuid !== uuid || meta.host !== c.settings.host || !isUuid(uuid)) return undefined;
  const token = c.watch.token(uuid);
  const info = await h.domainGetInfo(dom);
  // Suspended, as Nova's libvirt driver has it: shut off with a saved state to come back to.
  const state = info.state === SHUTOFF && (await exists(c.layout.guest(uuid).save)) ? PowerState.SUSPENDED : STATES[info.state] ?? PowerState.NOSTATE;
  c.watch.observe(uuid, state, token);
  return { meta, info, state, xml };
}

/** `fn` on the domain of `uuid`, looked up on the same connection (a handle dies with its connection). */
export function onDomain<T>(c: LibvirtCore, b: Bound, uuid: string, what: string, fn: (h: Hypervisor, dom: Dom) => Promise<T>): Promise<T> {
  return c.conn.call(b, `${what} ${uuid}`, async (h) => fn(h, await h.domainLookupByUUIDString(uuid)));
}

/** Our guest `uuid`; `foreign` when the daemon has a domain of that uuid that is not ours. */
export function probeGuest(c: LibvirtCore, b: Bound, uuid: string): Promise<Found | 'foreign' | undefined> {
  if (!isUuid(uuid)) return Promise.resolve(undefined);
  return c.conn.call(b, `look up ${uuid}`, async (h) => {
    let dom: Dom;
    try {
      dom = await h.domainLookupByUUIDString(uuid);
    } catch (e) {
      if (classify('lookup', e).error.kind === 'not-found') return undefined;
      throw e;
    }
    return (await read(c, h, dom, uuid)) ?? 'foreign';
  });
}

/** Our guest `uuid`, or undefined. */
export async function findGuest(c: LibvirtCore, b: Bound, uuid: string): Promise<Found | undefined> {
  const f = await probeGuest(c, b, uuid);
  return f === 'foreign' ? undefined : f;
}

/** Our guest `uuid`; `not-found` otherwise. */
export async function needGuest(c: LibvirtCore, b: Bound, uuid: string): Promise<Found> {
  const f = await findGuest(c, b, uuid);
  if (!f) throw new DriverError('not-found', `guest ${uuid} not found on ${c.settings.host}`);
  return f;
}

/** Every guest of this host. A domain that vanishes while being listed is skipped. */
export function listFound(c: LibvirtCore, b: Bound): Promise<Found[]> {
  return c.conn.call(b, 'list domains', async (h) => {
    const out: Found[] = [];
    for (const dom of await h.connectListAllDomains()) {
      try {
        const f = await read(c, h, dom, await h.domainGetUUIDString(dom));
        if (f) out.push(f);
      } catch (e) {
        if (classify('list', e).error.kind !== 'not-found') throw e;
      }
    }
    return out;
  });
}

export function toInfo(f: Found, state = f.state): GuestInfo {
  const { uuid, name, vcpus, memoryMb, diskGb } = f.meta;
  return { uuid, name, powerState: state, vcpus, memoryMb, diskGb };
}

/** The name of a state for messages. */
const NAMES = new Map<number, string>(Object.entries(PowerState).map(([k, v]) => [v, k]));
export const stateName = (s: PowerState): string => NAMES.get(s) ?? String(s);

/** Throws `invalid-state` unless the guest is in one of `from`. */
export function requireState(f: Found, from: readonly PowerState[], verb: string): void {
  if (!from.includes(f.state)) throw new DriverError('invalid-state', `cannot ${verb} guest ${f.meta.uuid}: it is ${stateName(f.state)}`);
}
