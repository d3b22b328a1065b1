/**
 * Notifications on `<root>.evt.<kind>.<id>.<event…>` (kept in the JetStream stream). Each kind has a
 * schema, so a subscriber can drop what does not fit instead of dereferencing it.
 */
import { Type } from '@sinclair/typebox';
import { defineMessage } from './define.js';
import { AnyObject, SubjectToken } from './common.js';
import { ServerViewSchema, ServiceViewSchema } from './views.js';

/** `instance.<uuid>.<action>.<phase>`: Nova's versioned-notification shape. */
export const InstanceEvent = defineMessage({
  name: 'evt.instance',
  pattern: (s) => `${s.root}.evt.instance.>`,
  subject: (s, id, action, phase) => s.event('instance', id!, action!, phase!),
  body: Type.Object({ event_type: Type.String({ maxLength: 255 }), publisher_id: Type.String({ maxLength: 255 }), timestamp: Type.String({ maxLength: 64 }), payload: ServerViewSchema }),
  publishedBy: ['conductor'],
  // The api role forwards it to the dashboard's live feed (actors/api/dashboard/).
  subscribedBy: ['client', 'api'],
});

/** `image.<uuid>.<event…>`: the image as it is after the change (or a verb's own reply). */
export const ImageEvent = defineMessage({
  name: 'evt.image',
  pattern: (s) => `${s.root}.evt.image.>`,
  subject: (s, id, ...event) => s.event('image', id!, ...event),
  body: AnyObject,
  publishedBy: ['image'],
  subscribedBy: ['client', 'api'],
});

/** `service.<host>.update`: os-services disable/enable/force-down, for the scheduler's ComputeFilter. */
export const ServiceEvent = defineMessage({
  name: 'evt.service.update',
  pattern: (s) => `${s.root}.evt.service.*.update`,
  subject: (s, host) => s.event('service', host!, 'update'),
  body: Type.Object({ service: ServiceViewSchema }),
  matches: (s, subject, body) => subject === `${s.root}.evt.service.${body.service.host}.update`,
  publishedBy: ['conductor'],
  subscribedBy: ['scheduler', 'client', 'api'],
});

/** `service.<host>.delete`: a deleted compute service; every scheduler replica forgets the host. */
export const ServiceDeleteEvent = defineMessage({
  name: 'evt.service.delete',
  pattern: (s) => `${s.root}.evt.service.*.delete`,
  subject: (s, host) => s.event('service', host!, 'delete'),
  body: Type.Object({ service: Type.Object({ host: SubjectToken }) }),
  matches: (s, subject, body) => subject === `${s.root}.evt.service.${body.service.host}.delete`,
  publishedBy: ['conductor'],
  subscribedBy: ['scheduler', 'client', 'api'],
});

/**
 * `host.<host>.down` / `.up`: the scheduler's liveness verdict (protocols/liveness.ts), from each
 * replica. `fencedBy` is the time (the publisher's clock) by which a host that fences itself has
 * stopped its guests: its last heartbeat heard plus the lease granted, so an evacuator (issue 13,
 * part 3) may act on a down host once `fencedBy` plus the fence margin has passed.
 */
export const HostLivenessEvent = defineMessage({
  name: 'evt.host',
  pattern: (s) => `${s.root}.evt.host.*.*`,
  subject: (s, host, state) => s.event('host', host!, state!),
  body: Type.Object({
    host: SubjectToken,
    state: Type.Union([Type.Literal('down'), Type.Literal('up')]),
    lastSeenAt: Type.Number({ minimum: 0 }),
    at: Type.Number({ minimum: 0 }),
    fencedBy: Type.Union([Type.Number({ minimum: 0 }), Type.Null()]),
    replica: Type.String({ minLength: 1, maxLength: 64 }),
  }),
  matches: (s, subject, body) => subject === `${s.root}.evt.host.${body.host}.${body.state}`,
  publishedBy: ['scheduler'],
  subscribedBy: ['client'],
});

/** Aggregate or server-group writes, from the replica that made them: the others reload. */
const CatalogChange = Type.Object({ replica: Type.String({ minLength: 1, maxLength: 64 }), hosts: Type.Array(SubjectToken, { maxItems: 100_000 }) });

export const AggregateEvent = defineMessage({
  name: 'evt.aggregate',
  pattern: (s) => `${s.root}.evt.aggregate.>`,
  subject: (s, id) => s.event('aggregate', id!, 'update'),
  body: CatalogChange,
  publishedBy: ['scheduler'],
  subscribedBy: ['scheduler', 'client'],
});

export const ServerGroupEvent = defineMessage({
  name: 'evt.servergroup',
  pattern: (s) => `${s.root}.evt.servergroup.>`,
  subject: (s, id) => s.event('servergroup', id!, 'update'),
  body: CatalogChange,
  publishedBy: ['scheduler'],
  subscribedBy: ['scheduler', 'client'],
});
