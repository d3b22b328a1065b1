/**
 * Host requests (`<root>.host.<host>.<verb>`) from NATS to host actors. Normally one subscription
 * per host: a host identity is allowed only its own hosts' subjects (nats.conf), and the process
 * does not hear every other host's traffic. Only an identity trusted with every host name (a fleet
 * simulator, `wildcardSubscriptionAbove`) may take one wildcard subscription for them all instead,
 * saving ~1.9 KB of heap per host.
 *
 * Under the wildcard every such process hears every host's requests; one for a host this process
 * does not run is dropped unanswered, since the process that runs it answers. So a request for a
 * host no process runs times out rather than failing at once with "no responders".
 */
import type { BridgeSubscription } from '../../runtime/nats/bridge.js';
import type { RequestEnvelope } from '../../protocols/envelope.js';
import type { RoleContext } from '../../runtime/role.js';
import { HostVerbs } from '../../protocols/catalog/host.js';

export type HostRouting = 'wildcard' | 'per-host';

export type AskHost = (host: string, verb: string, envelope: RequestEnvelope<Record<string, unknown>>) => Promise<unknown>;

/** Subscribes for `hosts`; `owns` says whether a host is (still) served by this process. */
export function routeHostRequests(ctx: RoleContext, hosts: readonly string[], routing: HostRouting, owns: (host: string) => boolean, ask: AskHost): BridgeSubscription[] {
  const hostOf = (subject: string) => ctx.subjects.parseEntity(subject, 'host')?.id;
  const accept = (subject: string) => {
    const host = hostOf(subject);
    return host !== undefined && owns(host);
  };
  // `<root>.host.*.*` matches exactly the host grammar (host and verb tokens), as allHostVerbs does per host.
  const patterns = routing === 'wildcard' ? [`${ctx.subjects.root}.host.*.*`] : hosts.map((h) => ctx.subjects.allHostVerbs(h));
  return patterns.map((subject) =>
    // Each verb's body is checked against the catalog (protocols/catalog/host.ts) before the host actor sees it.
    ctx.bridge.serveFamily(subject, HostVerbs, ({ subject: s, verb, envelope }) => ask(hostOf(s)!, verb, envelope), { accept }),
  );
}
