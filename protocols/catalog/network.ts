/**
 * The network role (`<root>.network.<kind>.<op>`, queue group `network`): Neutron's resources, one
 * kind per subject token (resources.ts), and the compute side's verbs under kind `instance`
 * (ports for a build, its addresses, their release). Bodies carry the caller (`by`) because the
 * role decides what a project may see and do; attribute bodies are checked by the role against its
 * attribute table, so the schemas here bound size and shape only.
 */
import { Type, type Static } from '@sinclair/typebox';
import { defineFamily, defineRequest, type RequestDef } from './define.js';
import { AnyObject, Closed, Name, Opt, ProjectId, Uuid } from './common.js';
import type { Subjects } from '../subjects.js';

export const NetCaller = Closed({ projectId: ProjectId, userId: Opt(Name(64)), isAdmin: Type.Boolean() });
export type NetCaller = Static<typeof NetCaller>;

/** A raw list query: Neutron's filters, `fields`, sorting and paging, as the URL carried them. */
const RawQuery = Type.Record(Type.String({ pattern: '^[\\s\\S]{1,255}$' }), Type.Union([Type.String({ maxLength: 1024 }), Type.Array(Type.String({ maxLength: 1024 }), { maxItems: 64 })]), { maxProperties: 64 });
const Id = Type.String({ minLength: 1, maxLength: 255 });
const NonEmpty255 = Type.String({ minLength: 1, maxLength: 255 });

const ItemReply = Type.Object({ item: AnyObject });
const ListReply = Type.Object({ items: Type.Array(AnyObject), next: Opt(Type.String()), previous: Opt(Type.String()) });

const served = { servedBy: 'network', calledBy: ['api', 'client'] } as const;
const op = (verb: string) => ({ verb, pattern: (s: Subjects) => s.networkAll, subject: (s: Subjects, kind = '*') => s.network(kind, verb) });

export const NetCreate = defineRequest({ ...op('create'), mutating: true, body: Closed({ by: NetCaller, attrs: AnyObject }), reply: ItemReply, ...served });
export const NetUpdate = defineRequest({ ...op('update'), mutating: true, body: Closed({ by: NetCaller, id: Id, attrs: AnyObject }), reply: ItemReply, ...served });
export const NetDelete = defineRequest({ ...op('delete'), mutating: true, body: Closed({ by: NetCaller, id: Id }), reply: Type.Object({}), ...served });
export const NetGet = defineRequest({ ...op('get'), mutating: false, body: Closed({ by: NetCaller, id: Id, query: Opt(RawQuery) }), reply: ItemReply, ...served });
export const NetList = defineRequest({ ...op('list'), mutating: false, body: Closed({ by: NetCaller, query: Opt(RawQuery) }), reply: ListReply, ...served });
/** A resource's tags: `set` replaces them, `add`/`remove` one, `list` reads them. */
export const NetTags = defineRequest({
  ...op('tags'), mutating: true,
  body: Closed({ by: NetCaller, id: Id, action: Type.Union([Type.Literal('list'), Type.Literal('set'), Type.Literal('add'), Type.Literal('remove'), Type.Literal('check')]), tags: Opt(Type.Array(Type.String({ maxLength: 255 }), { maxItems: 50 })) }),
  reply: Type.Object({ tags: Type.Array(Type.String()) }), ...served,
});
/** A router's interfaces (`kind` router): add or remove one by subnet or port. */
export const NetRouterInterface = defineRequest({
  ...op('interface'), mutating: true,
  body: Closed({ by: NetCaller, id: Id, action: Type.Union([Type.Literal('add'), Type.Literal('remove')]), subnetId: Opt(Uuid), portId: Opt(Uuid) }),
  reply: AnyObject, ...served,
});
/** Per-project quotas (`kind` quota): `id` a project; `set` takes limits, `reset` drops them. */
export const NetQuota = defineRequest({
  ...op('quota'), mutating: true,
  body: Closed({ by: NetCaller, action: Type.Union([Type.Literal('get'), Type.Literal('details'), Type.Literal('set'), Type.Literal('reset'), Type.Literal('list'), Type.Literal('default')]), id: Opt(ProjectId), limits: Opt(Type.Record(Type.String({ maxLength: 64 }), Type.Integer({ minimum: -1, maximum: 2_147_483_647 }), { maxProperties: 16 })) }),
  reply: AnyObject, ...served,
});
/** Neutron's `auto-allocated-topology` of a project (`kind` topology): made on `get`, removed on `delete`. */
export const NetAutoTopology = defineRequest({
  ...op('topology'), mutating: true,
  body: Closed({ by: NetCaller, action: Type.Union([Type.Literal('get'), Type.Literal('delete')]), id: ProjectId }),
  reply: AnyObject, ...served,
});
/** The network service's availability zones (Neutron's `availability_zones`). */
export const NetZones = defineRequest({ ...op('zones'), mutating: false, body: Closed({ by: NetCaller, query: Opt(RawQuery) }), reply: ListReply, ...served });

/** A NIC a build asks for: an existing port, or a network (with an address on it, optionally). */
export const RequestedNic = Closed({ network: Opt(Uuid), port: Opt(Uuid), fixedIp: Opt(Type.String({ maxLength: 64 })), tag: Opt(Name(60)) });
export type RequestedNic = Static<typeof RequestedNic>;
export const RequestedNetworks = Type.Union([Type.Literal('auto'), Type.Literal('none'), Type.Array(RequestedNic, { maxItems: 32 })]);
export type RequestedNetworks = Static<typeof RequestedNetworks>;

/** What a host needs of a port to plug it, and what the server view shows of it. */
export const NicSchema = Type.Object({
  portId: Uuid, networkId: Uuid, networkName: Type.String(), mac: Type.String(), mtu: Type.Integer(),
  fixedIps: Type.Array(Type.Object({
    address: Type.String(), version: Type.Integer(), subnetId: Uuid, cidr: Type.String(), gateway: Type.Union([Type.String(), Type.Null()]),
    /** The subnet's DNS servers, host routes and IPv6 address mode, for the guest's `network_data.json`. */
    dns: Type.Optional(Type.Array(Type.String())),
    routes: Type.Optional(Type.Array(Type.Object({ destination: Type.String(), nexthop: Type.String() }))),
    ipv6AddressMode: Type.Optional(Type.String()),
  })),
  floatingIps: Type.Array(Type.String()),
  /** The names of the port's security groups (the server view's `security_groups`). */
  securityGroups: Type.Array(Type.String()),
  preserve: Type.Boolean(),
});
export type Nic = Static<typeof NicSchema>;

const compute = { servedBy: 'network', calledBy: ['api', 'conductor', 'client'] } as const;
/** Instance verbs have one subject each (`<root>.network.instance.<op>`): what the conductor may publish. */
const instanceOp = (verb: string) => ({ ...op(verb), subject: (s: Subjects) => s.network('instance', verb) });
/** Checked before a build is accepted (Nova's API checks): unknown networks and ports, ports in use, ambiguity. */
export const NetInstanceCheck = defineRequest({
  ...instanceOp('check'), mutating: false,
  body: Closed({ by: NetCaller, requested: RequestedNetworks, count: Type.Integer({ minimum: 1, maximum: 1000 }), securityGroups: Opt(Type.Array(NonEmpty255, { maxItems: 32 })) }),
  /** `securityGroups`: the named groups' ids, for the ports the build makes. */
  reply: Type.Object({ requested: RequestedNetworks, securityGroups: Opt(Type.Array(Uuid)) }), ...compute,
});
/** The ports of an instance bound to `host`: made (or found, on a retry or an alternate host) and answered. */
export const NetInstanceAllocate = defineRequest({
  ...instanceOp('allocate'), mutating: true,
  body: Closed({ instanceId: Uuid, projectId: ProjectId, host: Name(255), requested: RequestedNetworks, securityGroups: Opt(Type.Array(Uuid, { maxItems: 32 })) }),
  reply: Type.Object({ nics: Type.Array(NicSchema) }), ...compute,
});
/** An instance is gone: ports it made are deleted, ports it was given are unbound. */
export const NetInstanceDeallocate = defineRequest({ ...instanceOp('deallocate'), mutating: true, body: Closed({ instanceId: Uuid }), reply: Type.Object({ deleted: Type.Integer(), unbound: Type.Integer() }), ...compute });
/** The NICs of instances (the server view's `addresses`, `os-interface`). */
export const NetInstanceNics = defineRequest({
  ...instanceOp('nics'), mutating: false,
  body: Closed({ instanceIds: Type.Array(Uuid, { maxItems: 1000 }) }),
  reply: Type.Object({ nics: Type.Record(Type.String(), Type.Array(NicSchema)) }), ...compute,
});

/** `os-interface`: a NIC attached to a server (a port made on a network, or a given port), or detached. */
export const NetInstanceAttach = defineRequest({
  ...instanceOp('attach'), mutating: true,
  body: Closed({ by: NetCaller, instanceId: Uuid, host: Opt(Name(255)), nic: RequestedNic }),
  reply: Type.Object({ nic: NicSchema }), ...compute,
});
export const NetInstanceDetach = defineRequest({ ...instanceOp('detach'), mutating: true, body: Closed({ by: NetCaller, instanceId: Uuid, portId: Uuid }), reply: Type.Object({}), ...compute });
/** A server's security groups (`os-security-groups`, `addSecurityGroup`, `removeSecurityGroup`): on every port of it. */
export const NetInstanceGroups = defineRequest({
  ...instanceOp('groups'), mutating: true,
  body: Closed({ by: NetCaller, instanceId: Uuid, action: Type.Union([Type.Literal('list'), Type.Literal('add'), Type.Literal('remove')]), name: Opt(NonEmpty255) }),
  reply: Type.Object({ groups: Type.Array(AnyObject) }), ...compute,
});
/** `addFloatingIp`/`removeFloatingIp` (before 2.44): the project's floating IP by address, on one of the server's ports. */
export const NetInstanceFloating = defineRequest({
  ...instanceOp('floating'), mutating: true,
  body: Closed({ by: NetCaller, instanceId: Uuid, action: Type.Union([Type.Literal('add'), Type.Literal('remove')]), address: Type.String({ maxLength: 64 }), fixedAddress: Opt(Type.String({ maxLength: 64 })) }),
  reply: Type.Object({}), ...compute,
});
/** The servers with an address matching Nova's `ip`/`ip6` list filters (regular expressions). */
export const NetInstanceMatchIps = defineRequest({
  ...instanceOp('match-ips'), mutating: false,
  body: Closed({ by: NetCaller, ip: Opt(Type.String({ maxLength: 255 })), ip6: Opt(Type.String({ maxLength: 255 })) }),
  reply: Type.Object({ instanceIds: Type.Array(Uuid) }), ...compute,
});

export const NETWORK_REQUESTS: readonly RequestDef[] = [NetCreate, NetUpdate, NetDelete, NetGet, NetList, NetTags, NetRouterInterface, NetQuota, NetZones, NetAutoTopology, NetInstanceCheck, NetInstanceAllocate, NetInstanceDeallocate, NetInstanceNics, NetInstanceAttach, NetInstanceDetach, NetInstanceGroups, NetInstanceFloating, NetInstanceMatchIps];
export const NetworkVerbs = defineFamily('network', (s) => s.networkAll, NETWORK_REQUESTS);
