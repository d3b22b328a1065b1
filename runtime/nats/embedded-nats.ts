/**
 * The embedded nats-server novact runs when given no NATS URL: the packaged nats.conf, generated
 * into the server's own 0700 run dir with fresh role passwords (in its environment) and the host
 * users registered so far (written in at the marker). Registering hosts rewrites the config and
 * reloads the server in place: no restart, no dropped connection.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startNatsServer, type NatsServerHandle } from '../services/nats-server.js';
import { authEnv, generateAuth, type NatsAuth, type NatsUser } from './credentials.js';
import { isValidHostName } from '../../protocols/host-identity.js';
import { HostUsers } from './host-users.js';
import { renderNatsConf, type HostUser } from './nats-conf.js';

/** The packaged nats.conf (next to package.json, whether running from sources or from dist/). */
export const NATS_CONF = ['../../nats.conf', '../../../nats.conf']
  .map((p) => fileURLToPath(new URL(p, import.meta.url)))
  .find((p) => existsSync(p)) ?? 'nats.conf';

export interface EmbeddedNatsOptions {
  subjectRoot: string;
  /** Host users present from the start (no reload needed for them). */
  hostUsers?: HostUser[];
  /** A fleet identity trusted with every host name (tests and benchmarks of wildcard routing). */
  anyHostKeys?: string[];
  log?: (line: string) => void;
}

export interface EmbeddedNats {
  readonly server: NatsServerHandle;
  /** Every user's fresh password (roles, client, registrar). */
  readonly auth: Record<NatsUser, NatsAuth>;
  readonly hosts: HostUsers;
  /** Lets `publicKey` act as `hosts` (moved from whoever had them); resolves once the server enforces it. */
  register(publicKey: string, hosts: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

export async function startEmbeddedNats(opts: EmbeddedNatsOptions): Promise<EmbeddedNats> {
  const template = await readFile(NATS_CONF, 'utf8');
  const auth = generateAuth();
  const hosts = new HostUsers();
  for (const u of opts.hostUsers ?? []) if (u.hosts !== 'any') hosts.assign(u.publicKey, u.hosts);
  const fleet: HostUser[] = (opts.anyHostKeys ?? []).map((publicKey) => ({ publicKey, hosts: 'any' }));
  const render = () => renderNatsConf(template, opts.subjectRoot, [...fleet, ...hosts.users()]);
  const server = await startNatsServer({ configText: render(), env: authEnv(auth), ...(opts.log ? { log: opts.log } : {}) });
  // One reload at a time: a reload reads whatever file is there, so overlapping ones could each
  // resolve on the other's "reloaded" line before their own change is in force.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    server,
    auth,
    hosts,
    register(publicKey, names) {
      const next = queue.then(async () => {
        // Checked before the table changes: a name that cannot be written would poison every later render.
        const bad = names.find((n) => !isValidHostName(n));
        if (bad !== undefined) throw new Error(`invalid host name ${JSON.stringify(bad)}`);
        hosts.assign(publicKey, names);
        await server.reconfigure(render());
      });
      queue = next.catch(() => undefined);
      return next;
    },
    stop: () => server.stop(),
  };
}
