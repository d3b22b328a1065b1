import { Instance } from './instance.js';
import { InstanceAction } from './instance-action.js';
import { Flavor } from './flavor.js';
import { Image } from './image.js';
import { ImageMember } from './image-member.js';
import { ComputeNode } from './compute-node.js';
import { Allocation, InventoryEntity, ResourceProvider } from './placement.js';
import { Aggregate, AggregateHost } from './aggregate.js';
import { ServerGroup, ServerGroupMember } from './server-group.js';
import { Project, User } from './identity.js';
import { AppCredential, Assignment, Domain, Endpoint, Group, GroupMember, ImpliedRole, Region, Role, Service } from './keystone.js';
import { Token } from './token.js';
import { KeyPair } from './keypair.js';
import { Quota } from './quota.js';
import { Migration } from './migration.js';
import { IpAllocation, NetResource } from './network.js';

export { Instance, InstanceAction, Flavor, Image, ImageMember, ComputeNode, Allocation, InventoryEntity, ResourceProvider, Aggregate, AggregateHost, ServerGroup, ServerGroupMember, Project, User, Token, KeyPair, Quota, Migration, NetResource, IpAllocation,
  Domain, Group, GroupMember, Role, ImpliedRole, Assignment, Region, Service, Endpoint, AppCredential };
export type { InstanceRow } from './instance.js';
export type { InstanceActionRow } from './instance-action.js';
export type { FlavorRow } from './flavor.js';
export type { ImageRow } from './image.js';
export type { ImageMemberRow, ImageMemberStatus } from './image-member.js';
export type { ComputeNodeRow } from './compute-node.js';
export type { AllocationRow, InventoryRow, ResourceProviderRow } from './placement.js';
export type { AggregateRow, AggregateHostRow } from './aggregate.js';
export type { ServerGroupRow, ServerGroupMemberRow, ServerGroupPolicy } from './server-group.js';
export type { ProjectRow, UserRow } from './identity.js';
export type { AppCredentialRow, AssignmentRow, AssignmentType, DomainRow, EndpointInterface, EndpointRow, GroupMemberRow, GroupRow, ImpliedRoleRow, RegionRow, RoleRow, ServiceRow } from './keystone.js';
export type { TokenRow } from './token.js';
export type { KeyPairRow } from './keypair.js';
export type { QuotaRow } from './quota.js';
export type { NetResourceRow, IpAllocationRow } from './network.js';
export type { MigrationRow, MigrationType, MigrationStatus } from './migration.js';
export { MIGRATION_TYPES, MIGRATION_STATUSES } from './migration.js';

export const ENTITIES = [
  Instance, InstanceAction, Flavor, Image, ImageMember, ComputeNode, ResourceProvider, InventoryEntity, Allocation,
  Aggregate, AggregateHost, ServerGroup, ServerGroupMember,
  Project, User, Token, KeyPair, Quota, Migration, NetResource, IpAllocation,
  Domain, Group, GroupMember, Role, ImpliedRole, Assignment, Region, Service, Endpoint, AppCredential,
];
