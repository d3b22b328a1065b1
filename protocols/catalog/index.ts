/**
 * The catalog of every NATS subject novact uses: one definition per request verb, report, delta and
 * event, each with its subject, schema(s) and the roles on either end. Receivers validate through
 * it (Bridge.endpoint / endpointFamily / serveFamily / on); the permissions test checks nats.conf
 * against it.
 */
import type { MessageDef, RequestDef } from './define.js';
import { CONDUCTOR_REQUESTS } from './conductor.js';
import { AggregateEvent, HostLivenessEvent, ImageEvent, InstanceEvent, ServerGroupEvent, ServiceDeleteEvent, ServiceEvent } from './events.js';
import { ComputeHosts, HostVerbs } from './host.js';
import { ImageCreate, ImageInfo, ImageList, ImageMetadefs, ImageQuery, ImageRegister, ImageUploadChunk, ImageVerbs } from './image.js';
import { IMAGE_SNAPSHOT_REQUESTS } from './image-snapshot.js';
import { InstanceVerbs } from './instance.js';
import { MIGRATION_REQUESTS } from './migrations.js';
import { NETWORK_REQUESTS } from './network.js';
import { PLACEMENT_CATALOG_REQUESTS } from './placement-catalog.js';
import { CapacityReportMsg, HeartbeatMsg, PowerSyncMsg } from './reports.js';
import { DeltaMsg, SCHEDULER_REQUESTS } from './scheduler.js';

export * from './define.js';
export * from './common.js';
export * from './views.js';
export * from './reports.js';
export * from './scheduler.js';
export * from './placement-catalog.js';
export * from './conductor.js';
export * from './instance.js';
export * from './host.js';
export * from './image.js';
export * from './image-snapshot.js';
export * from './events.js';
export * from './migrations.js';
export * from './network.js';

export const ALL_REQUESTS: readonly RequestDef[] = [
  ...SCHEDULER_REQUESTS,
  ...PLACEMENT_CATALOG_REQUESTS,
  ...CONDUCTOR_REQUESTS,
  ...MIGRATION_REQUESTS,
  ...Object.values(InstanceVerbs.verbs),
  ...Object.values(HostVerbs.verbs),
  ComputeHosts,
  ImageList, ImageCreate, ImageRegister, ImageQuery, ImageMetadefs, ImageInfo,
  ...Object.values(ImageVerbs.verbs),
  ImageUploadChunk,
  ...IMAGE_SNAPSHOT_REQUESTS,
  ...NETWORK_REQUESTS,
];

export const ALL_MESSAGES: readonly MessageDef[] = [
  CapacityReportMsg, HeartbeatMsg, PowerSyncMsg, DeltaMsg, InstanceEvent, ImageEvent, ServiceEvent, ServiceDeleteEvent, AggregateEvent, ServerGroupEvent,
  HostLivenessEvent,
];
