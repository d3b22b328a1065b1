/**
 * The image role's verbs for the REST API: `image.register` (Glance create) and `image.query` (Glance
 * listing with filters, sorting and paging). Wired into the role by `startImageRole`.
 */
import type { Service } from 'nats';
import type { ImageReply } from '../../protocols/messages.js';
import type { Subjects } from '../../protocols/subjects.js';
import type { Clock } from '../../runtime/clock.js';
import type { Orm } from '../../runtime/db/orm.js';
import { isMutatingVerb, type Bridge } from '../../runtime/nats/bridge.js';
import { queryImages } from './image-query.js';
import { registerImage } from './image-register.js';
import { imageView } from './image-role.js';

export function registerImageApiVerbs(bridge: Bridge, svc: Service, subjects: Subjects, orm: Orm, clock: Clock, created: (id: string) => void = () => undefined): void {
  const opts = { queue: 'image', isMutating: (verb: string) => verb !== 'query' && isMutatingVerb(verb) };
  bridge.endpoint(svc, 'register', subjects.imageRole('register'), async ({ envelope }) => {
    const row = await registerImage(orm, envelope.body, new Date(clock.now()));
    created(row.id);
    const reply = { image: imageView(row) } satisfies ImageReply;
    bridge.publish(subjects.event('image', row.id, 'create'), reply);
    return reply;
  }, opts);
  bridge.endpoint(svc, 'query', subjects.imageRole('query'), ({ envelope }) => queryImages(orm, envelope.body), opts);
}
