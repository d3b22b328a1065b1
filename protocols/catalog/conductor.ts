/**
 * The conductor (`<root>.conductor.<verb>` and `<root>.flavor.<verb>`, queue group `conductor`):
 * builds, listings, compute-node and service records, flavors.
 */
import { RequestedNetworks } from './network.js';
import type { RequestedNetworks as RequestedNetworksType } from './network.js';
import { Type, type Static } from '@sinclair/typebox';
import { defineRequest } from './define.js';
import { AnyObject, Closed, Empty, EpochMs, Int, MetadataMap, Name, NonEmptyName, Opt, ProjectId, SubjectToken, Tag, Tags, Uuid } from './common.js';
import { SchedulerHintsSchema } from './scheduler.js';
import { ComputeNodeViewSchema, FlavorSchema, ServerViewSchema, ServiceViewSchema } from './views.js';
import { HostGuestsReply, HostGuestsRequest } from '../reconcile.js';
import { isValidToken, token, type Subjects } from '../subjects.js';
import { MAX_USER_DATA_LENGTH } from '../user-data.js';

const IdToken = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
export const MAX_BUILD_COUNT = 100;

/** `build`: create one instance (the envelope's idempotency key makes a retried build return the same). */
export const BuildRequestSchema = Closed({
  name: NonEmptyName(255),
  flavorRef: NonEmptyName(255),
  imageRef: NonEmptyName(255),
  projectId: Opt(IdToken),
  userId: Opt(IdToken),
  availabilityZone: Opt(NonEmptyName(255)),
  metadata: Opt(MetadataMap({ maxProperties: 128 })),
  keyName: Opt(NonEmptyName(255)),
  /** The named key pair's public key and type as the API read them (Nova copies them at boot); only with `keyName`. */
  keyData: Opt(Type.String({ minLength: 1, maxLength: 16_384 })),
  keyType: Opt(Type.Union([Type.Literal('ssh'), Type.Literal('x509')])),
  /** Base64 as the API took it (checked there as Nova checks it). */
  userData: Opt(Type.String({ maxLength: MAX_USER_DATA_LENGTH })),
  configDrive: Opt(Type.Boolean()),
  tags: Opt(Tags),
  description: Opt(Name(255)),
  hostname: Opt(NonEmptyName(63)),
  accessIPv4: Opt(NonEmptyName(64)),
  accessIPv6: Opt(NonEmptyName(64)),
  schedulerHints: Opt(SchedulerHintsSchema),
  /** Multi-create: `maxCount` instances (named `<name>-<n>`), placed all or nothing; at most 100. */
  minCount: Opt(Int(1, MAX_BUILD_COUNT)),
  maxCount: Opt(Int(1, MAX_BUILD_COUNT)),
  /** The NICs to make at spawn, as the network role resolved them (`none`: no NICs). */
  networks: Opt(RequestedNetworks),
  /** The security groups (ids) of the ports the build makes. */
  securityGroups: Opt(Type.Array(Uuid, { maxItems: 32 })),
});
/** The normalised build (nulls dropped, hints lower-cased). */
export interface BuildRequest {
  name: string;
  flavorRef: string;
  imageRef: string;
  projectId?: string;
  userId?: string;
  availabilityZone?: string;
  metadata?: Record<string, string>;
  keyName?: string;
  keyData?: string;
  keyType?: 'ssh' | 'x509';
  userData?: string;
  configDrive?: boolean;
  tags?: string[];
  description?: string;
  hostname?: string;
  accessIPv4?: string;
  accessIPv6?: string;
  schedulerHints?: Record<string, string | string[]>;
  minCount?: number;
  maxCount?: number;
  networks?: RequestedNetworksType;
  securityGroups?: string[];
}
/** `server` is the first instance; `servers` every instance of a multi-create. */
/** `sharedMetadata`: every server has `server.metadata` (one request made them); `servers` do not repeat it. */
export const BuildReplySchema = Type.Object({ server: ServerViewSchema, servers: Type.Array(ServerViewSchema), sharedMetadata: Type.Optional(Type.Boolean()) });
export type BuildReply = Static<typeof BuildReplySchema>;

export const ListRequestSchema = Closed({
  projectId: Opt(Name(64)),
  name: Opt(Name(255)),
  status: Opt(Name(32)),
  host: Opt(Name(255)),
  limit: Opt(Int(1, 1000)),
  marker: Opt(Name(36)),
});
export type ListRequest = { [K in keyof Static<typeof ListRequestSchema>]?: Exclude<Static<typeof ListRequestSchema>[K], null> };
/** `more`: the reply stopped early (at its byte budget): continue with the last server as marker. */
export const ListReplySchema = Type.Object({ servers: Type.Array(ServerViewSchema), more: Type.Optional(Type.Boolean()) });
export type ListReply = Static<typeof ListReplySchema>;

/** A page in host order; `next` (a host) to continue from when more may follow. */
export const HostsReplySchema = Type.Object({ hosts: Type.Array(ComputeNodeViewSchema), next: Type.Optional(Type.String()) });
export type HostsReply = Static<typeof HostsReplySchema>;
export const HostsRequestSchema = Closed({ limit: Opt(Int(1, 1000)), marker: Opt(SubjectToken) });
export type HostsRequest = { limit?: number; marker?: string };

/** `services`: a page after `marker` (a host); optionally one host, a node substring, or one service/hypervisor id. */
export const ServicesRequestSchema = Closed({
  limit: Opt(Int(1, 1000)),
  marker: Opt(SubjectToken),
  host: Opt(SubjectToken),
  nodeContains: Opt(Name(255)),
  id: Opt(Closed({ kind: Type.Union([Type.Literal('service'), Type.Literal('hypervisor')]), value: NonEmptyName(64) })),
});

export const QueryRequestSchema = Closed({
  projectId: Opt(Name(64)),
  name: Opt(Name(255)),
  status: Opt(Name(32)),
  host: Opt(Name(255)),
  changesSince: Opt(Name(64)),
  image: Opt(Name(255)),
  flavor: Opt(Name(255)),
  availabilityZone: Opt(Name(255)),
  keyName: Opt(Name(255)),
  /** Nova's tag filters: all of `tags`, any of `tagsAny`, not all of `notTags`, none of `notTagsAny`. */
  tags: Opt(Type.Array(Tag, { maxItems: 50 })),
  tagsAny: Opt(Type.Array(Tag, { maxItems: 50 })),
  notTags: Opt(Type.Array(Tag, { maxItems: 50 })),
  notTagsAny: Opt(Type.Array(Tag, { maxItems: 50 })),
  /** ISO 8601: servers changed before this time (2.66), deleted ones included. */
  changesBefore: Opt(Name(64)),
  /** Only these servers (the network role's answer to the `ip`/`ip6` filters). */
  uuids: Opt(Type.Array(Uuid, { maxItems: 10_000 })),
  limit: Opt(Int(0, 1000)),
  marker: Opt(Name(255)),
});

const FlavorReplySchema = Type.Object({ flavor: FlavorSchema });
export type FlavorReply = Static<typeof FlavorReplySchema>;
export const FlavorListReplySchema = Type.Object({ flavors: Type.Array(FlavorSchema) });
export type FlavorListReply = Static<typeof FlavorListReplySchema>;
export const FlavorGetRequestSchema = Closed({ id: NonEmptyName(255) });
export type FlavorGetRequest = Static<typeof FlavorGetRequestSchema>;

const served = { servedBy: 'conductor', calledBy: ['api', 'client'] } as const;
const conductor = (verb: string) => (s: { conductor(v: string): string }) => s.conductor(verb);
const flavor = (verb: string) => (s: { flavor(v: string): string }) => s.flavor(verb);

export const Build = defineRequest({ verb: 'build', pattern: conductor('build'), mutating: true, body: BuildRequestSchema, reply: BuildReplySchema, ...served });
export const List = defineRequest({ verb: 'list', pattern: conductor('list'), mutating: false, body: ListRequestSchema, reply: ListReplySchema, ...served });
export const Hosts = defineRequest({ verb: 'hosts', pattern: conductor('hosts'), mutating: false, body: HostsRequestSchema, reply: HostsReplySchema, ...served });
export const Query = defineRequest({ verb: 'query', pattern: conductor('query'), mutating: false, body: QueryRequestSchema, reply: ListReplySchema, ...served });
export const Usage = defineRequest({
  verb: 'usage', pattern: conductor('usage'), mutating: false, body: Closed({ projectId: ProjectId }),
  reply: Type.Object({ instances: Type.Number(), cores: Type.Number(), ram: Type.Number() }), ...served,
});
/**
 * `tenant-usage` (Nova's os-simple-tenant-usage): every instance that was running at some time in
 * [start, end) (launched before the end, not terminated before the start), deleted ones included,
 * in uuid order from `marker`; `more` when the page stopped at `limit`.
 */
export const TenantUsageServerSchema = Type.Object({
  uuid: Type.String(), name: Type.String(), projectId: Type.String(), flavorName: Type.String(),
  vcpus: Type.Number(), memoryMb: Type.Number(), localGb: Type.Number(), vmState: Type.String(),
  launchedAt: Type.Number(), terminatedAt: Type.Union([Type.Number(), Type.Null()]),
});
export type TenantUsageServer = Static<typeof TenantUsageServerSchema>;
export const TenantUsage = defineRequest({
  verb: 'tenant-usage', pattern: conductor('tenant-usage'), mutating: false,
  body: Closed({ start: EpochMs, end: EpochMs, projectId: Opt(ProjectId), limit: Opt(Int(1, 1000)), marker: Opt(Uuid) }),
  reply: Type.Object({ servers: Type.Array(TenantUsageServerSchema), more: Type.Boolean() }), ...served,
});
export const Services = defineRequest({
  verb: 'services', pattern: conductor('services'), mutating: false, body: ServicesRequestSchema,
  reply: Type.Object({ services: Type.Array(ServiceViewSchema), next: Type.Optional(Type.String()) }), ...served,
});
/** Per zone (the scheduler's zones and their hosts in): host count and whether any host is up and enabled. */
export const ZoneSummary = defineRequest({
  verb: 'zone-summary', pattern: conductor('zone-summary'), mutating: false,
  body: Closed({ defaultZone: NonEmptyName(255), zones: Type.Array(Closed({ zone: NonEmptyName(255), hosts: Type.Array(SubjectToken, { maxItems: 100_000 }) }), { maxItems: 10_000 }) }),
  reply: Type.Object({ zones: Type.Array(Type.Object({ zone: Type.String(), hosts: Type.Integer(), available: Type.Boolean() })) }), ...served,
});
/** The servers on a page of hosts (os-hypervisors?with_servers): one query, not one request per host. */
export const HostServers = defineRequest({
  verb: 'host-servers', pattern: conductor('host-servers'), mutating: false,
  body: Closed({ hosts: Type.Array(SubjectToken, { maxItems: 1000 }), after: Opt(Closed({ host: SubjectToken, uuid: Uuid })) }),
  reply: Type.Object({ servers: Type.Array(Type.Object({ host: Type.String(), name: Type.String(), uuid: Type.String() })), next: Type.Optional(AnyObject) }), ...served,
});
/** Nova's service delete: 409 while the host has instances; the scheduler forgets the host. */
export const ServiceDelete = defineRequest({
  verb: 'service-delete', pattern: conductor('service-delete'), mutating: true, body: Closed({ host: SubjectToken }),
  reply: Type.Object({ host: Type.String() }), ...served,
});
export const ServiceUpdate = defineRequest({
  verb: 'service-update', pattern: conductor('service-update'), mutating: true,
  body: Closed({ host: SubjectToken, disabled: Opt(Type.Boolean()), disabledReason: Opt(Name(255)), forcedDown: Opt(Type.Boolean()) }),
  reply: Type.Object({ service: ServiceViewSchema }), ...served,
});

/**
 * A host's guest reaper asks which of its guests are live (`<root>.conductor.host-guests.<host>`).
 * The host is in the subject so that NATS permissions let each host identity ask only for its own
 * hosts (the server does not tell who published); the conductor also requires body host == subject host.
 */
const hostGuestsPrefix = (s: Subjects) => s.conductor('host-guests');
export const HostGuests = defineRequest({
  verb: 'host-guests', pattern: (s) => `${hostGuestsPrefix(s)}.*`,
  subject: (s, host) => `${hostGuestsPrefix(s)}.${token(host ?? '', 'host name')}`,
  mutating: false, body: HostGuestsRequest, reply: HostGuestsReply, servedBy: 'conductor', calledBy: ['compute'],
});
/** The host token of a host-guests subject (undefined if `subject` is not one). */
export function hostGuestsSubjectHost(s: Subjects, subject: string): string | undefined {
  const prefix = `${hostGuestsPrefix(s)}.`;
  if (!subject.startsWith(prefix)) return undefined;
  const host = subject.slice(prefix.length);
  return isValidToken(host) ? host : undefined;
}

/** A flavor's description: up to 64 KiB of text without control characters (as every API string, protocols/text.ts). */
export const FLAVOR_DESCRIPTION_PATTERN = '^[^\\u0000-\\u001f\\u007f-\\u009f]*$';
const Description = Type.Union([Type.String({ maxLength: 65_535, pattern: FLAVOR_DESCRIPTION_PATTERN }), Type.Null()]);
export const FlavorList = defineRequest({ verb: 'list', pattern: flavor('list'), mutating: false, body: Empty, reply: FlavorListReplySchema, ...served });
export const FlavorGet = defineRequest({ verb: 'get', pattern: flavor('get'), mutating: false, body: FlavorGetRequestSchema, reply: FlavorReplySchema, ...served });
export const FlavorCreate = defineRequest({
  verb: 'create', pattern: flavor('create'), mutating: true,
  body: Closed({
    id: Opt(NonEmptyName(255)), name: NonEmptyName(255), vcpus: Int(1, 2_147_483_647), memoryMb: Int(1, 2_147_483_647),
    diskGb: Int(0, 2_147_483_647), ephemeralGb: Opt(Int(0, 2_147_483_647)), swapMb: Opt(Int(0, 2_147_483_647)), isPublic: Opt(Type.Boolean()),
    description: Type.Optional(Description),
  }),
  reply: FlavorReplySchema, ...served,
});
export const FlavorDelete = defineRequest({ verb: 'delete', pattern: flavor('delete'), mutating: true, body: Closed({ id: NonEmptyName(255) }), reply: Type.Object({ deleted: Type.String() }), ...served });
export const FlavorSetSpecs = defineRequest({
  verb: 'set-specs', pattern: flavor('set-specs'), mutating: true,
  body: Closed({ id: NonEmptyName(255), specs: MetadataMap() }), reply: FlavorReplySchema, ...served,
});
/** A flavor's description (Nova 2.55's `PUT /flavors/{id}`, the only field that may change). */
export const FlavorUpdate = defineRequest({
  verb: 'update', pattern: flavor('update'), mutating: true, body: Closed({ id: NonEmptyName(255), description: Description }), reply: FlavorReplySchema, ...served,
});
/** Grants or revokes a project's access to a private flavor; answers the flavor with its access list. */
export const FlavorAccess = defineRequest({
  verb: 'access', pattern: flavor('access'), mutating: true,
  body: Closed({ id: NonEmptyName(255), op: Type.Union([Type.Literal('add'), Type.Literal('remove')]), projectId: ProjectId }), reply: FlavorReplySchema, ...served,
});
export const FlavorUnsetSpec = defineRequest({
  verb: 'unset-spec', pattern: flavor('unset-spec'), mutating: true, body: Closed({ id: NonEmptyName(255), key: NonEmptyName(255) }), reply: AnyObject, ...served,
});

/**
 * `status` (operators, `novact status`): the conductor's tally of instances by state, builds by
 * outcome and reschedules (from memory), compute hosts by state (one aggregate over their records),
 * and the newest instance faults.
 */
export const StatusReplySchema = Type.Object({
  instances: Type.Array(Type.Object({ vmState: Type.String(), taskState: Type.Union([Type.String(), Type.Null()]), count: Type.Integer({ minimum: 0 }) })),
  builds: Type.Record(Type.String(), Type.Integer({ minimum: 0 })),
  reschedules: Type.Integer({ minimum: 0 }),
  hosts: Type.Object({ total: Type.Integer(), up: Type.Integer(), down: Type.Integer(), disabled: Type.Integer(), forcedDown: Type.Integer() }),
  recentFaults: Type.Array(Type.Object({ uuid: Type.String(), vmState: Type.String(), code: Type.Integer(), message: Type.String(), at: Type.String() })),
});
export type StatusReply = Static<typeof StatusReplySchema>;
export const Status = defineRequest({ verb: 'status', pattern: conductor('status'), mutating: false, body: Empty, reply: StatusReplySchema, servedBy: 'conductor', calledBy: ['client'] });

export const CONDUCTOR_REQUESTS = [Build, List, Hosts, Query, Usage, TenantUsage, Services, ZoneSummary, HostServers, ServiceDelete, ServiceUpdate, HostGuests, FlavorList, FlavorGet, FlavorCreate, FlavorDelete, FlavorSetSpecs, FlavorUnsetSpec, FlavorUpdate, FlavorAccess, Status] as const;
