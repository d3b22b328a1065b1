import { EntitySchema } from '@mikro-orm/core';

/** A project's limit for one resource (Nova's `quotas`); absent rows mean the configured default. */
export interface QuotaRow {
  projectId: string;
  resource: string;
  hardLimit: number;
}

export const Quota = new EntitySchema<QuotaRow>({
  name: 'Quota',
  tableName: 'quotas',
  properties: {
    projectId: { type: 'string', length: 64, primary: true },
    resource: { type: 'string', length: 64, primary: true },
    hardLimit: { type: 'integer' },
  },
});
