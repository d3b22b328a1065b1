/**
 * The dashboard's live feed: one set of bus subscriptions (instance, service and image
 * notifications) shared by every connected browser, made when the first one connects and dropped
 * with the last, so an API nobody watches pays nothing. Each message becomes, per viewer, the
 * event that viewer may see (feed-views.ts), written as a server-sent event.
 *
 * The bus never waits for a browser: a client whose unsent output passes `maxBufferedBytes` (it
 * stopped reading) is disconnected, not buffered for. Comments every `heartbeatMs` keep proxies and
 * the server's idle timeout from closing a quiet stream, and show a dead peer on the next write.
 */
import type { Bridge, BridgeSubscription } from '../../../runtime/nats/bridge.js';
import type { Logger } from '../../../runtime/log/logger.js';
import { InstanceEvent, ServiceDeleteEvent, ServiceEvent } from '../../../protocols/catalog/events.js';
import type { FeedEvent, FeedHello } from './feed-types.js';
import { imageFeed, instanceFeed, serviceFeed, serviceGoneFeed, type Viewer } from './feed-views.js';

export interface FeedOptions {
  heartbeatMs: number;
  /** Unsent bytes a client may have pending before it is dropped. */
  maxBufferedBytes: number;
  /** Streams open at once (each holds a socket); more are refused with a 503. */
  maxClients: number;
}

export const DEFAULT_FEED_OPTIONS: FeedOptions = { heartbeatMs: 15_000, maxBufferedBytes: 256 * 1024, maxClients: 1_000 };

/** What a stream is written to: Node's ServerResponse (or any Writable). */
export interface FeedSink {
  write(chunk: string): boolean;
  readonly writableLength: number;
  destroy(): void;
}

const frame = (name: string, data: unknown) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`;
const HEARTBEAT = ': keep-alive\n\n';

class FeedClient {
  constructor(readonly sink: FeedSink, readonly viewer: Viewer, private readonly maxBufferedBytes: number, private readonly gone: (c: FeedClient, lagging: boolean) => void) {}

  /** Writes, or drops the client when it is too far behind (counted in characters: near enough to bytes for JSON). */
  send(text: string): void {
    if (this.sink.writableLength + text.length > this.maxBufferedBytes) {
      this.close(true);
      return;
    }
    this.sink.write(text);
  }

  close(lagging: boolean): void {
    this.gone(this, lagging);
    this.sink.destroy();
  }
}

export class EventFeed {
  private readonly clients = new Set<FeedClient>();
  private subs: BridgeSubscription[] = [];
  private heartbeat: NodeJS.Timeout | undefined;
  /** Clients dropped for falling behind (a gauge for tests and logs). */
  dropped = 0;

  constructor(private readonly bridge: Bridge, private readonly log: Logger, readonly opts: FeedOptions = DEFAULT_FEED_OPTIONS) {}

  get size(): number { return this.clients.size; }
  get full(): boolean { return this.clients.size >= this.opts.maxClients; }
  /** Whether the bus subscriptions are open (only while a stream is). */
  get subscribed(): boolean { return this.subs.length > 0; }

  /** Starts a stream for `viewer` on `sink`; the answer ends it (call it when the peer goes). */
  add(sink: FeedSink, viewer: Viewer): () => void {
    const client = new FeedClient(sink, viewer, this.opts.maxBufferedBytes, (c, lagging) => this.remove(c, lagging));
    this.clients.add(client);
    if (this.clients.size === 1) this.open();
    client.send(frame('hello', { projectId: viewer.projectId, admin: viewer.admin } satisfies FeedHello));
    return () => this.remove(client, false);
  }

  /** Ends every stream (the server is stopping: open streams would hold its close). */
  close(): void {
    for (const c of [...this.clients]) c.close(false);
  }

  private remove(c: FeedClient, lagging: boolean): void {
    if (!this.clients.delete(c)) return;
    if (lagging) {
      this.dropped++;
      this.log.info('dashboard feed client dropped: too far behind', { projectId: c.viewer.projectId });
    }
    if (this.clients.size === 0) this.shut();
  }

  private open(): void {
    const b = this.bridge;
    this.subs = [
      b.on(InstanceEvent, (body, subject) => this.dispatch((v) => instanceFeed(body, subject, v))),
      b.on(ServiceEvent, (body) => this.dispatch((v) => serviceFeed(body, v))),
      b.on(ServiceDeleteEvent, (body) => this.dispatch((v) => serviceGoneFeed(body, v))),
      b.subscribe<unknown>(`${b.subjects.root}.evt.image.>`, (body, subject) => this.dispatch((v) => imageFeed(body, subject, v))),
    ];
    this.heartbeat = setInterval(() => { for (const c of [...this.clients]) c.send(HEARTBEAT); }, this.opts.heartbeatMs);
    this.heartbeat.unref();
  }

  private shut(): void {
    for (const s of this.subs) s.unsubscribe();
    this.subs = [];
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /** One message to every client, made and encoded once per distinct view (all admins share one). */
  private dispatch(make: (v: Viewer) => FeedEvent | undefined): void {
    const encoded = new Map<string, string | undefined>();
    for (const c of [...this.clients]) {
      const key = c.viewer.admin ? '' : c.viewer.projectId;
      let text = encoded.get(key);
      if (!encoded.has(key)) {
        const ev = make(c.viewer);
        text = ev && frame(ev.kind, ev);
        encoded.set(key, text);
      }
      if (text !== undefined) c.send(text);
    }
  }
}
