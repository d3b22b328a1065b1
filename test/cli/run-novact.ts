/** Runs the `novact` CLI from sources as a child process, as a user would, for the CLI test files. */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Test } from 'tap';
import { startCluster, type Cluster } from '../../cluster/cluster.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const MAIN = join(ROOT, 'cli', 'main.ts');

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** `novact <args>` with this process's environment plus `env` (an undefined value removes a variable). */
export function runNovact(args: string[], env: Record<string, string | undefined>): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** One in-process cluster for a CLI test file, a scratch directory, and `novact` pointed at them. */
export interface CliFixture {
  cluster: Cluster;
  dir: string;
  /** A state-file path that does not exist (so commands find the cluster through NATS_URL only). */
  noStateFile: string;
  imageName: string;
  /** `novact <args>` with NATS_URL pointing at the cluster (unless `env` says otherwise). */
  novact(args: string[], env?: Record<string, string | undefined>): Promise<Run>;
}

export async function cliFixture(t: Test): Promise<CliFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'novact-cli-test-'));
  const noStateFile = join(dir, 'absent.json');
  const cluster = await startCluster({ hosts: 2, compute: { reportIntervalMs: 200, heartbeatIntervalMs: 200 } });
  t.teardown(async () => {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  });
  await waitForHosts(cluster, 2);
  const imageName = (await cluster.client.listImages())[0]!.name;
  const novact = (args: string[], env: Record<string, string | undefined> = {}) =>
    runNovact(args, { NOVACT_STATE_FILE: noStateFile, NATS_URL: cluster.natsUrl, NOVACT_SUBJECT_ROOT: undefined, ...env });
  return { cluster, dir, noStateFile, imageName, novact };
}

/** Resolves once the conductor lists `n` hosts that are up, re-checking after each capacity report. */
async function waitForHosts(cluster: Cluster, n: number, timeoutMs = 30_000): Promise<void> {
  const up = async () => (await cluster.client.listHosts()).filter((h) => h.state === 'up').length >= n;
  const sub = cluster.client.bridge.nc.subscribe(cluster.subjects.allReports('capacity'));
  const timer = setTimeout(() => sub.unsubscribe(), timeoutMs);
  try {
    if (await up()) return;
    for await (const _ of sub) if (await up()) return;
    throw new Error(`${n} hosts did not come up within ${timeoutMs} ms`);
  } finally {
    clearTimeout(timer);
    if (!sub.isClosed()) sub.unsubscribe();
  }
}
