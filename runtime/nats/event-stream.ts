/**
 * Notifications (`<root>.evt.>`) are kept in a JetStream stream, so an operator or an embedder can
 * replay what happened (`nats stream view NOVACT_EVENTS`) instead of only seeing what it was
 * subscribed to at the time. Publishers stay on plain NATS publish: the stream captures them.
 */
import { nanos, RetentionPolicy, StorageType, type NatsConnection } from 'nats';
import type { Logger } from '../log/logger.js';

export interface EventStreamOptions {
  name: string;
  maxAgeMs: number;
  maxMessages: number;
}

export async function ensureEventStream(nc: NatsConnection, subject: string, log: Logger, opts: EventStreamOptions): Promise<boolean> {
  try {
    const jsm = await nc.jetstreamManager();
    const config = {
      name: opts.name,
      subjects: [subject],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: nanos(opts.maxAgeMs),
      max_msgs: opts.maxMessages,
    };
    try {
      await jsm.streams.info(opts.name);
      await jsm.streams.update(opts.name, config);
    } catch {
      await jsm.streams.add(config);
    }
    return true;
  } catch (err) {
    // A NATS without JetStream still runs novact; notifications are then live-only.
    log.warn('event stream unavailable; notifications are not kept', { stream: opts.name, err: err instanceof Error ? err.message : String(err) });
    return false;
  }
}
