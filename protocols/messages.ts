/**
 * Typed request and reply bodies for every NATS verb novact serves (inside the envelope of
 * envelope.ts). The types are the `Static` of the catalog's schemas (protocols/catalog/), which
 * receivers validate against; the names here stay for the rest of the code and `index.ts`.
 */
export type { ServerView, ComputeNodeView, InstanceActionView } from './catalog/views.js';
export type {
  BuildRequest, BuildReply, ListRequest, ListReply, HostsReply, HostsRequest, FlavorListReply, FlavorGetRequest, FlavorReply,
} from './catalog/conductor.js';
export type { ServerReply, ActionsReply, ActionsRequest } from './catalog/instance.js';
export type { ImageCreateRequest, ImageReply, ImageListReply } from './catalog/image.js';
export type {
  SelectRequest, SelectReply, SelectBatchRequest, SelectBatchReply, ClaimRequest, ClaimReply, ReleaseRequest,
} from './catalog/scheduler.js';
export type { HostView, SpawnRequest, GuestReply, DestroyRequest, PowerRequest } from './catalog/host.js';
export type { CapacityReport } from './catalog/reports.js';
