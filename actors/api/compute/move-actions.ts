/**
 * The REST side of the move actions whose body changes with the microversion (os-migrateLive,
 * evacuate, nova/api/openstack/compute/migrate_server.py and evacuate.py): what each version
 * admits, the destination host's existence, and evacuate's 200 body (`adminPass` below 2.14).
 * The rest (admin, guards, the source service's state) is the action table's and the conductor's.
 */
import { randomBytes } from 'node:crypto';
import type { ActionName } from '../../../protocols/lifecycle.js';
import type { ServerView } from '../../../protocols/messages.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, notFound } from '../faults.js';
import { atLeast, type Microversion } from '../microversion.js';

export interface MoveAction {
  /** The action's arguments for the conductor, and the response body (if it has one). */
  prepare(value: Record<string, unknown>, mv: Microversion, server: ServerView): Promise<{ args: Record<string, unknown>; body?: unknown }>;
}

/** Nova's `utils.generate_password` shape: 12 characters, no look-alikes. */
function password(): string {
  const alphabet = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return [...randomBytes(12)].map((b) => alphabet[b % alphabet.length]).join('');
}

/** Refuses a key the version does not have (Nova's schemas have additionalProperties false). */
function only(value: Record<string, unknown>, key: string, allowed: boolean, api: string): void {
  if (!allowed && key in value) throw badRequest(`Invalid input for field/attribute ${api}. Additional properties are not allowed ('${key}' was unexpected)`);
}

function forceOf(value: Record<string, unknown>, host: unknown, api: string, mv: Microversion, from: number): boolean {
  only(value, 'force', atLeast(mv, from) && !atLeast(mv, 68), api);
  const force = value.force === true;
  if (force && !host) throw badRequest("Can't force to a non-provided destination");
  return force;
}

async function hostKnown(d: ApiDeps, host: string): Promise<boolean> {
  return (await d.backend.servicePage({ host, limit: 1 })).services.length > 0;
}

export function moveActions(d: ApiDeps): Partial<Record<ActionName, MoveAction>> {
  return {
    liveMigrate: {
      prepare: async (v, mv) => {
        const api = 'os-migrateLive';
        if (!('host' in v)) throw badRequest(`Invalid input for field/attribute ${api}. 'host' is a required property`);
        only(v, 'disk_over_commit', !atLeast(mv, 25), api);
        if (!atLeast(mv, 25) && typeof v.disk_over_commit !== 'boolean') throw badRequest(`Invalid input for field/attribute ${api}. 'disk_over_commit' is a required property`);
        if (!atLeast(mv, 25) && v.block_migration === 'auto') throw badRequest(`Invalid input for field/attribute block_migration. Value: auto. 'auto' is not of type 'boolean'`);
        forceOf(v, v.host, api, mv, 30);
        const host = v.host as string | null;
        if (host !== null && !(await hostKnown(d, host))) throw badRequest(`Compute host ${host} could not be found.`);
        return { args: { host, block_migration: v.block_migration } };
      },
    },
    evacuate: {
      prepare: async (v, mv, server) => {
        const api = 'evacuate';
        const host = (v.host ?? null) as string | null;
        only(v, 'onSharedStorage', !atLeast(mv, 14), api);
        if (!atLeast(mv, 14) && typeof v.onSharedStorage !== 'boolean') throw badRequest(`Invalid input for field/attribute ${api}. 'onSharedStorage' is a required property`);
        forceOf(v, host, api, mv, 29);
        const shared = v.onSharedStorage === true;
        if (shared && 'adminPass' in v) throw badRequest("admin password can't be changed on existing disk");
        const pass = typeof v.adminPass === 'string' ? v.adminPass : shared && !atLeast(mv, 14) ? null : password();
        if (host !== null && !(await hostKnown(d, host))) throw notFound(`Compute host ${host} not found.`);
        if (host !== null && host === server.host) throw badRequest("The target host can't be the same one.");
        const args = { ...(host !== null ? { host } : {}), ...(atLeast(mv, 95) ? { targetState: 'stopped' } : {}) };
        // Below 2.14 Nova answers the password (enable_instance_password, on by default); after, no body.
        return atLeast(mv, 14) ? { args } : { args, body: { adminPass: pass } };
      },
    },
  };
}
