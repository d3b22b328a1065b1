/**
 * The image role's verbs for the REST API: `image.register` (Glance create) and `image.query` (Glance
 * listing with filters, sorting and paging). Wired into the role by `startImageRole`.
 */
import type { ImageReply } from '../../protocols/messages.js';
import type { Subjects } from '../../protocols/subjects.js';
import type { Clock } from '../../runtime/clock.js';
import type { Orm } from '../../runtime/db/orm.js';
import type { Bridge, Service } from '../../runtime/nats/bridge.js';
import { ImageQuery, ImageRegister } from '../../protocols/catalog/image.js';
import { queryImages } from './image-query.js';
import { registerImage } from './image-register.js';
import { imageView } from './image-view.js';

export function registerImageApiVerbs(bridge: Bridge, svc: Service, subjects: Subjects, orm: Orm, clock: Clock, created: (id: string) => void = () => undefined): void {
  // Bodies fit the catalog's schemas before these run; image-register.ts and image-query.ts add the rules.
  const opts = { queue: 'image' };
  bridge.endpoint(svc, ImageRegister, async (body) => {
    const row = await registerImage(orm, body as Record<string, unknown>, new Date(clock.now()));
    created(row.id);
    const reply = { image: imageView(row) } satisfies ImageReply;
    bridge.publish(subjects.event('image', row.id, 'create'), reply);
    return reply;
  }, opts);
  bridge.endpoint(svc, ImageQuery, (body) => queryImages(orm, body as Record<string, unknown>) as never, opts);
}
