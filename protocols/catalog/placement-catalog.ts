/** Host aggregates, availability zones and server groups (`<root>.aggregate.*`, `<root>.servergroup.*`), served by the scheduler. */
import { Type } from '@sinclair/typebox';
import { defineRequest } from './define.js';
import { AggregateMetadataMap, AnyObject, Closed, Empty, Int, NonEmptyName, Opt, ProjectId, SubjectToken, Uuid } from './common.js';

const AggId = Int(1, 2_147_483_647);
const AggregateReply = Type.Object({ aggregate: AnyObject });
const GroupReply = Type.Object({ serverGroup: AnyObject });
const byAdmin = { servedBy: 'scheduler', calledBy: ['api', 'client'] } as const;

export const AggregateList = defineRequest({ verb: 'list', pattern: (s) => s.aggregate('list'), mutating: false, body: Empty, reply: Type.Object({ aggregates: Type.Array(AnyObject) }), ...byAdmin });
export const AggregateGet = defineRequest({ verb: 'get', pattern: (s) => s.aggregate('get'), mutating: false, body: Closed({ id: AggId }), reply: AggregateReply, ...byAdmin });
export const AggregateZones = defineRequest({ verb: 'zones', pattern: (s) => s.aggregate('zones'), mutating: false, body: Empty, reply: Type.Object({ zones: Type.Array(AnyObject) }), ...byAdmin });
export const AggregateCreate = defineRequest({
  verb: 'create', pattern: (s) => s.aggregate('create'), mutating: true,
  body: Closed({ name: NonEmptyName(255), availabilityZone: Opt(NonEmptyName(255)) }), reply: AggregateReply, ...byAdmin,
});
export const AggregateDelete = defineRequest({ verb: 'delete', pattern: (s) => s.aggregate('delete'), mutating: true, body: Closed({ id: AggId }), reply: Empty, ...byAdmin });
export const AggregateAddHost = defineRequest({ verb: 'add-host', pattern: (s) => s.aggregate('add-host'), mutating: true, body: Closed({ id: AggId, host: SubjectToken }), reply: AggregateReply, ...byAdmin });
export const AggregateRemoveHost = defineRequest({ verb: 'remove-host', pattern: (s) => s.aggregate('remove-host'), mutating: true, body: Closed({ id: AggId, host: SubjectToken }), reply: AggregateReply, ...byAdmin });
export const AggregateSetMetadata = defineRequest({
  verb: 'set-metadata', pattern: (s) => s.aggregate('set-metadata'), mutating: true,
  body: Closed({ id: AggId, metadata: AggregateMetadataMap({ maxProperties: 256 }) }),
  reply: AggregateReply, ...byAdmin,
});

/** Nova's `PUT /os-aggregates/{id}`: a new name and/or zone (null: no zone). */
export const AggregateUpdate = defineRequest({
  verb: 'update', pattern: (s) => s.aggregate('update'), mutating: true,
  body: Closed({ id: AggId, name: Type.Optional(NonEmptyName(255)), availabilityZone: Type.Optional(Type.Union([NonEmptyName(255), Type.Null()])) }),
  reply: AggregateReply, ...byAdmin,
});

export const GroupList = defineRequest({ verb: 'list', pattern: (s) => s.serverGroup('list'), mutating: false, body: Closed({ projectId: Opt(ProjectId) }), reply: Type.Object({ serverGroups: Type.Array(AnyObject) }), ...byAdmin });
export const GroupGet = defineRequest({
  verb: 'get', pattern: (s) => s.serverGroup('get'), mutating: false, body: Closed({ id: Uuid }), reply: GroupReply,
  servedBy: 'scheduler', calledBy: ['api', 'client', 'conductor'],
});
export const GroupCreate = defineRequest({
  verb: 'create', pattern: (s) => s.serverGroup('create'), mutating: true,
  body: Closed({
    name: NonEmptyName(255),
    policy: Type.Union([Type.Literal('affinity'), Type.Literal('anti-affinity'), Type.Literal('soft-affinity'), Type.Literal('soft-anti-affinity')]),
    maxServerPerHost: Opt(Int(1, 1000)),
    projectId: Opt(ProjectId),
    userId: Opt(NonEmptyName(64)),
    /** The project's server_groups quota (-1: unlimited), checked under a lock with the insert. */
    maxGroups: Opt(Int(-1, 2_147_483_647)),
  }),
  reply: GroupReply, ...byAdmin,
});
export const GroupDelete = defineRequest({ verb: 'delete', pattern: (s) => s.serverGroup('delete'), mutating: true, body: Closed({ id: Uuid }), reply: Empty, ...byAdmin });

export const PLACEMENT_CATALOG_REQUESTS = [
  AggregateList, AggregateGet, AggregateZones, AggregateCreate, AggregateDelete, AggregateAddHost, AggregateRemoveHost, AggregateSetMetadata, AggregateUpdate,
  GroupList, GroupGet, GroupCreate, GroupDelete,
] as const;
