/**
 * Real TCG guests (domain type `qemu`) on libvirt hosts of this machine, through a whole cluster
 * (conductor, scheduler, compute, image; no REST): novact's tiny test guest booted from the request
 * to ACTIVE and to `novact-tiny: ready` on its console, with a cold and a warm image cache; the
 * driver's spawn alone and a bare libvirt define+start beneath it; the host's image download over
 * NATS; and N concurrent boots on one host. Two hosts, each its own session libvirtd, pinned by
 * availability zone: `lv-cold` caps its cache at 1 byte, so deleting a guest evicts every base it
 * used and the next boot fetches them all again; `lv-warm` keeps them. Prints one JSON line.
 */
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type Cluster } from '../cluster/cluster.js';
import { startLibvirtHosts, type LibvirtHosts } from '../cluster/libvirt-hosts.js';
import { seedTestImage } from '../cluster/test-image-seed.js';
import type { ComputeHost } from '../actors/compute/compute-role.js';
import type { GuestSpec } from '../protocols/host.js';
import { bareDefineStart } from './libvirt-bare.js';
import { CONSOLE_POLL_MS, deleteServers, qemuRssMb, timedBoot, waitActive, waitReady, type BootTiming } from './libvirt-guests.js';
import { msSummary as ms, percentiles } from './percentiles.js';

export interface LibvirtBenchOptions {
  /** Sequential boots per cache state (and spawns, bare define+starts). */
  boots: number;
  /** Guests booted at once on the warm host. */
  concurrent: number;
  memoryMb: number;
}

interface FetchRecord { host: string; imageId: string; bytes: number; ms: number }

const MB = 2 ** 20;
const HOST_OPTS = { domainType: 'qemu', softShutdownMs: 0, pollMs: 1_000 } as const;
const quietly = async (what: string, f: () => Promise<unknown>) => {
  try { await f(); } catch (e) { process.stderr.write(`bench libvirt: cleanup ${what}: ${e instanceof Error ? e.message : String(e)}\n`); }
};

/** Records every image download the host's driver makes (through the compute role's fetcher, over NATS, into `_base`). */
function timeFetches(host: ComputeHost, into: FetchRecord[]): ComputeHost {
  const d = host.driver;
  const attach = d.attach?.bind(d);
  if (!attach) throw new Error(`driver of ${host.name} takes no services`);
  d.attach = (services) => attach({
    ...services,
    images: {
      async fetch(imageId, onChunk, expected, opts) {
        const t0 = performance.now();
        const r = await services.images.fetch(imageId, onChunk, expected, opts);
        into.push({ host: host.name, imageId, bytes: r.sizeBytes, ms: performance.now() - t0 });
        return r;
      },
    },
  });
  return host;
}

function bootStats(runs: BootTiming[]) {
  return { activeMs: ms(runs.map((r) => r.activeMs)), readyMs: ms(runs.flatMap((r) => (r.readyMs === undefined ? [] : [r.readyMs]))) };
}

async function sequentialBoots(cluster: Cluster, n: number, zone: string, flavorRef: string, imageRef: string, ready: boolean): Promise<BootTiming[]> {
  const runs: BootTiming[] = [];
  for (let i = 0; i < n; i++) {
    const r = await timedBoot(cluster.client, { name: `lv-${zone}-${i}`, flavorRef, imageRef, availabilityZone: zone }, ready);
    runs.push(r);
    await deleteServers(cluster.client, [r.id]);
  }
  return runs;
}

async function concurrentBoots(cluster: Cluster, n: number, zone: string, flavorRef: string, imageRef: string) {
  const t0 = performance.now();
  const ids: string[] = [];
  const guests = await Promise.all(Array.from({ length: n }, async (_, i) => {
    const s0 = performance.now();
    const { id } = await cluster.client.createServer({ name: `lv-many-${i}`, flavorRef, imageRef, availabilityZone: zone }, { timeoutMs: 60_000 });
    ids.push(id);
    await waitActive(cluster.client, id);
    const active = performance.now();
    await waitReady(cluster.client, id);
    const ready = performance.now();
    return { id, activeMs: active - s0, readyMs: ready - s0, activeAt: active - t0, readyAt: ready - t0 };
  })).catch(async (e: unknown) => {
    await deleteServers(cluster.client, ids).catch(() => undefined);
    throw e;
  });
  const rss = (await Promise.all(ids.map(qemuRssMb))).filter((x): x is number => x !== undefined);
  await deleteServers(cluster.client, ids);
  return {
    guests: n,
    wallToAllActiveMs: Math.round(Math.max(...guests.map((g) => g.activeAt))),
    wallToAllReadyMs: Math.round(Math.max(...guests.map((g) => g.readyAt))),
    perGuest: bootStats(guests),
    qemuRssMb: rss.length ? { ...percentiles(rss, [50]), max: Math.max(...rss), total: rss.reduce((a, b) => a + b, 0), n: rss.length } : null,
  };
}

/** The driver's spawn alone (images in `_base`): overlay disk, plan, define, start; destroyed after each. */
async function warmSpawns(host: ComputeHost, n: number, spec: (uuid: string, i: number) => GuestSpec) {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const uuid = randomUUID();
    const t0 = performance.now();
    try {
      await host.driver.spawn(spec(uuid, i), { deadlineMs: 60_000 });
      out.push(performance.now() - t0);
    } finally {
      await host.driver.destroy(uuid, { deadlineMs: 60_000 });
    }
  }
  return ms(out);
}

function fetchStats(records: FetchRecord[], imageId: string) {
  const mine = records.filter((r) => r.imageId === imageId);
  const mbps = mine.map((r) => r.bytes / MB / (r.ms / 1000));
  return {
    imageMb: mine[0] ? Math.round((mine[0].bytes / MB) * 10) / 10 : 0,
    fetches: mine.length,
    ms: ms(mine.map((r) => r.ms)),
    MBps: { ...percentiles(mbps.map((x) => Math.round(x)), [50]), min: Math.round(Math.min(...mbps)), max: Math.round(Math.max(...mbps)) },
  };
}

export async function libvirtBench(o: LibvirtBenchOptions): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'novact-bench-lv-'));
  const started = performance.now();
  const load = loadavg()[0];
  let cold: LibvirtHosts | undefined;
  let warm: LibvirtHosts | undefined;
  let cluster: Cluster | undefined;
  let stopping: Promise<void> | undefined;
  const stopAll = () => stopping ??= (async () => {
    if (cluster) await quietly('cluster', () => cluster!.stop());
    if (cold) await quietly('cold libvirtd', () => cold!.stop());
    if (warm) await quietly('warm libvirtd', () => warm!.stop());
    await quietly('dir', () => rm(dir, { recursive: true, force: true }));
  })();
  // An interrupted run stops its daemons and guests too (their QEMU processes would outlive it).
  const onSignal = (sig: NodeJS.Signals) => void stopAll().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    cold = await startLibvirtHosts(['lv-cold'], dir, { ...HOST_OPTS, cacheMaxBytes: 1 });
    warm = await startLibvirtHosts(['lv-warm'], dir, HOST_OPTS);
    const fetches: FetchRecord[] = [];
    const coldHost = timeFetches({ ...cold.hosts[0]!, availabilityZone: 'cold' }, fetches);
    const warmHost = timeFetches({ ...warm.hosts[0]!, availabilityZone: 'warm' }, fetches);
    cluster = await startCluster({
      hosts: [coldHost, warmHost], roles: ['conductor', 'scheduler', 'compute', 'image'], seedImages: false, logLevel: 'error',
      natsUrl: process.env.NATS_URL, databaseUrl: process.env.DATABASE_URL, requestTimeoutMs: 60_000,
      conductor: { spawnTimeoutMs: 180_000, powerTimeoutMs: 90_000 },
    });
    await cluster.waitForHosts(2, 120_000);
    const client = cluster.client;
    const flavor = `bench.lv-${o.memoryMb}`;
    await client.bridge.request(cluster.subjects.flavor('create'), 'create', { name: flavor, vcpus: 1, memoryMb: o.memoryMb, diskGb: 1 },
      { timeoutMs: 10_000, idempotencyKey: randomUUID() });
    const image = await seedTestImage(client);
    const kernelId = image.properties.kernel_id!;
    const setupMs = performance.now() - started;

    // Deleted at ACTIVE: what follows (the guest's own boot) does not depend on the cache; the warm boots time it.
    const coldRuns = await sequentialBoots(cluster, o.boots, 'cold', flavor, image.id, false);
    const coldKernelFetches = fetches.filter((f) => f.host === 'lv-cold' && f.imageId === kernelId).length;
    if (coldKernelFetches !== o.boots) throw new Error(`the cold host fetched the kernel ${coldKernelFetches} times in ${o.boots} boots`);
    // Fills the warm host's cache (not counted), then the warm boots.
    await deleteServers(client, [(await timedBoot(client, { name: 'lv-warm-prime', flavorRef: flavor, imageRef: image.id, availabilityZone: 'warm' }, false)).id]);
    const warmRuns = await sequentialBoots(cluster, o.boots, 'warm', flavor, image.id, true);
    const warmFetches = fetches.filter((f) => f.host === 'lv-warm').length;

    const spawnMs = await warmSpawns(warmHost, o.boots, (uuid, i) => ({
      uuid, name: `lv-spawn-${i}`, vcpus: 1, memoryMb: o.memoryMb, diskGb: 1, rootGb: 1, ephemeralGb: 0, swapMb: 0,
      image: { id: image.id, diskFormat: image.diskFormat, properties: image.properties, sizeBytes: image.sizeBytes, checksum: image.checksum ?? null, osHashAlgo: image.osHashAlgo ?? null, osHashValue: image.osHashValue ?? null },
      projectId: 'bench', hostname: `lv-spawn-${i}`, configDrive: false, metadata: {},
    }));
    const bare = await bareDefineStart(warm.daemons.get('lv-warm')!.uri, o.boots, o.memoryMb);
    const many = await concurrentBoots(cluster, o.concurrent, 'warm', flavor, image.id);
    if (fetches.filter((f) => f.host === 'lv-warm').length !== warmFetches) throw new Error('the warm host fetched during the warm phases');

    const coldStats = bootStats(coldRuns);
    const warmStats = bootStats(warmRuns);
    const kernel = fetchStats(fetches.filter((f) => f.host === 'lv-cold'), kernelId);
    const info = await warmHost.driver.hostInfo();
    return {
      bench: 'libvirt',
      machine: { cpus: info.vcpus, domainType: 'qemu (TCG)', hypervisorVersion: info.hypervisorVersion, loadAvg1mAtStart: Math.round((load ?? 0) * 100) / 100 },
      guest: { image: 'novact-tiny (PVH vmlinux + busybox initramfs + qcow2 root)', vcpus: 1, memoryMb: o.memoryMb, flavor },
      boots: o.boots,
      setupMs: Math.round(setupMs),
      requestToActiveColdMs: coldStats.activeMs,
      requestToActiveWarmMs: warmStats.activeMs,
      requestToReadyWarmMs: warmStats.readyMs,
      spawnWarmMs: spawnMs,
      bareDefineStart: bare,
      kernelFetchOverNats: kernel,
      concurrent: many,
      derived: {
        coldMinusWarmActiveP50Ms: Math.round(coldStats.activeMs.p50 - warmStats.activeMs.p50),
        warmActiveMinusSpawnP50Ms: Math.round(warmStats.activeMs.p50 - spawnMs.p50),
        spawnMinusBareP50Ms: Math.round(spawnMs.p50 - bare.defineStartMs.p50),
        warmActiveToReadyP50Ms: Math.round(warmStats.readyMs.p50 - warmStats.activeMs.p50),
      },
      bounds: {
        requestToActiveWarm: 'the control plane (build → schedule → claim → spawn over NATS, state written to PostgreSQL, event to waitForServer) plus the driver spawn; the guest is not yet booted at ACTIVE',
        requestToActiveCold: 'the warm figure plus fetching the three images over NATS into _base (the ~63 MiB kernel dominates) and checking them',
        requestToReadyWarm: `TCG: QEMU emulates the CPU, so the kernel's boot to the initramfs's ready line is CPU-bound on one host core; the console is read every ${CONSOLE_POLL_MS} ms. A cold boot is ready coldMinusWarmActiveP50Ms later (the guest's boot does not depend on the cache)`,
        spawnWarm: 'qemu-img overlay on the cached base, plan/XML written, domainDefineXML, domainCreate (QEMU process start up to its first vCPU run); no control plane',
        bareDefineStart: 'libvirt bookkeeping plus the QEMU process start (QEMU binary load, machine setup, firmware load); the floor under spawnWarm',
        kernelFetchOverNats: 'request/reply per chunk of HOST_CHUNK_BYTES, base64 in JSON through nats-server and the image role reading its store, MD5 + os_hash while receiving, write to the .part file, fsync',
        concurrent: 'host CPUs: every TCG guest wants a full core while it boots, so ready time grows with guests per core; ACTIVE by the spawn work per guest (qemu-img, QEMU starts) competing with the booting guests for the same cores, and by the binding running every libvirt call on libuv\'s thread pool (UV_THREADPOOL_SIZE, 4 by default, shared with file I/O): at most 4 domainCreate at once',
        qemuRssMb: 'guest RAM the kernel touched plus QEMU itself (TCG translation cache, device state), read from /proc after every guest was ready',
        noise: 'a 2-core machine shared with other work; loadAvg1mAtStart shows what else ran',
      },
      totalMs: Math.round(performance.now() - started),
    };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await stopAll();
  }
}
