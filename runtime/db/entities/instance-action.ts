import { EntitySchema } from '@mikro-orm/core';

/** Nova's instance action record: one per user-visible operation, keyed by its request id. */
export interface InstanceActionRow {
  id: number;
  instanceUuid: string;
  action: string;
  requestId: string;
  projectId: string;
  userId: string;
  startTime: Date;
  finishTime: Date | null;
  /** 'Success' or 'Error', set when the operation ends. */
  result: string | null;
  message: string | null;
}

export const InstanceAction = new EntitySchema<InstanceActionRow>({
  name: 'InstanceAction',
  tableName: 'instance_actions',
  uniques: [{ properties: ['instanceUuid', 'requestId'] }],
  indexes: [{ properties: ['instanceUuid', 'startTime'] }],
  properties: {
    id: { type: 'integer', primary: true, autoincrement: true },
    instanceUuid: { type: 'uuid' },
    action: { type: 'string', length: 64 },
    requestId: { type: 'string', length: 128 },
    projectId: { type: 'string', length: 64 },
    userId: { type: 'string', length: 64 },
    startTime: { type: 'datetime' },
    finishTime: { type: 'datetime', nullable: true },
    result: { type: 'string', length: 32, nullable: true },
    message: { type: 'text', nullable: true },
  },
});
