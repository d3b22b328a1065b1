/**
 * Mixed server-action workload: boot N servers over H fake hosts, then for S seconds keep C actions
 * in flight, each on an idle server and chosen for its state (stop/start, reboot, pause/unpause, and
 * resize/confirm and migrate/confirm when the lifecycle has them). Latency is request → the action's
 * `.end` notification. Prints one JSON line; asserts nothing.
 */
import { ACTIONS, type ActionName } from '../protocols/lifecycle.js';
import { startBenchCluster } from './bench-cluster.js';
import { percentiles } from './percentiles.js';

export interface ActionsBenchOptions {
  hosts: number;
  servers: number;
  seconds: number;
  concurrency: number;
}

type Known = 'ACTIVE' | 'SHUTOFF' | 'PAUSED' | 'VERIFY_RESIZE';
interface Move { action: ActionName; args: unknown; endsIn: Known }

const has = (n: string): n is ActionName => Object.hasOwn(ACTIONS, n);

/** What may be done from each state, with the state it ends in. */
function menu(): Record<Known, Move[]> {
  const active: Move[] = [
    { action: 'stop', args: null, endsIn: 'SHUTOFF' },
    { action: 'reboot', args: { type: 'SOFT' }, endsIn: 'ACTIVE' },
    { action: 'pause', args: null, endsIn: 'PAUSED' },
  ];
  if (has('resize')) active.push({ action: 'resize' as ActionName, args: { flavorRef: 'm1.small' }, endsIn: 'VERIFY_RESIZE' });
  if (has('migrate')) active.push({ action: 'migrate' as ActionName, args: null, endsIn: 'VERIFY_RESIZE' });
  return {
    ACTIVE: active,
    SHUTOFF: [{ action: 'start', args: null, endsIn: 'ACTIVE' }],
    PAUSED: [{ action: 'unpause', args: null, endsIn: 'ACTIVE' }],
    VERIFY_RESIZE: has('confirmResize') ? [{ action: 'confirmResize' as ActionName, args: null, endsIn: 'ACTIVE' }] : [],
  };
}

export async function actionsBench(o: ActionsBenchOptions): Promise<Record<string, unknown>> {
  const cluster = await startBenchCluster(o.hosts);
  try {
    const { client, subjects } = cluster;
    const image = (await client.listImages())[0]!;
    const moves = menu();
    // Every server is idle in a known state, or busy with one action since `t0`.
    const state = new Map<string, Known>();
    const busy = new Map<string, { move: Move; t0: number }>();
    const latency = new Map<string, number[]>();
    const errors = new Map<string, number>();
    let done = 0;
    let waiters: (() => void)[] = [];
    const wake = () => { const w = waiters; waiters = []; for (const f of w) f(); };
    const parked = () => new Promise<void>((r) => waiters.push(r));

    const nc = client.bridge.nc;
    const sub = nc.subscribe(`${subjects.root}.evt.instance.*.*.*`, {
      callback: (_e, m) => {
        const parts = m.subject.split('.');
        const id = parts[parts.length - 3]!;
        const phase = parts[parts.length - 1];
        const b = busy.get(id);
        if (!b || (phase !== 'end' && phase !== 'error')) return;
        busy.delete(id);
        const name = b.move.action;
        if (phase === 'end') {
          (latency.get(name) ?? latency.set(name, []).get(name)!).push(performance.now() - b.t0);
          state.set(id, b.move.endsIn);
        } else {
          errors.set(name, (errors.get(name) ?? 0) + 1);
          void client.getServer(id).then((s) => { if (s.status in moves) state.set(id, s.status as Known); });
        }
        done++;
        wake();
      },
    });
    await nc.flush();

    // Boot the fleet (64 at a time) and wait until every server is ACTIVE.
    const ids: string[] = [];
    for (let i = 0; i < o.servers; i += 64) {
      const batch = await Promise.all(Array.from({ length: Math.min(64, o.servers - i) }, (_, j) =>
        client.createServer({ name: `act-${i + j}`, flavorRef: 'm1.tiny', imageRef: image.id })));
      ids.push(...batch.map((s) => s.id));
    }
    for (let i = 0; i < ids.length; i += 256) {
      await Promise.all(ids.slice(i, i + 256).map((id) => client.waitForServer(id, (s) => s.status === 'ACTIVE' && s.taskState === null, 300_000)));
    }
    for (const id of ids) state.set(id, 'ACTIVE');

    const idle = () => ids.filter((id) => !busy.has(id) && state.has(id));
    let refused = 0;
    const t0 = performance.now();
    const until = t0 + o.seconds * 1000;
    const worker = async () => {
      while (performance.now() < until) {
        const pool = idle();
        const id = pool[Math.floor(Math.random() * pool.length)];
        if (!id) { await parked(); continue; }
        const options = moves[state.get(id)!];
        const move = options[Math.floor(Math.random() * options.length)];
        if (!move) { state.delete(id); continue; }
        state.delete(id);
        busy.set(id, { move, t0: performance.now() });
        try {
          await client.serverAction(id, move.action, move.args as never);
        } catch {
          busy.delete(id);
          refused++;
          void client.getServer(id).then((s) => { if (s.status in moves && s.taskState === null) state.set(id, s.status as Known); });
          continue;
        }
        while (busy.has(id) && performance.now() < until + 60_000) await parked();
      }
    };
    await Promise.all(Array.from({ length: o.concurrency }, worker));
    const seconds = (performance.now() - t0) / 1000;
    sub.unsubscribe();
    const per: Record<string, unknown> = {};
    for (const [name, l] of latency) per[name] = { n: l.length, ...percentiles(l, [50, 99]), errors: errors.get(name) ?? 0 };
    return {
      bench: 'actions',
      hosts: o.hosts,
      servers: o.servers,
      concurrency: o.concurrency,
      seconds: Math.round(seconds * 100) / 100,
      actions: done,
      actionsPerSec: Math.round((done / seconds) * 10) / 10,
      refused,
      latencyMs: per,
      rssMb: Math.round(process.memoryUsage().rss / 1048576),
    };
  } finally {
    await cluster.stop();
  }
}
