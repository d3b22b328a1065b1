/** The body of `image.query` (Glance's listing filters, sort keys and limits), shared by the API and the image role. */
export const IMAGE_SORT_KEYS = ['id', 'name', 'status', 'disk_format', 'container_format', 'size', 'created_at', 'updated_at', 'visibility', 'min_disk', 'min_ram'] as const;
export type ImageSortKey = (typeof IMAGE_SORT_KEYS)[number];

export interface ImageQuery {
  /** Whose listing this is. */
  viewer: { projectId: string; isAdmin: boolean };
  name?: string;
  status?: string;
  visibility?: 'public' | 'private' | 'shared' | 'community' | 'all';
  owner?: string;
  diskFormat?: string;
  containerFormat?: string;
  sizeMin?: number;
  sizeMax?: number;
  tags?: string[];
  /** Free-form property filters (Glance treats unknown query parameters as these). */
  properties?: Record<string, string>;
  protected?: boolean;
  /** Glance hides `os_hidden` images unless asked (default false). */
  osHidden?: boolean;
  /** Which of the viewer's memberships bring shared images in (Glance's default: `accepted`). */
  memberStatus?: 'pending' | 'accepted' | 'rejected' | 'all';
  sort?: { key: ImageSortKey; dir: 'asc' | 'desc' }[];
  limit?: number;
  marker?: string;
}

export const DEFAULT_IMAGE_LIMIT = 25;
export const MAX_IMAGE_LIMIT = 1000;
