/**
 * `POST /servers`: Nova's boot. The body is checked against Nova's schema (unknown fields are a 400;
 * `user_data` with Nova's messages, user-data.ts); features novact does not have (networks, volumes,
 * …) are refused with a 400 that says so rather than dropped. Then, before anything is created: the
 * flavor must exist, the image must be visible to the project and active, the key pair must exist
 * (its public key and type are copied into the build, as Nova copies them), and the project's quota
 * (instances, cores, RAM, metadata items, the group's members) must hold the request, and scheduler
 * hints may name only the caller's project's groups and servers (`server-hints.ts`). As in Nova,
 * quota is counted again after the build (`quota.recheck_quota`) and a build that lost a race is deleted again and
 * answered 403, so concurrent requests cannot overshoot a quota. Answer: 202 with the id, links and
 * `adminPass`.
 */
import type { RequestedNetworks } from '../../../protocols/catalog/network.js';
import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { MetadataMap } from '../../../protocols/catalog/common.js';
import { NotFoundError } from '../../../protocols/errors.js';
import type { BuildRequest, ServerView } from '../../../protocols/messages.js';
import type { Flavor, ImageMeta } from '../../../protocols/resources.js';
import { isUuid } from '../../../protocols/validate.js';
import { NAME_PATTERN } from '../../../protocols/text.js';
import { authOf, type AuthContext } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { badRequest, forbidden } from '../faults.js';
import { member } from '../policy.js';
import type { Route } from '../routes.js';
import { headroom, type QuotaLimits } from './quota-store.js';
import { CREATE_FIELD_VERSIONS, DESCRIPTION, HOSTNAME, refuseNewerFields, TAGS } from './server-field-rules.js';
import { resolveHints } from './server-hints.js';
import { flavorVisible } from './flavors.js';
import { serverLinks } from './server-views.js';
import { BOOLEAN_SCHEMA, checkUserData, configDriveOf } from './user-data.js';

const NAME = { type: 'string', minLength: 1, maxLength: 255, pattern: NAME_PATTERN } as const;
const COUNT = { anyOf: [{ type: 'integer', minimum: 1, maximum: 100 }, { type: 'string', pattern: '^[1-9][0-9]{0,2}$' }] } as const;
// The catalog's metadata map, as the build verb carries it (its count is checked against the quota).
const METADATA = MetadataMap();
const HINTS = { type: 'object', maxProperties: 20 } as const;

export const CREATE_SCHEMA = {
  type: 'object',
  required: ['server'],
  properties: {
    server: {
      type: 'object',
      required: ['name', 'flavorRef'],
      properties: {
        name: NAME,
        imageRef: { type: 'string', maxLength: 512 },
        flavorRef: { anyOf: [{ type: 'string', minLength: 1, maxLength: 512 }, { type: 'integer', minimum: 0 }] },
        adminPass: { type: 'string', maxLength: 255 },
        metadata: METADATA,
        availability_zone: { type: 'string', minLength: 1, maxLength: 255 },
        key_name: { type: 'string', minLength: 1, maxLength: 255 },
        networks: {
          anyOf: [
            { type: 'string', enum: ['auto', 'none'] },
            { type: 'array', items: { type: 'object', properties: { uuid: { type: 'string' }, port: { type: ['string', 'null'] }, fixed_ip: { type: 'string' }, tag: { type: 'string' } }, additionalProperties: false } },
          ],
        },
        security_groups: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string', minLength: 1, maxLength: 255 } }, additionalProperties: false } },
        // Its length and base64 are checked by the handler, in Nova's words.
        user_data: { type: 'string' },
        config_drive: BOOLEAN_SCHEMA,
        min_count: COUNT,
        max_count: COUNT,
        return_reservation_id: { type: ['boolean', 'string'] },
        description: DESCRIPTION,
        accessIPv4: { type: 'string', format: 'ipv4' },
        accessIPv6: { type: 'string', format: 'ipv6' },
        block_device_mapping: { type: 'array' },
        block_device_mapping_v2: { type: 'array' },
        'OS-DCF:diskConfig': { type: 'string', enum: ['AUTO', 'MANUAL'] },
        tags: TAGS,
        host: { type: 'string' },
        hypervisor_hostname: { type: 'string' },
        hostname: HOSTNAME,
        trusted_image_certificates: { type: ['array', 'null'] },
        personality: { type: 'array' },
      },
      additionalProperties: false,
    },
    'os:scheduler_hints': HINTS,
    'OS-SCH-HNT:scheduler_hints': HINTS,
  },
  additionalProperties: false,
} as const;

interface CreateBody {
  server: {
    name: string; imageRef?: string; flavorRef: string | number; adminPass?: string; metadata?: Record<string, string>;
    availability_zone?: string; key_name?: string; networks?: string | { uuid?: string; port?: string | null; fixed_ip?: string }[];
    security_groups?: { name: string }[]; user_data?: string; config_drive?: boolean | string; min_count?: number | string;
    max_count?: number | string; return_reservation_id?: boolean | string; description?: string | null; accessIPv4?: string;
    accessIPv6?: string; block_device_mapping?: unknown[]; block_device_mapping_v2?: unknown[]; tags?: string[]; host?: string;
    hypervisor_hostname?: string; hostname?: string; trusted_image_certificates?: unknown[] | null; personality?: unknown[];
    'OS-DCF:diskConfig'?: 'AUTO' | 'MANUAL';
  };
  'os:scheduler_hints'?: Record<string, unknown>;
  'OS-SCH-HNT:scheduler_hints'?: Record<string, unknown>;
}

const unsupported = (what: string) => badRequest(`${what} is not supported by novact.`);

/** Refuses what novact cannot honour, naming it (nothing asked for is silently dropped). */
function refuseUnsupported(s: CreateBody['server']): void {
  if ((s.block_device_mapping?.length ?? 0) > 0 || (s.block_device_mapping_v2?.length ?? 0) > 0) throw unsupported('Block device mapping (there is no volume service)');
  if (s.imageRef === undefined || s.imageRef === '') throw unsupported('Booting without an image (from a volume)');
  if (s.host !== undefined || s.hypervisor_hostname !== undefined) throw unsupported('Requesting a host at boot');
  if ((s.trusted_image_certificates?.length ?? 0) > 0) throw unsupported('trusted_image_certificates');
  if ((s.personality?.length ?? 0) > 0) throw unsupported('File injection (personality)');
  if (s.return_reservation_id === true || s.return_reservation_id === 'True' || s.return_reservation_id === 'true') throw unsupported('return_reservation_id');
}

/**
 * `networks` as the network role takes it. Nova requires it from 2.37; novact lets a missing one mean
 * `auto` at every version (clients written for older Nova keep working).
 */
function requestedNetworks(n: CreateBody['server']['networks']): RequestedNetworks {
  if (n === undefined) return 'auto';
  if (typeof n === 'string') return n as 'auto' | 'none';
  if (n.length === 0) return 'none';
  return n.map((x) => {
    if (x.port != null && !isUuid(x.port)) throw badRequest(`Bad networks format: port uuid (${x.port}) is not in proper format`);
    if (x.port == null && (x.uuid === undefined || !isUuid(x.uuid))) throw badRequest(`Bad networks format: network uuid is not in proper format (${String(x.uuid)})`);
    const nic: { network?: string; port?: string; fixedIp?: string } = {};
    if (x.port != null) nic.port = x.port.toLowerCase();
    else nic.network = x.uuid!.toLowerCase();
    if (x.fixed_ip !== undefined) nic.fixedIp = x.fixed_ip;
    return nic;
  });
}

/** The last path segment of a reference (Nova accepts ids and links alike). */
const refId = (ref: string | number) => String(ref).split('/').pop()!;

function quotaError(resource: string, requested: number, used: number, allowed: number): Error {
  return forbidden(`Quota exceeded for ${resource}: Requested ${requested}, but already used ${used} of ${allowed} ${resource}`);
}

/** How many servers of `flavor` fit the quota (at most `max`), or the 403 when fewer than `min` do. */
async function checkQuota(d: ApiDeps, auth: AuthContext, flavor: Flavor, min: number, max: number, limits: QuotaLimits): Promise<number> {
  const used = await d.backend.usage(auth.projectId);
  const fits = [
    ['instances', headroom(limits.instances, used.instances, 1), 1, used.instances, limits.instances],
    ['cores', headroom(limits.cores, used.cores, flavor.vcpus), flavor.vcpus, used.cores, limits.cores],
    ['ram', headroom(limits.ram, used.ram, flavor.memoryMb), flavor.memoryMb, used.ram, limits.ram],
  ] as const;
  for (const [resource, room, per, u, limit] of fits) if (room < min) throw quotaError(resource, per * min, u, limit);
  return Math.min(max, ...fits.map((f) => f[1]));
}

async function findImage(d: ApiDeps, auth: AuthContext, ref: string): Promise<ImageMeta> {
  const id = refId(ref);
  const missing = () => badRequest(`Image ${id} could not be found.`);
  if (!isUuid(id)) throw missing();
  const image = await d.backend.image(id.toLowerCase()).catch((err) => {
    if (err instanceof NotFoundError) throw missing();
    throw err;
  });
  const visible = auth.isAdmin || image.visibility === 'public' || image.visibility === 'community' || image.ownerProjectId === auth.projectId;
  if (!visible) throw missing();
  if (image.status !== 'active') throw badRequest(`Image ${id} is not active.`);
  return image;
}

async function findFlavor(d: ApiDeps, auth: AuthContext, ref: string | number): Promise<Flavor> {
  const id = refId(ref);
  const flavor = (await d.backend.flavors()).find((f) => f.id === id);
  if (!flavor || !flavorVisible(flavor, auth)) throw badRequest(`Flavor ${id} could not be found.`);
  return flavor;
}

export function createServerRoute(d: ApiDeps): Route {
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const auth = authOf(req);
    const body = req.body as CreateBody;
    const s = body.server;
    refuseNewerFields(req.microversion, 'server', s, CREATE_FIELD_VERSIONS);
    if (s.user_data !== undefined) checkUserData(s.user_data);
    refuseUnsupported(s);
    const min = Number(s.min_count ?? 1);
    const max = Number(s.max_count ?? s.min_count ?? 1);
    if (min > max) throw badRequest('min_count must be <= max_count');
    // Nova 2.90: one hostname cannot name several servers.
    if (s.hostname !== undefined && max > 1) throw badRequest('Cannot use the hostname parameter when creating more than one server.');
    const [flavor, image, limits] = await Promise.all([findFlavor(d, auth, s.flavorRef), findImage(d, auth, s.imageRef!), d.quotas.limits(auth.projectId)]);
    const key = s.key_name === undefined ? undefined : await d.keypairs.get(auth.userId, s.key_name);
    if (key === null) throw badRequest('Invalid key_name provided.');
    const items = Object.keys(s.metadata ?? {}).length;
    if (limits.metadata_items >= 0 && items > limits.metadata_items) {
      throw forbidden(`Quota exceeded for metadata_items: Requested ${items}, but the limit is ${limits.metadata_items}.`);
    }
    const count = await checkQuota(d, auth, flavor, min, max, limits);
    const rawHints = body['os:scheduler_hints'] ?? body['OS-SCH-HNT:scheduler_hints'];
    const { hints, group } = rawHints ? await resolveHints(d, auth, rawHints) : { hints: undefined, group: undefined };
    const groupLimit = limits.server_group_members;
    if (group && groupLimit >= 0 && group.members.length + count > groupLimit) throw forbidden('Quota exceeded, too many servers in group');

    const build: BuildRequest = { name: s.name, flavorRef: flavor.id, imageRef: image.id, projectId: auth.projectId, userId: auth.userId };
    if (s.metadata) build.metadata = s.metadata;
    if (s.availability_zone !== undefined) build.availabilityZone = s.availability_zone;
    if (key) Object.assign(build, { keyName: key.name, keyData: key.publicKey, keyType: key.type });
    if (s.user_data !== undefined) build.userData = s.user_data;
    if (configDriveOf(s.config_drive)) build.configDrive = true;
    if (s.tags && s.tags.length > 0) build.tags = s.tags;
    if (typeof s.description === 'string') build.description = s.description;
    if (s.hostname !== undefined) build.hostname = s.hostname;
    if (s.accessIPv4 !== undefined) build.accessIPv4 = s.accessIPv4;
    if (s.accessIPv6 !== undefined) build.accessIPv6 = s.accessIPv6;
    if (hints && Object.keys(hints).length > 0) build.schedulerHints = hints;
    if (count > 1) Object.assign(build, { minCount: count, maxCount: count });
    const groups = [...new Set((s.security_groups ?? []).map((g) => g.name.trim()))];
    const net = await d.backend.checkNetworks({ projectId: auth.projectId, userId: auth.userId, isAdmin: auth.isAdmin }, requestedNetworks(s.networks), count, groups);
    if (net.requested !== 'none') build.networks = net.requested;
    if (net.securityGroups && net.securityGroups.length > 0) build.securityGroups = net.securityGroups;
    const built = await d.backend.build(build, req.id);
    const servers: ServerView[] = built.servers ?? [built.server];

    // Nova's quota recheck: a concurrent build may have taken the room we counted on.
    const after = await d.backend.usage(auth.projectId);
    const asked = { instances: servers.length, cores: servers.length * flavor.vcpus, ram: servers.length * flavor.memoryMb };
    const over = (['instances', 'cores', 'ram'] as const).find((r) => limits[r] >= 0 && after[r] > limits[r]);
    if (over) {
      await Promise.all(servers.map((x, i) => d.backend.serverVerb(x.id, 'delete', {}, `${req.id}:quota-${i}`).catch(() => undefined)));
      throw quotaError(over, asked[over], after[over] - asked[over], limits[over]);
    }

    const first = servers[0]!;
    const adminPass = s.adminPass ?? randomBytes(9).toString('base64url');
    reply.code(202).header('Location', serverLinks(first, d.links)[0]!.href);
    return { server: { id: first.id, links: serverLinks(first, d.links), 'OS-DCF:diskConfig': s['OS-DCF:diskConfig'] ?? 'MANUAL', security_groups: (groups.length > 0 ? groups : ['default']).map((name) => ({ name })), adminPass } };
  };
  return { method: 'POST', url: '/v2.1/servers', policy: member('os_compute_api:servers:create'), schema: { body: CREATE_SCHEMA }, handler };
}
