/**
 * A host's upload of snapshot data to the image role, as the `{write, finish, abort}` sink a driver's
 * `snapshot(uuid, sink)` writes into. The first write (or finish, for empty data) opens the session
 * (`snapshot-begin`: the image goes queued → saving); bytes are re-cut into the session's chunk size
 * and sent in order, each naming its offset; `finish` makes the image active with the checksum and
 * os_hash_value the image role computed; `abort` deletes the image. Every subject ends in this
 * host's name, the only forms its NATS identity may publish.
 */
import { ImageSnapshotAbort, ImageSnapshotBegin, ImageSnapshotChunk } from '../../protocols/catalog/image-snapshot.js';
import type { RequestDef, ReplyOf } from '../../protocols/catalog/define.js';
import { firstError } from '../../protocols/catalog/define.js';
import { ConflictError, InternalError, NotFoundError } from '../../protocols/errors.js';
import type { Subjects } from '../../protocols/subjects.js';
import type { Bridge } from '../../runtime/nats/bridge.js';

export interface ImageDataSink {
  write(chunk: Uint8Array): Promise<void>;
  finish(): Promise<void>;
  abort(): Promise<void>;
}

export interface SinkOptions {
  /** Per request (default: the bridge's). */
  timeoutMs?: number;
}

/** A catalog request on `subjects` (which may differ from the bridge's default), reply checked. */
export async function askImageRole<D extends RequestDef>(bridge: Bridge, def: D, subject: string, body: unknown, timeoutMs: number, idempotencyKey?: string): Promise<ReplyOf<D>> {
  const reply = await bridge.request<unknown>(subject, def.verb, body, idempotencyKey === undefined ? { timeoutMs } : { timeoutMs, idempotencyKey });
  if (!def.checkReply.Check(reply)) throw new InternalError(`the reply to '${def.verb}' does not match its schema (${firstError(def.checkReply, reply)})`);
  return reply as ReplyOf<D>;
}

export function createSnapshotSink(bridge: Bridge, subjects: Subjects, hostName: string, imageId: string, opts: SinkOptions = {}): ImageDataSink {
  const timeoutMs = opts.timeoutMs ?? bridge.defaultTimeoutMs;
  let session: { subject: string; chunkBytes: number } | undefined;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let offset = 0;
  let closed = false;
  // Calls run one after another, in the order made: chunks must arrive in offset order.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(f: () => Promise<T>): Promise<T> => {
    const next = queue.then(f);
    queue = next.catch(() => undefined);
    return next;
  };

  const begin = async () => {
    if (session) return session;
    const r = await askImageRole(bridge, ImageSnapshotBegin, ImageSnapshotBegin.subject(subjects, imageId, hostName), {}, timeoutMs, `snapshot-begin:${imageId}:${hostName}`);
    session = { subject: ImageSnapshotChunk.subject(subjects, imageId, r.session, hostName), chunkBytes: r.chunkBytes };
    return session;
  };
  const step = (s: { subject: string }, body: Record<string, unknown>) => askImageRole(bridge, ImageSnapshotChunk, s.subject, body, timeoutMs);
  const send = async (s: { subject: string }, b: Buffer) => {
    await step(s, { offset, data: b.toString('base64') });
    offset += b.length;
  };
  const open = () => {
    if (closed) throw new ConflictError(`the snapshot upload of image ${imageId} is closed`);
  };

  return {
    write: (chunk) => serial(async () => {
      open();
      const s = await begin();
      // Copied: the caller may reuse its buffer once write resolves.
      pending.push(Buffer.from(chunk));
      pendingBytes += chunk.byteLength;
      if (pendingBytes < s.chunkBytes) return;
      let all = Buffer.concat(pending);
      while (all.length >= s.chunkBytes) {
        await send(s, all.subarray(0, s.chunkBytes));
        all = all.subarray(s.chunkBytes);
      }
      pending = all.length > 0 ? [all] : [];
      pendingBytes = all.length;
    }),
    finish: () => serial(async () => {
      open();
      const s = await begin();
      if (pendingBytes > 0) await send(s, Buffer.concat(pending));
      pending = [];
      pendingBytes = 0;
      await step(s, { offset, done: true });
      closed = true;
    }),
    abort: () => serial(async () => {
      if (closed) return;
      closed = true;
      // Best effort on the session (its replica may be gone), then the image itself: deleted.
      if (session) await step(session, { abort: true }).catch(() => undefined);
      await askImageRole(bridge, ImageSnapshotAbort, ImageSnapshotAbort.subject(subjects, imageId, hostName), {}, timeoutMs, `snapshot-abort:${imageId}:${hostName}`)
        .catch((err) => {
          // Already gone (the session's abort deleted it): what abort wanted.
          if (!(err instanceof NotFoundError)) throw err;
        });
    }),
  };
}
