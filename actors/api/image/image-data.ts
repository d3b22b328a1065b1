/**
 * Image data: `PUT /image/v2/images/{id}/file` (raw bytes, `application/octet-stream`, 204) and
 * `GET …/file` (200, streamed; 204 when the image has no data). The API holds no data: an upload is
 * relayed chunk by chunk, as it arrives, to the image replica that opened the upload session (the
 * image goes queued → saving → active, with size, MD5 `checksum` and SHA-512 `os_hash_value`); a
 * download is read chunk by chunk from the image role as the client consumes it. A failed or
 * abandoned upload returns the image to `queued`. `PUT …/stage` takes data the same way for a
 * later `glance-direct` import: the image goes queued → uploading and its data waits aside.
 */
import { Readable } from 'node:stream';
import type { FastifyRequest } from 'fastify';
import { CHUNK_BYTES } from '../../../protocols/image-upload.js';
import type { UploadSession } from '../backend.js';
import { authOf } from '../context.js';
import type { ApiDeps } from '../deps.js';
import { ApiError, conflict, forbidden } from '../faults.js';
import { member, reader } from '../policy.js';
import { param, type Route } from '../routes.js';
import { owns, visibleImage } from './images.js';

const tooLarge = (cap: number) => new ApiError(413, `Image exceeds the storage quota: the size cap is ${cap} bytes.`);

async function relay(d: ApiDeps, s: UploadSession, body: Readable): Promise<void> {
  const cap = d.imageSizeCapBytes;
  let offset = 0;
  let buffered: Buffer[] = [];
  let size = 0;
  const send = async (b: Buffer) => {
    await d.backend.uploadStep(s.subject, { offset, data: b.toString('base64') });
    offset += b.length;
  };
  for await (const chunk of body as AsyncIterable<Buffer>) {
    buffered.push(chunk);
    size += chunk.length;
    if (offset + size > cap) throw tooLarge(cap);
    while (size >= s.chunkBytes) {
      const all = Buffer.concat(buffered);
      await send(all.subarray(0, s.chunkBytes));
      buffered = [all.subarray(s.chunkBytes)];
      size = all.length - s.chunkBytes;
    }
  }
  if (size > 0) await send(Buffer.concat(buffered));
  await d.backend.uploadStep(s.subject, { offset, done: true });
}

async function* chunks(d: ApiDeps, id: string, first: Buffer, eof: boolean, key: string): AsyncGenerator<Buffer> {
  yield first;
  let offset = first.length;
  let done = eof;
  for (let i = 1; !done; i++) {
    const r = await d.backend.download(id, offset, CHUNK_BYTES, `${key}:${i}`);
    const b = Buffer.from(r.data, 'base64');
    if (b.length > 0) yield b;
    offset += b.length;
    done = r.eof || b.length === 0;
  }
}

export function imageDataRoutes(d: ApiDeps): Route[] {
  const upload = async (req: FastifyRequest, stage: boolean) => {
    const auth = authOf(req);
    const m = await visibleImage(d, auth, param(req, 'id'));
    if (!owns(auth, m)) throw forbidden('You are not permitted to upload data for this image.');
    if (!(req.body instanceof Readable)) throw new ApiError(415, 'Image data must be sent as application/octet-stream.');
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > d.imageSizeCapBytes) throw tooLarge(d.imageSizeCapBytes);
    if (m.status !== 'queued') throw conflict(`Image status transition from ${m.status} to ${stage ? 'uploading' : 'saving'} is not allowed`);
    const session = await d.backend.uploadBegin(m.id, d.imageQuotas.userStorageQuotaBytes, req.id, stage);
    try {
      await relay(d, session, req.body);
    } catch (err) {
      // Best effort: the session also aborts itself when it hears nothing for a while.
      await d.backend.uploadStep(session.subject, { abort: true }).catch(() => undefined);
      req.body.resume();
      throw err;
    }
  };

  const put = (path: 'file' | 'stage'): Route => ({
    method: 'PUT', url: `/image/v2/images/:id/${path}`, policy: member(path === 'file' ? 'upload_image' : 'stage_image'), body: 'octet',
    handler: async (req, reply) => {
      await upload(req, path === 'stage');
      return reply.code(204).send();
    },
  });
  return [
    put('file'),
    put('stage'),
    {
      method: 'GET', url: '/image/v2/images/:id/file', policy: reader('download_image'),
      handler: async (req, reply) => {
        const auth = authOf(req);
        const m = await visibleImage(d, auth, param(req, 'id'));
        if (m.status === 'deactivated' && !auth.isAdmin) throw forbidden('The requested image has been deactivated. Image data download is forbidden.');
        if (m.status !== 'active' && m.status !== 'deactivated') return reply.code(204).send();
        const first = await d.backend.download(m.id, 0, CHUNK_BYTES, `${req.id}:0`);
        if (first.missing) return reply.code(204).send();
        reply.code(200).type('application/octet-stream').header('Content-Length', String(m.sizeBytes));
        if (m.checksum) reply.header('Content-MD5', m.checksum);
        return reply.send(Readable.from(chunks(d, m.id, Buffer.from(first.data, 'base64'), first.eof, req.id)));
      },
    },
  ];
}
