/**
 * The live event feed (`/dashboard/api/events`, server-sent events), read with fetch so the token
 * goes in a header rather than the URL (EventSource cannot send headers). Reconnects with a growing
 * pause until stopped; each connection starts with a `hello`.
 */
import type { FeedEvent, FeedHello } from '../../feed-types';

export interface FeedHandlers {
  event(e: FeedEvent): void;
  state(connected: boolean, hello?: FeedHello): void;
}

/** Splits an SSE byte stream into (event name, data) pairs; comments (heartbeats) are skipped. */
function* frames(buffer: { text: string }): Generator<[string, string]> {
  let end: number;
  while ((end = buffer.text.indexOf('\n\n')) >= 0) {
    const block = buffer.text.slice(0, end);
    buffer.text = buffer.text.slice(end + 2);
    let name = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event: ')) name = line.slice(7);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length > 0) yield [name, data.join('\n')];
  }
}

export function openFeed(token: string, on: FeedHandlers): () => void {
  const stop = new AbortController();
  let pause = 500;
  const run = async () => {
    while (!stop.signal.aborted) {
      try {
        const res = await fetch('/dashboard/api/events', { headers: { 'X-Auth-Token': token }, signal: stop.signal });
        if (res.status === 401) return on.state(false);
        if (!res.ok || !res.body) throw new Error(`feed: HTTP ${res.status}`);
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        const buffer = { text: '' };
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer.text += value;
          for (const [name, data] of frames(buffer)) {
            const parsed = JSON.parse(data) as unknown;
            if (name === 'hello') { pause = 500; on.state(true, parsed as FeedHello); } else on.event(parsed as FeedEvent);
          }
        }
      } catch {
        if (stop.signal.aborted) return;
      }
      on.state(false);
      await new Promise((r) => setTimeout(r, pause));
      pause = Math.min(pause * 2, 10_000);
    }
  };
  void run();
  return () => stop.abort();
}
