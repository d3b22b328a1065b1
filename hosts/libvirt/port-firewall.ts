/**
 * The host side of security groups: a port's rule set (protocols/network/nftables.ts) loaded with
 * `nft -f -`, replaced atomically, removed, listed. `netns` names a network namespace to do it in
 * (`ip netns exec`); absent, the host's own. Each call is one nft transaction: the kernel takes all
 * of a port's table or none of it.
 */
import { DriverError, type CallOptions } from '../driver.js';
import { portTableName, renderPortRemoval, renderPortRuleset, type PortFirewall } from '../../protocols/network/nftables.js';
import { run } from './exec.js';

export interface FirewallTarget extends CallOptions {
  /** A network namespace (`ip netns` name); absent: the host's own. */
  netns?: string;
}

const NETNS = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;
const TABLE = /^table inet novact-port-([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

function nft(args: string[], t: FirewallTarget, input?: string): Promise<string> {
  const opts = { ...(t.deadlineMs === undefined ? {} : { deadlineMs: t.deadlineMs }), ...(t.signal ? { signal: t.signal } : {}), ...(input === undefined ? {} : { input }) };
  if (t.netns === undefined) return run('nft', args, opts);
  if (!NETNS.test(t.netns)) throw new DriverError('failed', `not a network namespace name: ${JSON.stringify(t.netns)}`);
  return run('ip', ['netns', 'exec', t.netns, 'nft', ...args], opts);
}

/** The renderer's refusal of a value (not a port id, MAC, address) as the driver's error. */
function rendered<T>(what: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw new DriverError('failed', `${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Creates or replaces the port's table. */
export async function applyPortFirewall(f: PortFirewall, t: FirewallTarget = {}): Promise<void> {
  await nft(['-f', '-'], t, rendered(`port ${f.portId}`, () => renderPortRuleset(f)));
}

/** Removes the port's table; a port without one is fine. */
export async function removePortFirewall(portId: string, t: FirewallTarget = {}): Promise<void> {
  await nft(['-f', '-'], t, rendered(`port ${portId}`, () => renderPortRemoval(portId)));
}

/** The ports that have a table here. */
export async function listPortFirewalls(t: FirewallTarget = {}): Promise<string[]> {
  const out = await nft(['list', 'tables', 'inet'], t);
  return out.split('\n').flatMap((l) => TABLE.exec(l.trim())?.[1] ?? []);
}

/** The port's table as the kernel holds it (nft's own printing). */
export function showPortFirewall(portId: string, t: FirewallTarget = {}): Promise<string> {
  return nft(['list', 'table', 'inet', rendered(`port ${portId}`, () => portTableName(portId))], t);
}
