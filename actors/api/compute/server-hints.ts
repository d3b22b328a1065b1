/**
 * Scheduler hints at boot, resolved for the caller before anything is built (review M1): a hint may
 * only name the caller's project's objects (admins may name any). `group` must be a server group
 * the caller can see (Nova answers an unknown group with 400 "Instance group … could not be
 * found."; another project's group is exactly as unknown), and `same_host`/`different_host` must
 * name instances the caller can see (else a 400 of the same shape), so a tenant can neither join
 * another project's group nor place itself next to, or learn the host of, another tenant's server.
 */
import { BadRequestError, NotFoundError } from '../../../protocols/errors.js';
import { parseHints } from '../../../protocols/hints.js';
import type { ServerGroupView } from '../../../protocols/scheduler-views.js';
import type { AuthContext } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { badRequest } from '../faults.js';
import { sees } from '../policy.js';

export interface ResolvedHints {
  hints: Record<string, string | string[]>;
  /** The server group named by `group`, when there is one. */
  group?: ServerGroupView;
}

const INSTANCE_HINTS = ['same_host', 'different_host'] as const;

export async function resolveHints(d: ApiDeps, auth: AuthContext, raw: unknown): Promise<ResolvedHints> {
  let hints: Record<string, string | string[]>;
  try {
    hints = parseHints(raw);
  } catch (err) {
    throw err instanceof BadRequestError ? badRequest(err.message) : err;
  }
  const out: ResolvedHints = { hints };
  const groupId = hints.group;
  if (typeof groupId === 'string') {
    const unknown = () => badRequest(`Instance group ${groupId} could not be found.`);
    const g = await d.backend.serverGroup<{ serverGroup: ServerGroupView }>('get', { id: groupId }).then((r) => r.serverGroup).catch((err) => {
      if (err instanceof NotFoundError) throw unknown();
      throw err;
    });
    if (!sees(auth, g.projectId)) throw unknown();
    out.group = g;
  }
  for (const key of INSTANCE_HINTS) {
    const v = hints[key];
    if (v === undefined) continue;
    const ids = [...new Set(Array.isArray(v) ? v : [v])];
    await Promise.all(ids.map(async (id) => {
      const unknown = () => badRequest(`Invalid scheduler hint ${key}: instance ${id} could not be found.`);
      const s = await d.backend.server(id).catch((err) => {
        if (err instanceof NotFoundError) throw unknown();
        throw err;
      });
      if (!sees(auth, s.projectId)) throw unknown();
    }));
  }
  return out;
}
