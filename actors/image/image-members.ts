/**
 * The image actor's `members` verb: Glance's image members (sharing). Runs inside the image's actor,
 * so member changes are serialised with the image's own (a visibility change cannot race a share);
 * each write is one conditional statement. Who may do which op (owner adds and removes, the member
 * answers) is the API's check: it knows the caller; this verb knows the image.
 */
import { ConflictError, ForbiddenError, NotFoundError, OverLimitError } from '../../protocols/errors.js';
import type { ImageMemberView, ImageMembersReply } from '../../protocols/catalog/image.js';
import { ImageMember, type ImageMemberRow, type ImageMemberStatus, type ImageRow } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';
import type { Clock } from '../../runtime/clock.js';
import type { ImageVerb } from './image-verb-types.js';

/** Glance's `image_member_quota` default. */
export const MAX_MEMBERS = 128;

interface MembersBody { op: 'add' | 'list' | 'get' | 'update' | 'remove'; memberId?: string | null; status?: ImageMemberStatus | null }

export function memberView(m: ImageMemberRow): ImageMemberView {
  return { imageId: m.imageId, memberId: m.member, status: m.status, createdAt: m.createdAt.toISOString(), updatedAt: m.updatedAt.toISOString() };
}

export function membersVerb(orm: Orm, clock: Clock): ImageVerb {
  return async (row: ImageRow, raw) => {
    const body = raw as unknown as MembersBody;
    // Glance refuses every member operation on an image that is not `shared`.
    if (row.visibility !== 'shared') throw new ForbiddenError('Only shared images have members.');
    const em = orm.em.fork();
    const imageId = row.id;
    const memberId = body.memberId ?? undefined;
    const needMember = () => {
      if (memberId === undefined) throw new NotFoundError('A member id is required.');
      return memberId;
    };
    const find = async (member: string) => {
      const m = await em.findOne(ImageMember, { imageId, member }, { disableIdentityMap: true });
      if (!m) throw new NotFoundError(`${member} is not a member of image ${imageId}`);
      return m;
    };
    const reply = (members: ImageMemberRow[]) => ({ row, reply: { members: members.map(memberView) } satisfies ImageMembersReply });

    switch (body.op) {
      case 'list': {
        const where = memberId === undefined ? { imageId } : { imageId, member: memberId };
        return reply(await em.find(ImageMember, where, { orderBy: { createdAt: 'asc', member: 'asc' }, disableIdentityMap: true }));
      }
      case 'get':
        return reply([await find(needMember())]);
      case 'add': {
        const member = needMember();
        if ((await em.count(ImageMember, { imageId })) >= MAX_MEMBERS) {
          throw new OverLimitError(`The number of members of image ${imageId} would exceed its limit of ${MAX_MEMBERS}.`);
        }
        const now = new Date(clock.now());
        const m: ImageMemberRow = { imageId, member, status: 'pending', createdAt: now, updatedAt: now, version: 1 };
        const res = await em.createQueryBuilder(ImageMember).insert(m).onConflict(['imageId', 'member']).ignore().execute('run');
        if (res.affectedRows === 0) throw new ConflictError(`Member ${member} already exists for image ${imageId}.`);
        return reply([m]);
      }
      case 'update': {
        const m = await find(needMember());
        const status = body.status ?? 'pending';
        const updatedAt = new Date(clock.now());
        const n = await em.nativeUpdate(ImageMember, { imageId, member: m.member, version: m.version }, { status, updatedAt, version: m.version + 1 });
        if (n !== 1) throw new ConflictError(`member ${m.member} of image ${imageId} changed concurrently; retry`);
        return reply([{ ...m, status, updatedAt, version: m.version + 1 }]);
      }
      case 'remove': {
        const m = await find(needMember());
        const n = await em.nativeDelete(ImageMember, { imageId, member: m.member });
        if (n !== 1) throw new NotFoundError(`${m.member} is not a member of image ${imageId}`);
        return reply([m]);
      }
    }
  };
}
