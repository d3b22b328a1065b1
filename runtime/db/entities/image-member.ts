import { EntitySchema } from '@mikro-orm/core';

export type ImageMemberStatus = 'pending' | 'accepted' | 'rejected';

/** One project a shared image is offered to (Glance's `image_members`); written by the image's actor only. */
export interface ImageMemberRow {
  imageId: string;
  member: string;
  status: ImageMemberStatus;
  createdAt: Date;
  updatedAt: Date;
  version: number;
}

export const ImageMember = new EntitySchema<ImageMemberRow>({
  name: 'ImageMember',
  tableName: 'image_members',
  properties: {
    imageId: { type: 'uuid', primary: true },
    member: { type: 'string', length: 255, primary: true },
    status: { type: 'string', length: 20 },
    createdAt: { type: 'datetime' },
    updatedAt: { type: 'datetime' },
    version: { type: 'integer' },
  },
});
