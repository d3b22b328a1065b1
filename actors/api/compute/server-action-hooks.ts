/**
 * What `POST /servers/{id}/action` does around some actions besides sending them to the instance:
 * checks the instance actor cannot make (the image a rebuild or rescue names must be visible, active
 * and fit the flavor; fields newer than the microversion), a generated admin password, and Nova's
 * response bodies (rebuild: the server with `adminPass`; rescue: `{adminPass}`; console output:
 * `{output}`). One row per action; actions without a row answer an empty body.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import { NotFoundError } from '../../../protocols/errors.js';
import type { ActionName } from '../../../protocols/lifecycle.js';
import type { ServerReply, ServerView } from '../../../protocols/messages.js';
import type { ImageMeta } from '../../../protocols/resources.js';
import { authOf, type AuthContext } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { badRequest } from '../faults.js';
import { atLeast } from '../microversion.js';
import { refuseNewerFields } from './server-field-rules.js';
import { flavorSpecs } from './server-lookup.js';
import { serverUpdateView } from './server-views.js';
import { checkUserData } from './user-data.js';

type Args = Record<string, unknown>;

export interface ActionHook {
  /** Nova's own wording for fields its schema words specially, before the action's schema is checked. */
  check?: (req: FastifyRequest, value: unknown) => void;
  /** Checks and completes the arguments before the instance sees them (the value sent on). */
  prepare?: (d: ApiDeps, req: FastifyRequest, server: ServerView, args: Args | null) => Promise<Args | null>;
  /** After the instance accepted: follow-up changes, and the response body. */
  reply?: (d: ApiDeps, req: FastifyRequest, answer: ServerReply, args: Args | null) => Promise<unknown>;
}

/** Nova's generated admin passwords: 12 characters (`password_length`), letters and digits. */
const PASSWORD_LENGTH = 12;
const PASSWORD_CHARS = 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export function generatePassword(): string {
  return [...randomBytes(PASSWORD_LENGTH)].map((b) => PASSWORD_CHARS[b % PASSWORD_CHARS.length]).join('');
}

/** Rebuild's fields by the microversion that added them. */
const REBUILD_FIELD_VERSIONS: Record<string, number> = { description: 19, key_name: 54, user_data: 57, hostname: 90 };

const refId = (ref: string) => ref.split('/').pop()!;

/** The image a rebuild or rescue names: visible to the caller and active (Nova: 400 otherwise). */
async function usableImage(d: ApiDeps, auth: AuthContext, ref: string, missing: string): Promise<ImageMeta> {
  const image = await d.backend.image(refId(ref).toLowerCase()).catch((err: unknown) => {
    if (err instanceof NotFoundError) throw badRequest(missing);
    throw err;
  });
  const visible = auth.isAdmin || image.visibility === 'public' || image.visibility === 'community' || image.ownerProjectId === auth.projectId;
  if (!visible) throw badRequest(missing);
  if (image.status !== 'active') throw badRequest(`Image ${image.id} is not active.`);
  return image;
}

/** Nova's FlavorMemoryTooSmall / FlavorDiskSmallerThanMinDisk (400). */
function checkFits(server: ServerView, image: ImageMeta): void {
  if (image.minRamMb > server.flavor.ram) throw badRequest("Flavor's memory is too small for requested image.");
  if (server.flavor.disk > 0 && image.minDiskGb > server.flavor.disk) {
    throw badRequest(`Flavor's disk is too small for requested image. Flavor disk is ${server.flavor.disk * 1024 ** 3} bytes, minimum size of image is ${image.minDiskGb * 1024 ** 3} bytes.`);
  }
}

/** A rebuild's name, metadata and the other fields `PUT /servers` also sets, as the `update` verb's body. */
function rebuildUpdate(a: Args): Args {
  const out: Args = {};
  for (const [from, to] of [['name', 'name'], ['metadata', 'setMetadata'], ['hostname', 'hostname'], ['accessIPv4', 'accessIPv4'], ['accessIPv6', 'accessIPv6']] as const) {
    if (a[from] !== undefined && a[from] !== null) out[to] = a[from];
  }
  if (typeof a.description === 'string') out.description = a.description;
  else if (a.description === null) out.clearDescription = true;
  return out;
}

/** The instance verb's own field (the key pair's copy), which REST callers may not send. */
const INTERNAL_REBUILD_FIELDS = ['keyPair'];

export const ACTION_HOOKS: Partial<Record<ActionName, ActionHook>> = {
  rebuild: {
    check: (req, value) => {
      if (typeof value !== 'object' || value === null) return;
      const v = value as Args;
      const internal = INTERNAL_REBUILD_FIELDS.find((k) => k in v);
      if (internal) throw badRequest(`Invalid input for field/attribute rebuild. Additional properties are not allowed ('${internal}' was unexpected)`);
      if (atLeast(req.microversion, REBUILD_FIELD_VERSIONS.user_data!) && typeof v.user_data === 'string') checkUserData(v.user_data);
    },
    prepare: async (d, req, server, args) => {
      const a = args!;
      refuseNewerFields(req.microversion, 'rebuild', a, REBUILD_FIELD_VERSIONS);
      const auth = authOf(req);
      const image = await usableImage(d, auth, String(a.imageRef), 'Cannot find image for rebuild');
      checkFits(server, image);
      const out: Args = { ...a, imageRef: image.id, adminPass: typeof a.adminPass === 'string' ? a.adminPass : generatePassword() };
      if (typeof a.key_name === 'string') {
        // The caller's key pair (users own keys; another user of the project may rebuild), copied as Nova copies it.
        const key = await d.keypairs.get(auth.userId, a.key_name);
        if (!key) throw badRequest('Invalid key_name provided.');
        out.keyPair = { publicKey: key.publicKey, type: key.type };
      }
      return out;
    },
    reply: async (d, req, answer, args) => {
      const change = rebuildUpdate(args!);
      const auth = authOf(req);
      if (change.setMetadata !== undefined) change.maxMetadataItems = (await d.quotas.limits(auth.projectId)).metadata_items;
      const server = Object.keys(change).length > 0 ? await d.backend.serverVerb(answer.server.id, 'update', change, `${req.id}:rebuild-update`) : answer.server;
      const mv = req.microversion;
      // Nova's rebuild answer: the update view (no extension attributes before 2.75; key_name from
      // 2.54), already showing the image it is rebuilt from.
      const shown = { ...server, imageId: String(args!.imageRef) };
      const view = serverUpdateView(shown, { mv, auth, links: d.links, ...(atLeast(mv, 47) ? { flavorSpecs: await flavorSpecs(d.backend) } : {}) });
      if (atLeast(mv, 54) && !atLeast(mv, 75)) view.key_name = server.keyName;
      // From 2.57 the user data is answered as `user_data` (Nova's view leaves out the OS-EXT-SRV-ATTR one here).
      delete view['OS-EXT-SRV-ATTR:user_data'];
      if (atLeast(mv, REBUILD_FIELD_VERSIONS.user_data!)) view.user_data = server.userData;
      return { server: { ...view, adminPass: args!.adminPass } };
    },
  },
  rescue: {
    prepare: async (d, req, _server, args) => {
      const a = args ?? {};
      const out: Args = { adminPass: typeof a.adminPass === 'string' ? a.adminPass : generatePassword() };
      if (typeof a.rescue_image_ref === 'string') {
        out.rescue_image_ref = (await usableImage(d, authOf(req), a.rescue_image_ref, `Image ${a.rescue_image_ref} could not be found.`)).id;
      }
      return out;
    },
    reply: async (_d, _req, _answer, args) => ({ adminPass: args!.adminPass }),
  },
  getConsoleOutput: {
    reply: async (_d, _req, answer) => ({ output: String((answer.result as { output?: unknown } | undefined)?.output ?? '') }),
  },
};
