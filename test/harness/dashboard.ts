/**
 * For the dashboard tests: the front end built (again, when a source is newer than the build), and a
 * reader of the live feed that keeps every event and comment it received, for assertions.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DASHBOARD_DIST } from '../../actors/api/dashboard/bundle.js';
import type { FeedEvent } from '../../actors/api/dashboard/feed-types.js';
import { waitFor } from './poll.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const UI = join(REPO, 'actors/api/dashboard/ui');

function newest(dir: string): number {
  let t = 0;
  for (const name of readdirSync(dir)) {
    if (name === 'dist' || name === 'node_modules') continue;
    const p = join(dir, name);
    const s = statSync(p);
    t = Math.max(t, s.isDirectory() ? newest(p) : s.mtimeMs);
  }
  return t;
}

/** Builds the bundle unless it is there and newer than every source (setup builds it; an edit may not have). */
export function ensureDashboardBuilt(): void {
  const index = join(DASHBOARD_DIST, 'index.html');
  const sources = Math.max(newest(UI), statSync(join(REPO, 'actors/api/dashboard/feed-types.ts')).mtimeMs);
  if (existsSync(index) && statSync(index).mtimeMs >= sources) return;
  execFileSync('npm', ['run', '--silent', 'build:dashboard'], { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
}

export interface FeedReader {
  status: number;
  /** Parsed events in arrival order (the first is the `hello`). */
  events: { name: string; data: any }[];
  /** Comment lines (heartbeats). */
  comments: string[];
  closed: boolean;
  instances(): FeedEvent[];
  waitFor(what: string, match: (e: { name: string; data: any }) => boolean, timeoutMs?: number): Promise<{ name: string; data: any }>;
  close(): void;
}

/** Opens `/dashboard/api/events` with `token` and reads it in the background until closed. */
export async function readFeed(base: string, token: string | undefined): Promise<FeedReader> {
  const stop = new AbortController();
  const res = await fetch(`${base}/dashboard/api/events`, { headers: token ? { 'X-Auth-Token': token } : {}, signal: stop.signal });
  const r: FeedReader = {
    status: res.status, events: [], comments: [], closed: false,
    instances: () => r.events.filter((e) => e.name === 'instance').map((e) => e.data),
    async waitFor(what, match, timeoutMs = 20_000) {
      await waitFor(what, () => r.events.some(match), timeoutMs);
      return r.events.find(match)!;
    },
    close: () => stop.abort(),
  };
  if (!res.ok || !res.body) {
    r.closed = true;
    return r;
  }
  void (async () => {
    let text = '';
    try {
      for await (const chunk of res.body!.pipeThrough(new TextDecoderStream())) {
        text += chunk;
        let end: number;
        while ((end = text.indexOf('\n\n')) >= 0) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          let name = 'message';
          let data: string | undefined;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) r.comments.push(line);
            else if (line.startsWith('event: ')) name = line.slice(7);
            else if (line.startsWith('data: ')) data = line.slice(6);
          }
          if (data !== undefined) r.events.push({ name, data: JSON.parse(data) });
        }
      }
    } catch {
      // Aborted, or the server ended the stream.
    }
    r.closed = true;
  })();
  return r;
}
