/**
 * Key pairs (`/os-keypairs[/{name}]`), per user: import a public key, or (before 2.92) have one
 * generated and receive its private half once. By microversion: `type` from 2.2 (create answers 201
 * and delete 204 from 2.2; 200 and 202 before), an admin's `user_id` from 2.10, paging from 2.35.
 * The `key_pairs` quota is per user, as in Nova (403 when full).
 */
import type { FastifyRequest } from 'fastify';
import type { KeyPairRow } from '../../../runtime/db/entities/index.js';
import { authOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, forbidden, notFound } from '../faults.js';
import { atLeast, type Microversion } from '../microversion.js';
import { member, reader } from '../policy.js';
import { one, param, query, type Route } from '../routes.js';
import { generateRsaKeyPair, generateX509KeyPair, parsePublicKey, parseX509Certificate } from './keypair-keys.js';
import { keyExists, tooManyKeys } from './keypair-store.js';
import { parseLimit } from './server-filters.js';
import { novaTime } from './server-views.js';

const CREATE_SCHEMA = {
  type: 'object', required: ['keypair'],
  properties: {
    keypair: {
      type: 'object', required: ['name'],
      properties: {
        name: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[a-zA-Z0-9 _-]+$' },
        public_key: { type: 'string', minLength: 1, maxLength: 16384 },
        type: { type: 'string', enum: ['ssh', 'x509'] },
        user_id: { type: 'string', minLength: 1, maxLength: 64 },
      },
      additionalProperties: false,
    },
  },
  additionalProperties: false,
} as const;

function brief(k: KeyPairRow, mv: Microversion): Record<string, unknown> {
  const out: Record<string, unknown> = { name: k.name, public_key: k.publicKey, fingerprint: k.fingerprint };
  if (atLeast(mv, 2)) out.type = k.type;
  return out;
}

function full(k: KeyPairRow, mv: Microversion): Record<string, unknown> {
  return {
    ...brief(k, mv), user_id: k.userId, id: k.id, created_at: novaTime(k.createdAt.toISOString()).replace(/Z$/, '.000000'),
    deleted: false, deleted_at: null, updated_at: null,
  };
}

/** Whose key pairs a request is about: the caller's, or (admin, 2.10+) `user_id`'s. */
function owner(req: FastifyRequest, requested: string | undefined): string {
  const auth = authOf(req);
  if (requested === undefined || requested === auth.userId) return auth.userId;
  if (!atLeast(req.microversion, 10)) throw badRequest('user_id needs microversion 2.10 or later.');
  if (!auth.isAdmin) throw forbidden("Policy doesn't allow os_compute_api:os-keypairs:index to be performed.");
  return requested;
}

export function keypairRoutes(d: ApiDeps): Route[] {
  const { keypairs } = d;
  const findOr404 = async (userId: string, name: string) => {
    const k = await keypairs.get(userId, name);
    if (!k) throw notFound(`Keypair ${name} not found for user ${userId}`);
    return k;
  };
  return [
    {
      method: 'GET', url: '/v2.1/os-keypairs', policy: reader('os_compute_api:os-keypairs:index'),
      handler: async (req) => {
        const p = query(req);
        const userId = owner(req, one(p.user_id));
        const paging: { limit?: number; marker?: string } = {};
        if (atLeast(req.microversion, 35)) {
          const limit = parseLimit(one(p.limit));
          const marker = one(p.marker);
          if (limit !== undefined) paging.limit = limit;
          if (marker !== undefined) {
            await keypairs.get(userId, marker).then((m) => {
              if (!m) throw badRequest(`marker [${marker}] not found`);
            });
            paging.marker = marker;
          }
        }
        const rows = await keypairs.list(userId, paging);
        const out: Record<string, unknown> = { keypairs: rows.map((k) => ({ keypair: brief(k, req.microversion) })) };
        const last = rows[rows.length - 1];
        if (paging.limit !== undefined && last && rows.length >= paging.limit) {
          out.keypairs_links = [{ rel: 'next', href: `${d.links.compute}/os-keypairs?limit=${paging.limit}&marker=${encodeURIComponent(last.name)}` }];
        }
        return out;
      },
    },
    {
      method: 'POST', url: '/v2.1/os-keypairs', policy: member('os_compute_api:os-keypairs:create'), schema: { body: CREATE_SCHEMA },
      handler: async (req, reply) => {
        const mv = req.microversion;
        const b = (req.body as { keypair: { name: string; public_key?: string; type?: 'ssh' | 'x509'; user_id?: string } }).keypair;
        if (b.type !== undefined && !atLeast(mv, 2)) throw badRequest("Invalid input for field/attribute keypair. Additional properties are not allowed ('type' was unexpected)");
        const type = b.type ?? 'ssh';
        const userId = owner(req, b.user_id);
        const limits = await d.quotas.limits(authOf(req).projectId);
        // Cheap refusals first: an RSA generation costs real CPU, so it only runs for a create that can succeed.
        if (await keypairs.get(userId, b.name)) throw keyExists(b.name);
        if (limits.key_pairs >= 0 && (await keypairs.count(userId)) >= limits.key_pairs) throw tooManyKeys();
        let privateKey: string | undefined;
        let key;
        if (b.public_key !== undefined) key = type === 'x509' ? parseX509Certificate(b.public_key) : parsePublicKey(b.public_key);
        else {
          const generated = type === 'x509' ? await generateX509KeyPair(userId) : await generateRsaKeyPair();
          key = generated.publicKey;
          privateKey = generated.privateKey;
        }
        // Checked again, atomically, as the row goes in (a concurrent create may have won meanwhile).
        const row = await keypairs.create({ userId, name: b.name, type, publicKey: key.line, fingerprint: key.fingerprint }, limits.key_pairs);
        const out: Record<string, unknown> = { ...brief(row, mv), user_id: userId };
        if (privateKey !== undefined) out.private_key = privateKey;
        reply.code(atLeast(mv, 2) ? 201 : 200);
        return { keypair: out };
      },
    },
    {
      method: 'GET', url: '/v2.1/os-keypairs/:name', policy: reader('os_compute_api:os-keypairs:show'),
      handler: async (req) => {
        const userId = owner(req, one(query(req).user_id));
        return { keypair: full(await findOr404(userId, param(req, 'name')), req.microversion) };
      },
    },
    {
      method: 'DELETE', url: '/v2.1/os-keypairs/:name', policy: member('os_compute_api:os-keypairs:delete'),
      handler: async (req, reply) => {
        const userId = owner(req, one(query(req).user_id));
        const name = param(req, 'name');
        if (!(await keypairs.remove(userId, name))) throw notFound(`Keypair ${name} not found for user ${userId}`);
        return reply.code(atLeast(req.microversion, 2) ? 204 : 202).send();
      },
    },
  ];
}
