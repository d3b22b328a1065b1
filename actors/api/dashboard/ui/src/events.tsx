/** The live feed as a list, newest first. */
import type { FeedEvent } from '../../feed-types';
import type { Cloud } from './store';

function describe(e: FeedEvent): { subject: string; what: string } {
  switch (e.kind) {
    case 'instance': return { subject: e.server.name, what: `${e.event} → ${e.server.status}` };
    case 'service': return { subject: e.host, what: e.event === 'delete' ? 'service deleted' : `service ${e.status ?? ''} (${e.state ?? ''})` };
    case 'image': return { subject: e.image.name || e.image.id, what: `image ${e.event} → ${e.image.status}` };
  }
}

export function EventFeed({ cloud, compact }: { cloud: Cloud; compact?: boolean }) {
  const lines = compact ? cloud.feed.slice(0, 12) : cloud.feed;
  return (
    <section class={compact ? 'feed compact' : 'feed'}>
      <h2>Live events <span class={cloud.feedUp ? 'dot up' : 'dot'} data-testid="feed-state" data-up={String(cloud.feedUp)} title={cloud.feedUp ? 'connected' : 'reconnecting'} /></h2>
      {lines.length === 0 && <p class="muted">Nothing yet.</p>}
      <ol>
        {lines.map(({ at, e }, i) => {
          const d = describe(e);
          return <li key={`${at}-${i}`} data-kind={e.kind} data-event={e.kind === 'instance' ? e.event : undefined}><time>{new Date(at).toLocaleTimeString()}</time> <b>{d.subject}</b> {d.what}</li>;
        })}
      </ol>
    </section>
  );
}
