import { EntitySchema } from '@mikro-orm/core';
import type { ImageStatus } from '../../../protocols/resources.js';

/** Image metadata (Glance's `images` + properties); data lives in the image store, not here. */
export interface ImageRow {
  id: string;
  name: string;
  status: ImageStatus;
  diskFormat: string;
  containerFormat: string;
  size: string;
  minDisk: number;
  minRam: number;
  visibility: 'public' | 'private' | 'shared' | 'community';
  owner: string | null;
  properties: Record<string, string>;
  checksum: string | null;
  /** Glance's tags, protection, hiding and secure hash (added with the REST API; the database defaults them). */
  tags?: string[];
  protected?: boolean;
  osHidden?: boolean;
  osHashAlgo?: string | null;
  osHashValue?: string | null;
  /** A snapshot's uploading host and the owner's storage quota for it (snapshot-create; null otherwise). */
  snapshotHost?: string | null;
  snapshotQuotaBytes?: string | null;
  /** Glance's multi-store: the stores holding the data (empty: the default store). */
  stores?: string[];
  createdAt: Date;
  updatedAt: Date;
  version: number;
}

export const Image = new EntitySchema<ImageRow>({
  name: 'Image',
  tableName: 'images',
  indexes: [{ properties: ['status'] }],
  properties: {
    id: { type: 'uuid', primary: true },
    name: { type: 'string', length: 255 },
    status: { type: 'string', length: 32 },
    diskFormat: { type: 'string', length: 32 },
    containerFormat: { type: 'string', length: 32 },
    size: { type: 'bigint' },
    minDisk: { type: 'integer' },
    minRam: { type: 'integer' },
    visibility: { type: 'string', length: 32 },
    owner: { type: 'string', length: 64, nullable: true },
    properties: { type: 'json' },
    checksum: { type: 'string', length: 64, nullable: true },
    tags: { type: 'json', default: '[]' },
    protected: { type: 'boolean', default: false },
    osHidden: { type: 'boolean', default: false },
    osHashAlgo: { type: 'string', length: 64, nullable: true },
    osHashValue: { type: 'string', length: 128, nullable: true },
    snapshotHost: { type: 'string', length: 255, nullable: true },
    snapshotQuotaBytes: { type: 'bigint', nullable: true },
    stores: { type: 'json', default: '[]' },
    createdAt: { type: 'datetime' },
    updatedAt: { type: 'datetime' },
    version: { type: 'integer' },
  },
});
