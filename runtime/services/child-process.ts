/**
 * A server process started by novact (nats-server, postgres, initdb, libvirtd): its output kept as the first
 * and last lines (usage errors come first, crashes last) for error messages, and its exit as a promise.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const HEAD_LINES = 10;
const TAIL_LINES = 30;

export interface Running {
  child: ChildProcess;
  output: () => string;
  /** Resolves on exit, or on a spawn failure (ENOENT, EACCES), which may never emit 'exit'. */
  exited: Promise<void>;
}

/**
 * `onLine` sees every line of stdout and stderr (readiness markers, logging). `input` is written to
 * stdin and closed (secrets go there, never into argv, which every local user can read).
 */
export function launch(bin: string, args: string[], spawnOpts: SpawnOptions, onLine?: (line: string) => void, input?: string): Running {
  const child = spawn(bin, args, { ...spawnOpts, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  if (input !== undefined && child.stdin) {
    child.stdin.on('error', () => undefined); // A tool that exits early closes the pipe: its exit code tells.
    child.stdin.end(input);
  }
  const head: string[] = [];
  const tail: string[] = [];
  let dropped = 0;
  const record = (line: string): void => {
    if (head.length < HEAD_LINES) head.push(line);
    else if (tail.push(line) > TAIL_LINES) {
      tail.shift();
      dropped++;
    }
    onLine?.(line);
  };
  for (const stream of [child.stdout, child.stderr]) if (stream) createInterface({ input: stream }).on('line', record);
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (err) => {
      record(`spawn ${bin}: ${err.message}`);
      resolve();
    });
  });
  const output = (): string => [...head, ...(dropped ? [`[... ${dropped} lines ...]`] : []), ...tail].join('\n');
  return { child, output, exited };
}

export function isAlive(child: ChildProcess): boolean {
  return child.pid !== undefined && child.exitCode === null && child.signalCode === null;
}

/** State and parent of a process (or thread) from /proc; undefined once it is gone. */
export function procStat(pid: number, tid?: number): { state: string; ppid: number } | undefined {
  try {
    const text = readFileSync(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after "(comm)" — comm itself may contain spaces and parentheses.
    const [state, ppid] = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return state && ppid ? { state, ppid: Number(ppid) } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Resolves once these processes are gone or zombies (a zombie holds nothing), or when `timeoutMs`
 * passes: orphaned postgres backends keep the old shared memory attached, and a new postmaster
 * refuses to start; orphaned qemu keeps a guest running.
 */
export async function waitGone(pids: number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = pids.filter((p) => {
      const s = procStat(p);
      return s !== undefined && s.state !== 'Z';
    });
    if (left.length === 0 || Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Processes whose environment holds exactly `entry` (`NAME=value`), from /proc: how a daemon's
 * detached descendants (qemu daemonises, so its parent is init) are found. Ours alone are readable.
 */
export function pidsWithEnv(entry: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').split('\0').includes(entry)) found.push(Number(name));
    } catch {
      // Gone, or not ours.
    }
  }
  return found;
}

/**
 * Resolves once every thread of these processes is stopped (state T): SIGSTOP is delivered
 * asynchronously, and a thread running on another core may still act on a message meanwhile.
 */
export async function waitStopped(pids: number[], timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const threadsOf = (pid: number): number[] => {
    try {
      return readdirSync(`/proc/${pid}/task`).map(Number);
    } catch {
      return [];
    }
  };
  for (;;) {
    const running = pids.some((pid) => threadsOf(pid).some((tid) => {
      const s = procStat(pid, tid);
      return s !== undefined && s.state !== 'T' && s.state !== 't' && s.state !== 'Z';
    }));
    if (!running) return;
    if (Date.now() > deadline) throw new Error(`processes ${pids.join(', ')} did not stop within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 2));
  }
}
