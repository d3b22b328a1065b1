/**
 * The nats-server config novact runs: the packaged nats.conf with the host users written in at its
 * marker. The same text is what an operator pastes into an external server's config for a host.
 */
import { hostPermissions, isValidHostName, type HostSet } from '../../protocols/host-identity.js';

/** The line in nats.conf's `users` list where host users go. */
export const HOST_USERS_MARKER = '# @novact:host-users';

export interface HostUser {
  publicKey: string;
  hosts: HostSet;
}

/** One `users` entry: an nkey user allowed exactly its hosts' subjects (see hostPermissions). */
export function hostUserEntry(root: string, user: HostUser): string {
  if (user.hosts !== 'any') {
    // Names go into the config verbatim: anything but the strict grammar could break out of it.
    for (const h of user.hosts) if (!isValidHostName(h)) throw new Error(`invalid host name ${JSON.stringify(h)}`);
  }
  if (!/^U[A-Z2-7]{55}$/.test(user.publicKey)) throw new Error('invalid nkey user public key');
  const p = hostPermissions(root, user.hosts, user.publicKey);
  return `{ nkey: ${user.publicKey}, permissions: { publish: ${JSON.stringify(p.publish)}, subscribe: ${JSON.stringify(p.subscribe)}, allow_responses: true } }`;
}

/** `template` with every host user in place of its marker line. */
export function renderNatsConf(template: string, root: string, users: Iterable<HostUser>): string {
  const lines = template.split('\n');
  const at = lines.findIndex((l) => l.trim() === HOST_USERS_MARKER);
  if (at < 0) throw new Error(`nats.conf has no '${HOST_USERS_MARKER}' line for host users`);
  const entries = [...users].map((u) => `    ${hostUserEntry(root, u)}`);
  return [...lines.slice(0, at + 1), ...entries, ...lines.slice(at + 1)].join('\n');
}
