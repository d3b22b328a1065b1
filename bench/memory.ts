/**
 * Memory per idle host actor: heap of the compute role with H FakeDrivers against a real nats-server
 * (no database), beyond the drivers' own state. Needs `global.gc`; when this process was not started
 * with `--expose-gc` (plain `npm run bench`), the measurement runs in a child started with
 * `node --expose-gc --import tsx`, and the output says so. Prints one JSON line.
 *
 * Phases, each measured as the heapUsed delta after forced GCs, divided by H:
 *   A. H FakeDrivers and their `{ name, driver }` entries (what `fakeHosts()` makes): the driver's state;
 *   B. startComputeRole over them, after the first report and heartbeat went out: the host actors;
 *   C. breakdown of B: H bare NATS subscriptions like the one each host actor holds, then H bare
 *      nact actors spawned through the same ActorSystem.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startComputeRole, DEFAULT_COMPUTE_CONFIG, type ComputeHost } from '../actors/compute/compute-role.js';
import { FakeDriver } from '../hosts/fake/fake-driver.js';
import { Subjects } from '../protocols/subjects.js';
import { ActorSystem } from '../runtime/actors/system.js';
import { NATS_CONF } from '../runtime/cluster.js';
import { systemClock } from '../runtime/clock.js';
import { createLogger } from '../runtime/log/logger.js';
import { Bridge } from '../runtime/nats/bridge.js';
import { connectNats } from '../runtime/nats/connection.js';
import { authEnv, generateAuth } from '../runtime/nats/credentials.js';
import type { RoleContext } from '../runtime/role.js';
import { startNatsServer } from '../runtime/services/nats-server.js';

export interface MemoryBenchOptions {
  hosts: number;
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
  const child = spawn(process.execPath, ['--expose-gc', '--import', 'tsx', main, 'memory', '--hosts', String(o.hosts)], {
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

async function measure(o: MemoryBenchOptions): Promise<Record<string, unknown>> {
  const H = o.hosts;
  const auth = generateAuth();
  const nats = await startNatsServer({ configFile: NATS_CONF, env: authEnv(auth) });
  const log = createLogger('error');
  const actors = new ActorSystem(systemClock, log);
  const connect = (name: string) => connectNats({ servers: nats.url, name, user: auth.compute.user, pass: auth.compute.pass });
  const nc = await connect('novact-compute');
  const nc2 = await connect('bench-subs');
  const subjects = new Subjects();
  const ctx: RoleContext = { bridge: new Bridge(nc, systemClock, log, 10_000), subjects, actors, clock: systemClock, log, requestTimeoutMs: 10_000 };
  const keep: unknown[] = [];
  try {
    const m0 = await settle();

    // A. The drivers (and the entries fakeHosts() builds around them).
    const hosts: ComputeHost[] = Array.from({ length: H }, (_, i) => {
      const name = `compute-${i + 1}`;
      return { name, driver: new FakeDriver({ hostname: name }) };
    });
    const m1 = await settle();

    // B. The compute role: a host actor and a subscription per host, first report and heartbeat sent.
    const role = await startComputeRole(ctx, hosts, DEFAULT_COMPUTE_CONFIG);
    await nc.flush();
    await sleep(1000);
    await nc.flush();
    const m2 = await settle();

    // C1. What one plain subscription per host costs (as Bridge.serve makes for each host actor).
    const bridge2 = new Bridge(nc2, systemClock, log, 10_000);
    for (let i = 0; i < H; i++) {
      keep.push(bridge2.serve(`novact.host.sub-${i + 1}.*`, () => ({}), { isMutating: () => false }));
    }
    await nc2.flush();
    const m3 = await settle();

    // C2. What a bare nact actor costs (no state, no subscription).
    for (let i = 0; i < H; i++) {
      keep.push(actors.spawn<null, unknown>(`bare-${i + 1}`, { init: () => null, handle: (s) => s }));
    }
    await sleep(100);
    const m4 = await settle();

    const per = (a: NodeJS.MemoryUsage, b: NodeJS.MemoryUsage, k: 'heapUsed' | 'external' | 'arrayBuffers' | 'rss') => Math.round((b[k] - a[k]) / H);
    const actorBytes = per(m1, m2, 'heapUsed');
    const result = {
      bench: 'memory',
      hosts: H,
      gcExposed: gcFn !== undefined,
      bytesPerHost: {
        driverState: per(m0, m1, 'heapUsed'),
        hostActor: actorBytes,
        hostActorExternal: per(m1, m2, 'external'),
        breakdown: {
          natsSubscription: per(m2, m3, 'heapUsed'),
          bareNactActor: per(m3, m4, 'heapUsed'),
          rest: actorBytes - per(m2, m3, 'heapUsed') - per(m3, m4, 'heapUsed'),
        },
      },
      targetBytesPerHostActor: 1024,
      heapUsedMb: {
        base: Math.round(m0.heapUsed / 1048576),
        drivers: Math.round(m1.heapUsed / 1048576),
        role: Math.round(m2.heapUsed / 1048576),
      },
      rssMb: Math.round(m2.rss / 1048576),
    };
    keep.push(role);
    await role.stop();
    return result;
  } finally {
    actors.stop();
    await Promise.allSettled([nc.drain(), nc2.drain()]);
    await nats.stop();
  }
}
