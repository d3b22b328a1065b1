import { EntitySchema } from '@mikro-orm/core';

/**
 * Keystone's records beyond users and projects (identity.ts): domains, groups and their members,
 * roles and their implications, role assignments, the catalog (regions, services, endpoints) and
 * application credentials. Owned by the api role.
 */
export interface DomainRow {
  id: string;
  name: string;
  description: string;
  enabled: boolean;
  createdAt: Date;
}

export const Domain = new EntitySchema<DomainRow>({
  name: 'Domain',
  tableName: 'keystone_domains',
  uniques: [{ properties: ['name'] }],
  properties: {
    id: { type: 'string', length: 64, primary: true },
    name: { type: 'string', length: 64 },
    description: { type: 'text' },
    enabled: { type: 'boolean' },
    createdAt: { type: 'datetime' },
  },
});

export interface GroupRow {
  id: string;
  domainId: string;
  name: string;
  description: string;
  createdAt: Date;
}

export const Group = new EntitySchema<GroupRow>({
  name: 'Group',
  tableName: 'keystone_groups',
  uniques: [{ properties: ['domainId', 'name'] }],
  properties: {
    id: { type: 'string', length: 64, primary: true },
    domainId: { type: 'string', length: 64 },
    name: { type: 'string', length: 64 },
    description: { type: 'text' },
    createdAt: { type: 'datetime' },
  },
});

export interface GroupMemberRow {
  groupId: string;
  userId: string;
}

export const GroupMember = new EntitySchema<GroupMemberRow>({
  name: 'GroupMember',
  tableName: 'keystone_group_members',
  indexes: [{ properties: ['userId'] }],
  properties: {
    groupId: { type: 'string', length: 64, primary: true },
    userId: { type: 'string', length: 64, primary: true },
  },
});

/** A role; `domainId` '' for a global one (every built-in role is). */
export interface RoleRow {
  id: string;
  name: string;
  domainId: string;
  description: string | null;
}

export const Role = new EntitySchema<RoleRow>({
  name: 'Role',
  tableName: 'keystone_roles',
  uniques: [{ properties: ['name', 'domainId'] }],
  properties: {
    id: { type: 'string', length: 64, primary: true },
    name: { type: 'string', length: 255 },
    domainId: { type: 'string', length: 64 },
    description: { type: 'text', nullable: true },
  },
});

export interface ImpliedRoleRow {
  priorRoleId: string;
  impliedRoleId: string;
}

export const ImpliedRole = new EntitySchema<ImpliedRoleRow>({
  name: 'ImpliedRole',
  tableName: 'keystone_implied_roles',
  properties: {
    priorRoleId: { type: 'string', length: 64, primary: true },
    impliedRoleId: { type: 'string', length: 64, primary: true },
  },
});

export type AssignmentType = 'UserProject' | 'GroupProject' | 'UserDomain' | 'GroupDomain' | 'UserSystem' | 'GroupSystem';

/** A role held by a user or group on a project, a domain or the system (target id `all`). */
export interface AssignmentRow {
  type: AssignmentType;
  actorId: string;
  targetId: string;
  roleId: string;
}

export const Assignment = new EntitySchema<AssignmentRow>({
  name: 'Assignment',
  tableName: 'keystone_assignments',
  indexes: [{ properties: ['actorId'] }, { properties: ['targetId'] }, { properties: ['roleId'] }],
  properties: {
    type: { type: 'string', length: 16, primary: true },
    actorId: { type: 'string', length: 64, primary: true },
    targetId: { type: 'string', length: 64, primary: true },
    roleId: { type: 'string', length: 64, primary: true },
  },
});

export interface RegionRow {
  id: string;
  description: string;
  parentRegionId: string | null;
}

export const Region = new EntitySchema<RegionRow>({
  name: 'Region',
  tableName: 'keystone_regions',
  properties: {
    id: { type: 'string', length: 255, primary: true },
    description: { type: 'text' },
    parentRegionId: { type: 'string', length: 255, nullable: true },
  },
});

export interface ServiceRow {
  id: string;
  type: string;
  name: string;
  description: string | null;
  enabled: boolean;
}

export const Service = new EntitySchema<ServiceRow>({
  name: 'Service',
  tableName: 'keystone_services',
  properties: {
    id: { type: 'string', length: 64, primary: true },
    type: { type: 'string', length: 255 },
    name: { type: 'string', length: 255 },
    description: { type: 'text', nullable: true },
    enabled: { type: 'boolean' },
  },
});

export type EndpointInterface = 'public' | 'internal' | 'admin';

/** `url` may start with `$(base_url)s`: this API's public base, filled in when shown (see catalog.ts). */
export interface EndpointRow {
  id: string;
  serviceId: string;
  interface: EndpointInterface;
  regionId: string | null;
  url: string;
  enabled: boolean;
}

export const Endpoint = new EntitySchema<EndpointRow>({
  name: 'Endpoint',
  tableName: 'keystone_endpoints',
  indexes: [{ properties: ['serviceId'] }],
  properties: {
    id: { type: 'string', length: 64, primary: true },
    serviceId: { type: 'string', length: 64 },
    interface: { type: 'string', length: 8 },
    regionId: { type: 'string', length: 255, nullable: true },
    url: { type: 'text' },
    enabled: { type: 'boolean' },
  },
});

/** An application credential: its secret only as a hash; `roles` are role ids on `projectId`. */
export interface AppCredentialRow {
  id: string;
  userId: string;
  projectId: string;
  name: string;
  description: string | null;
  secretHash: string;
  roles: string[];
  unrestricted: boolean;
  expiresAt: Date | null;
  createdAt: Date;
}

export const AppCredential = new EntitySchema<AppCredentialRow>({
  name: 'AppCredential',
  tableName: 'keystone_app_credentials',
  uniques: [{ properties: ['userId', 'name'] }],
  properties: {
    id: { type: 'string', length: 64, primary: true },
    userId: { type: 'string', length: 64 },
    projectId: { type: 'string', length: 64 },
    name: { type: 'string', length: 255 },
    description: { type: 'text', nullable: true },
    secretHash: { type: 'string', length: 255 },
    roles: { type: 'json' },
    unrestricted: { type: 'boolean' },
    expiresAt: { type: 'datetime', nullable: true },
    createdAt: { type: 'datetime' },
  },
});
