/**
 * What the dashboard's live feed (`GET /dashboard/api/events`, server-sent events) carries: one JSON
 * object per `data:` line, named by its `event:` line (the kind). Shared by the server, which builds
 * these from the bus's notifications, and the page, which reads them; nothing else of the bus's
 * messages reaches a browser. Imports nothing, so the page's own type check can include it.
 */

export interface FeedServer {
  id: string;
  name: string;
  status: string;
  taskState: string | null;
  powerState: number;
  projectId: string;
  flavor: { name: string; vcpus: number; ram: number };
  imageId: string;
  updatedAt: string;
  /** The host it runs on: admins only (Nova shows tenants only a hashed hostId). */
  host?: string | null;
}

export interface InstanceFeedEvent {
  kind: 'instance';
  /** Nova's event type without the `instance.` prefix, e.g. `create.end`, `power_off.start`. */
  event: string;
  timestamp: string;
  server: FeedServer;
}

/** A compute host's service record changed (disable/enable, force-down) or went: admins only. */
export interface ServiceFeedEvent {
  kind: 'service';
  event: 'update' | 'delete';
  host: string;
  status?: 'enabled' | 'disabled';
  state?: 'up' | 'down';
  disabledReason?: string | null;
}

export interface ImageFeedEvent {
  kind: 'image';
  event: string;
  image: { id: string; name: string; status: string; visibility: string };
}

export type FeedEvent = InstanceFeedEvent | ServiceFeedEvent | ImageFeedEvent;

/** The first message on every stream: who the feed thinks you are (the page checks its scope). */
export interface FeedHello {
  projectId: string;
  admin: boolean;
}
