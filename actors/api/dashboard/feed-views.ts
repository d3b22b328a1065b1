/**
 * From the bus's notifications to what a dashboard viewer may see. Each maker gets a body that already
 * fits its catalog schema (Bridge.on drops the rest) or checks it itself (image events carry the verb's
 * own reply), copies only the named fields (nothing else of the message reaches a browser: no user
 * data, metadata, faults' text or host names for tenants), and answers undefined for what the viewer
 * may not see: another project's servers and private images for members, hosts for admins only.
 */
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type { InstanceEvent, ServiceDeleteEvent, ServiceEvent } from '../../../protocols/catalog/events.js';
import type { BodyOf } from '../../../protocols/catalog/define.js';
import type { FeedEvent, FeedServer } from './feed-types.js';

export interface Viewer {
  projectId: string;
  admin: boolean;
}

/** `<action>.<phase>` as Nova's lifecycle names them (power_off.start, create.end). */
const EVENT_NAME = /^[a-z][a-z_]{0,63}\.[a-z]{1,16}$/;

export function instanceFeed(body: BodyOf<typeof InstanceEvent>, subject: string, v: Viewer): FeedEvent | undefined {
  const s = body.payload;
  if (!v.admin && s.projectId !== v.projectId) return undefined;
  const event = body.event_type.startsWith('instance.') ? body.event_type.slice('instance.'.length) : '';
  // The subject names the instance; a body about another one is not believed.
  if (!EVENT_NAME.test(event) || subject.split('.').at(-3) !== s.id) return undefined;
  const server: FeedServer = {
    id: s.id, name: s.name, status: s.status, taskState: s.taskState, powerState: s.powerState, projectId: s.projectId,
    flavor: { name: s.flavor.name, vcpus: s.flavor.vcpus, ram: s.flavor.ram }, imageId: s.imageId, updatedAt: s.updatedAt,
  };
  if (v.admin) server.host = s.host;
  return { kind: 'instance', event, timestamp: body.timestamp, server };
}

export function serviceFeed(body: BodyOf<typeof ServiceEvent>, v: Viewer): FeedEvent | undefined {
  if (!v.admin) return undefined;
  const s = body.service;
  return { kind: 'service', event: 'update', host: s.host, status: s.status, state: s.state, disabledReason: s.disabledReason };
}

export function serviceGoneFeed(body: BodyOf<typeof ServiceDeleteEvent>, v: Viewer): FeedEvent | undefined {
  return v.admin ? { kind: 'service', event: 'delete', host: body.service.host } : undefined;
}

const Text = (max: number) => Type.String({ maxLength: max });
const ImageBodySchema = Type.Object({
  image: Type.Object({
    id: Text(64), name: Type.Union([Text(255), Type.Null()]), status: Text(32), visibility: Text(32),
    ownerProjectId: Type.Union([Text(255), Type.Null()]),
  }),
});
const ImageBody = TypeCompiler.Compile(ImageBodySchema);

export function imageFeed(body: unknown, subject: string, v: Viewer): FeedEvent | undefined {
  if (!ImageBody.Check(body)) return undefined;
  const i = (body as Static<typeof ImageBodySchema>).image;
  if (!v.admin && i.visibility !== 'public' && i.ownerProjectId !== v.projectId) return undefined;
  // `<root>.evt.image.<id>.<event…>`: the id must be the body's, the event a plain word or two.
  const parts = subject.split('.');
  const at = parts.indexOf(i.id, 3);
  const event = at < 0 ? '' : parts.slice(at + 1).join('.');
  if (!/^[a-z_]{1,32}(\.[a-z_]{1,32})?$/.test(event)) return undefined;
  return { kind: 'image', event, image: { id: i.id, name: i.name ?? '', status: i.status, visibility: i.visibility } };
}
