/**
 * Finding a server the caller may see. Another project's server answers exactly as a missing one
 * does (404, same message), so a member cannot even learn that it exists.
 */
import type { ServerView } from '../../../protocols/messages.js';
import { NotFoundError } from '../../../protocols/errors.js';
import { isUuid } from '../../../protocols/validate.js';
import type { Backend } from '../backend.js';
import type { AuthContext } from '../context.js';
import { notFound } from '../faults.js';
import { sees } from '../policy.js';

export const instanceNotFound = (id: string) => notFound(`Instance ${id} could not be found.`);

export async function visibleServer(backend: Backend, auth: AuthContext, id: string): Promise<ServerView> {
  if (!isUuid(id)) throw instanceNotFound(id);
  const s = await backend.server(id.toLowerCase()).catch((err) => {
    if (err instanceof NotFoundError) throw instanceNotFound(id);
    throw err;
  });
  if (!sees(auth, s.projectId)) throw instanceNotFound(id);
  return s;
}

/** Extra specs by flavor id, for views that embed the flavor (2.47+); fetched once per request. */
export async function flavorSpecs(backend: Backend): Promise<(id: string) => Record<string, string> | undefined> {
  const byId = new Map((await backend.flavors()).map((f) => [f.id, f.extraSpecs]));
  return (id) => byId.get(id);
}
