/**
 * `novact up --join`: what a joining process takes from the owner's state file, and nothing more —
 * the users of the roles it runs, the database only for roles that use one, and for the compute
 * role a fresh host identity that the owner's registrar registers for exactly this process's hosts.
 * The operator's client credential is used for that one call and not handed to the cluster.
 */
import { Subjects } from '../protocols/subjects.js';
import type { JoinSpec, RoleName } from '../cluster/cluster.js';
import { systemClock } from '../runtime/clock.js';
import { createLogger } from '../runtime/log/logger.js';
import { Bridge } from '../runtime/nats/bridge.js';
import { connectNats } from '../runtime/nats/connection.js';
import { authFor } from '../runtime/nats/credentials.js';
import { newHostIdentity } from '../runtime/nats/host-identity.js';
import { registerHosts } from '../runtime/nats/host-registrar.js';
import { roleInboxPrefix } from '../protocols/host-identity.js';
import type { ClusterState } from './state-file.js';

const DB_ROLES: readonly RoleName[] = ['conductor', 'scheduler', 'image', 'network', 'api'];

/** The credentials for `roles` from the owner's state (no registration: see joinCluster). */
export function joinCredentials(state: ClusterState & { join: NonNullable<ClusterState['join']> }, roles: readonly RoleName[]): JoinSpec {
  const spec: JoinSpec = { natsUrl: state.join.natsUrl, natsAuth: authFor(state.join.natsAuth, roles), subjectRoot: state.subjectRoot };
  if (roles.some((r) => DB_ROLES.includes(r))) spec.databaseUrl = state.join.databaseUrl;
  return spec;
}

/** joinCredentials plus, with compute, a host identity registered for `hosts` through the owner. */
export async function joinCluster(state: ClusterState & { join: NonNullable<ClusterState['join']> }, roles: readonly RoleName[], hosts: readonly string[]): Promise<JoinSpec> {
  const spec = joinCredentials(state, roles);
  if (!roles.includes('compute') || hosts.length === 0) return spec;
  const id = newHostIdentity();
  const nc = await connectNats({ servers: state.natsUrl, name: 'novact-join', inboxPrefix: roleInboxPrefix('client') });
  try {
    await registerHosts(new Bridge(nc, systemClock, createLogger('silent')), new Subjects(state.subjectRoot), { publicKey: id.publicKey, hosts: [...hosts] });
  } finally {
    await nc.close().catch(() => undefined);
  }
  return { ...spec, hostSeed: id.seed };
}
