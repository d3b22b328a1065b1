import { EntitySchema } from '@mikro-orm/core';

// The policy names are wire data (protocols/scheduler-views.ts); the row stores them as they are.
import type { ServerGroupPolicy } from '../../../protocols/scheduler-views.js';
export type { ServerGroupPolicy };

/** Nova's server groups: a placement policy over their member instances. */
export interface ServerGroupRow {
  uuid: string;
  name: string;
  projectId: string;
  userId: string;
  policy: ServerGroupPolicy;
  /** `max_server_per_host` for anti-affinity (microversion 2.64 rules). */
  maxServerPerHost: number | null;
  createdAt: Date;
}

export const ServerGroup = new EntitySchema<ServerGroupRow>({
  name: 'ServerGroup',
  tableName: 'server_groups',
  indexes: [{ properties: ['projectId'] }],
  properties: {
    uuid: { type: 'uuid', primary: true },
    name: { type: 'string', length: 255 },
    projectId: { type: 'string', length: 64 },
    userId: { type: 'string', length: 64 },
    policy: { type: 'string', length: 32 },
    maxServerPerHost: { type: 'integer', nullable: true },
    createdAt: { type: 'datetime' },
  },
});

/** Membership is written with the member's first claim (same transaction) and dropped on release. */
export interface ServerGroupMemberRow {
  groupUuid: string;
  instanceUuid: string;
}

export const ServerGroupMember = new EntitySchema<ServerGroupMemberRow>({
  name: 'ServerGroupMember',
  tableName: 'server_group_members',
  indexes: [{ properties: ['instanceUuid'] }],
  properties: {
    groupUuid: { type: 'uuid', primary: true },
    instanceUuid: { type: 'uuid', primary: true },
  },
});
