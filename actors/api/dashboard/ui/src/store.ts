/**
 * What the pages show, in one hook: the lists polled from the APIs (every few seconds, and soon after
 * any live event) and the live feed folded in as it arrives, so a state change shows at once rather
 * than at the next poll.
 */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import type { FeedEvent, FeedHello, FeedServer } from '../../feed-types';
import { Api, type Flavor, type Hypervisor, type Image, type Server, type Service } from './api';
import { openFeed } from './feed';

export interface FeedLine {
  at: number;
  e: FeedEvent;
}

export interface Cloud {
  servers: Server[] | undefined;
  hypervisors: Hypervisor[];
  services: Service[];
  images: Image[];
  flavors: Flavor[];
  feed: FeedLine[];
  feedUp: boolean;
  hello: FeedHello | undefined;
  /** Builds finished (`create.end`) per second over the last BUILD_WINDOW_MS. */
  buildsPerSecond: number;
  error: string | undefined;
  refresh(): void;
}

const POLL_MS = 3_000;
const BUILD_WINDOW_MS = 10_000;
const FEED_LINES = 200;

export function useCloud(api: Api): Cloud {
  const [servers, setServers] = useState<Server[] | undefined>(undefined);
  const [hypervisors, setHypervisors] = useState<Hypervisor[]>([]);
  const [services, setServices] = useState<Service[]>([]);
  const [images, setImages] = useState<Image[]>([]);
  const [flavors, setFlavors] = useState<Flavor[]>([]);
  const [feed, setFeed] = useState<FeedLine[]>([]);
  const [feedUp, setFeedUp] = useState(false);
  const [hello, setHello] = useState<FeedHello | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [now, setNow] = useState(Date.now());
  const builds = useRef<number[]>([]);
  const soon = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const admin = api.session.admin;

  const refresh = useCallback(() => {
    const lists = Promise.all([
      api.get<{ servers: Server[] }>('/v2.1/servers/detail').then((b) => setServers(b.servers)),
      api.get<{ images: Image[] }>('/image/v2/images?limit=200').then((b) => setImages(b.images)),
      api.get<{ flavors: Flavor[] }>('/v2.1/flavors/detail').then((b) => setFlavors(b.flavors)),
      ...(admin ? [
        api.get<{ hypervisors: Hypervisor[] }>('/v2.1/os-hypervisors/detail').then((b) => setHypervisors(b.hypervisors)),
        api.get<{ services: Service[] }>('/v2.1/os-services?binary=nova-compute').then((b) => setServices(b.services)),
      ] : []),
    ]);
    lists.then(() => setError(undefined), (e: Error) => setError(e.message));
  }, [api]);

  /** A refresh shortly after a burst of events (one, not one per event). */
  const refreshSoon = useCallback(() => {
    if (soon.current) return;
    soon.current = setTimeout(() => { soon.current = undefined; refresh(); }, 400);
  }, [refresh]);

  useEffect(() => {
    refresh();
    const poll = setInterval(() => { refresh(); setNow(Date.now()); }, POLL_MS);
    const tick = setInterval(() => setNow(Date.now()), 1_000);
    const stop = openFeed(api.session.token, {
      state: (up, h) => { setFeedUp(up); if (h) setHello(h); },
      event: (e) => {
        const at = Date.now();
        setFeed((f) => [{ at, e }, ...f].slice(0, FEED_LINES));
        if (e.kind === 'instance') {
          if (e.event === 'create.end') builds.current.push(at);
          setServers((list) => list && mergeServer(list, e.server));
        }
        refreshSoon();
      },
    });
    return () => { clearInterval(poll); clearInterval(tick); clearTimeout(soon.current); stop(); };
  }, [api]);

  builds.current = builds.current.filter((t) => now - t < BUILD_WINDOW_MS);
  return { servers, hypervisors, services, images, flavors, feed, feedUp, hello, error, refresh, buildsPerSecond: builds.current.length / (BUILD_WINDOW_MS / 1000) };
}

/** A server's new state from the feed, over the listed one (a deleted one leaves the list). */
function mergeServer(list: Server[], s: FeedServer): Server[] {
  if (s.status === 'DELETED') return list.filter((x) => x.id !== s.id);
  const known = list.some((x) => x.id === s.id);
  if (!known) return list;
  return list.map((x) => x.id !== s.id ? x : {
    ...x, name: s.name, status: s.status, updated: s.updatedAt,
    'OS-EXT-STS:task_state': s.taskState, 'OS-EXT-STS:power_state': s.powerState,
    ...(s.host !== undefined ? { 'OS-EXT-SRV-ATTR:host': s.host } : {}),
  });
}
