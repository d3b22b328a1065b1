/**
 * Nova's image view for the compute API's image proxy (nova/api/openstack/compute/views/images.py):
 * Glance's statuses mapped to Nova's (`queued`/`saving` → SAVING, …) with a progress, the image's
 * properties as `metadata`, and `self`/`bookmark`/`alternate` (Glance) links.
 */
import type { ImageMeta } from '../../../protocols/resources.js';
import type { Links } from '../links.js';
import { novaTime } from './server-views.js';

/** Glance status → Nova status and progress; anything else is UNKNOWN at 0. */
const STATUS: Record<string, { status: string; progress: number }> = {
  queued: { status: 'SAVING', progress: 25 },
  saving: { status: 'SAVING', progress: 50 },
  active: { status: 'ACTIVE', progress: 100 },
  killed: { status: 'ERROR', progress: 0 },
  deleted: { status: 'DELETED', progress: 0 },
  pending_delete: { status: 'DELETED', progress: 0 },
};

/** Nova status (the list's `status` filter) → Glance's. */
export const GLANCE_STATUS: Record<string, string> = { ACTIVE: 'active', SAVING: 'saving', ERROR: 'killed', DELETED: 'deleted' };

export function imageLinks(m: { id: string }, links: Links): { rel: string; href: string; type?: string }[] {
  return [...links.compLinks(`/images/${m.id}`), { rel: 'alternate', type: 'application/vnd.openstack.image', href: `${links.image}/images/${m.id}` }];
}

export function computeImageBrief(m: ImageMeta, links: Links): Record<string, unknown> {
  return { id: m.id, name: m.name, links: imageLinks(m, links) };
}

export function computeImageDetail(m: ImageMeta, links: Links): Record<string, unknown> {
  const s = STATUS[m.status] ?? { status: 'UNKNOWN', progress: 0 };
  const out: Record<string, unknown> = {
    id: m.id,
    name: m.name,
    minRam: m.minRamMb,
    minDisk: m.minDiskGb,
    metadata: m.properties,
    created: novaTime(m.createdAt),
    updated: novaTime(m.updatedAt),
    status: s.status,
    progress: s.progress,
    links: imageLinks(m, links),
    'OS-EXT-IMG-SIZE:size': m.sizeBytes,
  };
  // A snapshot names the server it was taken of.
  const server = m.properties.instance_uuid;
  if (server) out.server = { id: server, links: links.compLinks(`/servers/${server}`) };
  return out;
}
