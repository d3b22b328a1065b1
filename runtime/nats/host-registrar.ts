/**
 * Host registration over NATS: `<root>.admin.register-hosts` with `{ publicKey, hosts }`, answered
 * by the process that owns the embedded nats-server's config. Only the operator's `client` user may
 * publish it (nats.conf). The caller keeps its seed: only the public key travels.
 */
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { BadRequestError } from '../../protocols/errors.js';
import { HostRegistration, REGISTER_HOSTS_VERB } from '../../protocols/host-identity.js';
import type { Subjects } from '../../protocols/subjects.js';
import type { Bridge, BridgeSubscription } from './bridge.js';

const checkRegistration = TypeCompiler.Compile(HostRegistration);

export interface RegisteredHosts {
  publicKey: string;
  hosts: string[];
}

/** Serves registrations; `register` applies one (config written, server reloaded) before the reply. */
export function serveHostRegistrar(bridge: Bridge, subjects: Subjects, register: (r: RegisteredHosts) => Promise<void>): BridgeSubscription {
  return bridge.serve(
    subjects.admin(REGISTER_HOSTS_VERB),
    async ({ envelope }) => {
      const body = envelope.body;
      if (!checkRegistration.Check(body)) {
        const first = checkRegistration.Errors(body).First();
        throw new BadRequestError(`invalid host registration${first ? ` at '${first.path || '/'}': ${first.message}` : ''}`);
      }
      const reg = { publicKey: body.publicKey, hosts: [...new Set(body.hosts)] };
      await register(reg);
      return reg;
    },
    { isMutating: () => true },
  );
}

/** Asks the registrar to let `publicKey` act as `hosts` (moving them from any identity that had them). */
export function registerHosts(bridge: Bridge, subjects: Subjects, reg: RegisteredHosts, timeoutMs = 15_000): Promise<RegisteredHosts> {
  return bridge.request<RegisteredHosts>(subjects.admin(REGISTER_HOSTS_VERB), REGISTER_HOSTS_VERB, reg, {
    timeoutMs,
    idempotencyKey: `register.${reg.publicKey}.${reg.hosts.length}`,
  });
}
