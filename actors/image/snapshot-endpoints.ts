/**
 * Wires the snapshot verbs into the image role: `snapshot-create` and `backup-rotate` (role level,
 * for the conductor) and the host forms `<root>.image.<uuid>.{snapshot-begin,snapshot-abort,host-download}.<host>`,
 * whose host token (vouched for by NATS permissions) is handed to the image actor as `host`.
 */
import { ImageBackupRotate, ImageHostDownload, ImageSnapshotAbort, ImageSnapshotBegin, ImageSnapshotCreate } from '../../protocols/catalog/image-snapshot.js';
import type { RequestDef } from '../../protocols/catalog/define.js';
import { NotFoundError } from '../../protocols/errors.js';
import type { ImageReply } from '../../protocols/messages.js';
import type { Subjects } from '../../protocols/subjects.js';
import type { Clock } from '../../runtime/clock.js';
import type { Orm } from '../../runtime/db/orm.js';
import type { Logger } from '../../runtime/log/logger.js';
import type { Bridge, Service } from '../../runtime/nats/bridge.js';
import { imageView } from './image-view.js';
import { createSnapshotImage, parseHostForm, rotateBackups } from './image-snapshot.js';

export interface SnapshotEndpointDeps {
  /** An image was created (the role forgets it was missing). */
  created(id: string): void;
  /** Sends `verb` to the image's actor (404 for an image known missing). */
  ask(id: string, verb: string, body: Record<string, unknown>): Promise<unknown>;
}

export function registerSnapshotVerbs(bridge: Bridge, svc: Service, subjects: Subjects, orm: Orm, clock: Clock, log: Logger, d: SnapshotEndpointDeps): void {
  const opts = { queue: 'image' };
  bridge.endpoint(svc, ImageSnapshotCreate, async (body, req) => {
    // Mutating verbs always carry a key (the bridge refuses them otherwise).
    const row = await createSnapshotImage(orm, body, req.envelope.idempotencyKey!, new Date(clock.now()));
    d.created(row.id);
    const reply = { image: imageView(row) } satisfies ImageReply;
    bridge.publish(subjects.event('image', row.id, 'create'), reply);
    return reply;
  }, opts);
  bridge.endpoint(svc, ImageBackupRotate, async (body) => {
    const deleted = await rotateBackups(orm, body, (id) => d.ask(id, 'delete', {}), (id, err) => log.warn('backup not rotated', { image: id, err: err.message }));
    return { deleted };
  }, opts);
  const hostForm = (def: RequestDef) => bridge.endpoint(svc, def, (body, req) => {
    const at = parseHostForm(subjects, req.subject, def.verb);
    if (!at) throw new NotFoundError(`no image at ${req.subject}`);
    return d.ask(at.id, def.verb, { ...(body as Record<string, unknown>), host: at.host }) as never;
  }, opts);
  hostForm(ImageSnapshotBegin);
  hostForm(ImageSnapshotAbort);
  hostForm(ImageHostDownload);
}
