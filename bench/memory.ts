/**
 * Memory per idle host: heap of the compute role with H FakeDrivers against a real nats-server
 * (no database), beyond the drivers' own state. Needs `global.gc`; when this process was not started
 * with `--expose-gc` (plain `npm run bench`), the measurement runs in a child started with
 * `node --expose-gc --import tsx`, and the output says so. Prints one JSON line.
 *
 * Phases, each measured as the heapUsed delta after forced GCs, divided by H:
 *   A. H FakeDrivers and their `{ name, driver }` entries (what `fakeHosts()` makes): the driver's state;
 *   B. startComputeRole over them, after the first report and heartbeat went out: idle hosts (a
 *      record each, a subscription each — the host identity is allowed only its own hosts' subjects —
 *      no actors; `--wildcard`: one subscription for all, as a fleet identity trusted with every host
 *      name may take) — the target is ≤ 1 KiB;
 *   C. breakdown of B: H bare host records in a map, as the role keeps them; the rest is shared
 *      (subscription, registry, ticker) or per-host overhead outside the record;
 *   D. every host woken by one `get` over NATS: the cost of a live host actor (per live actor), then
 *      the heap once they have all passivated again.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startComputeRole, type ComputeHost } from '../actors/compute/compute-role.js';
import { newHostRecord } from '../actors/compute/host-record.js';
import { FakeDriver } from '../hosts/fake/fake-driver.js';
import { Subjects } from '../protocols/subjects.js';
import { ActorSystem } from '../runtime/actors/system.js';
import { systemClock } from '../runtime/clock.js';
import { createLogger } from '../runtime/log/logger.js';
import { Bridge } from '../runtime/nats/bridge.js';
import { connectNats } from '../runtime/nats/connection.js';
import { startEmbeddedNats } from '../runtime/nats/embedded-nats.js';
import { newHostIdentity } from '../runtime/nats/host-identity.js';
import { hostInboxPrefix, roleInboxPrefix } from '../protocols/host-identity.js';
import type { RoleContext } from '../runtime/role.js';

export interface MemoryBenchOptions {
  hosts: number;
  /** One wildcard subscription (a fleet identity) instead of one per host (a host identity). */
  wildcard?: boolean;
}

const CHILD_ENV = 'NOVACT_BENCH_MEMORY_CHILD';
const gcFn = (globalThis as { gc?: () => void }).gc;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Several full GCs with turns in between (weak refs, finalizers), then heap figures. */
async function settle(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 4; i++) {
    gcFn?.();
    await new Promise((r) => setImmediate(r));
  }
  return process.memoryUsage();
}

export async function memoryBench(o: MemoryBenchOptions): Promise<Record<string, unknown>> {
  if (gcFn === undefined && process.env[CHILD_ENV] === undefined) return inChild(o);
  return measure(o);
}

/** Re-runs this benchmark in `node --expose-gc --import tsx bench/main.ts memory …` and relays its line. */
async function inChild(o: MemoryBenchOptions): Promise<Record<string, unknown>> {
  const main = fileURLToPath(new URL('./main.ts', import.meta.url));
  const root = fileURLToPath(new URL('..', import.meta.url));
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', main, 'memory', '--hosts', String(o.hosts), ...(o.wildcard ? ['--wildcard'] : [])], {
    cwd: root,
    env: { ...process.env, [CHILD_ENV]: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => (out += d));
  const code = await new Promise<number | null>((r) => child.on('close', r));
  const line = out.trim().split('\n').pop() ?? '';
  if (code !== 0 || !line.startsWith('{')) throw new Error(`memory bench child exited with ${code}: ${out.slice(-500)}`);
  return { ...(JSON.parse(line) as Record<string, unknown>), measuredIn: 'child: node --expose-gc --import tsx' };
}

/** Idle time after which a woken host actor passivates in phase D. */
const BENCH_HOST_IDLE_MS = 5_000;

async function measure(o: MemoryBenchOptions): Promise<Record<string, unknown>> {
  const H = o.hosts;
  const subjects = new Subjects();
  const names = Array.from({ length: H }, (_, i) => `compute-${i + 1}`);
  const id = newHostIdentity();
  const embedded = await startEmbeddedNats({
    subjectRoot: subjects.root,
    ...(o.wildcard ? { anyHostKeys: [id.publicKey] } : { hostUsers: [{ publicKey: id.publicKey, hosts: names }] }),
  });
  const { server: nats, auth } = embedded;
  const log = createLogger('error');
  const actors = new ActorSystem(systemClock, log);
  const nc = await connectNats({ servers: nats.url, name: 'novact-compute', nkeySeed: id.seed, inboxPrefix: hostInboxPrefix(id.publicKey) });
  const clientNc = await connectNats({ servers: nats.url, name: 'bench-client', user: auth.client.user, pass: auth.client.pass, inboxPrefix: roleInboxPrefix('client') });
  const ctx: RoleContext = { bridge: new Bridge(nc, systemClock, log, 10_000), subjects, actors, clock: systemClock, log, requestTimeoutMs: 10_000 };
  const keep: unknown[] = [];
  try {
    const m0 = await settle();

    // A. The drivers (and the entries fakeHosts() builds around them).
    const hosts: ComputeHost[] = names.map((name) => ({ name, driver: new FakeDriver({ hostname: name }) }));
    const m1 = await settle();

    // B. The compute role, idle: first report and heartbeat sent.
    const role = await startComputeRole(ctx, hosts, { hostIdleMs: BENCH_HOST_IDLE_MS, ...(o.wildcard ? { wildcardSubscriptionAbove: 0 } : {}) });
    await nc.flush();
    await sleep(1000);
    await nc.flush();
    const m2 = await settle();

    // C. What the per-host records alone cost (a copy kept beside the role's).
    const records = new Map(hosts.map((h) => [h.name, newHostRecord(h.name, h.driver, null)]));
    keep.push(records);
    const m3 = await settle();

    // D. Wake every host with one read, then let them all passivate.
    let passivated = 0;
    const allPassivated = new Promise<void>((resolve) => role.events.on('passivated', () => ++passivated === H && resolve()));
    const client = new Bridge(clientNc, systemClock, log, 10_000);
    for (let i = 0; i < H; i += 500) {
      const batch = hosts.slice(i, i + 500).map((h) => client.request(subjects.host(h.name, 'get'), 'get', {}, { timeoutMs: 30_000 }));
      await Promise.all(batch);
    }
    const live = role.liveHostActors;
    const m4 = await settle();
    await allPassivated;
    const m5 = await settle();

    const per = (a: NodeJS.MemoryUsage, b: NodeJS.MemoryUsage, k: 'heapUsed' | 'external', n = H) => Math.round((b[k] - a[k]) / Math.max(1, n));
    const idle = per(m1, m2, 'heapUsed');
    const record = per(m2, m3, 'heapUsed');
    const result = {
      bench: 'memory',
      hosts: H,
      gcExposed: gcFn !== undefined,
      routing: role.routing,
      bytesPerHost: {
        driverState: per(m0, m1, 'heapUsed'),
        idleHost: idle,
        idleHostExternal: per(m1, m2, 'external'),
        breakdown: { hostRecord: record, rest: idle - record },
        liveHostActor: per(m3, m4, 'heapUsed', live),
        afterPassivation: per(m3, m5, 'heapUsed'),
      },
      liveHostActorsWoken: live,
      targetBytesPerIdleHost: 1024,
      heapUsedMb: {
        base: Math.round(m0.heapUsed / 1048576),
        drivers: Math.round(m1.heapUsed / 1048576),
        role: Math.round(m2.heapUsed / 1048576),
        woken: Math.round(m4.heapUsed / 1048576),
      },
      rssMb: Math.round(m2.rss / 1048576),
    };
    keep.push(role);
    await role.stop();
    return result;
  } finally {
    actors.stop();
    await Promise.allSettled([nc.drain(), clientNc.drain()]);
    await nats.stop();
  }
}
