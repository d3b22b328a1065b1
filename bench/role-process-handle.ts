/** The parent's side of bench/role-process.ts: start one, wait for its lines, stop it and read its last words. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { ROLE_PROCESS_ENV, type RoleProcessConfig } from './role-process.js';

export class RoleProcess {
  private readonly lines: string[] = [];
  private waiters: (() => void)[] = [];

  private constructor(readonly child: ChildProcess) {
    let buf = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      buf += d;
      const parts = buf.split('\n');
      buf = parts.pop()!;
      this.lines.push(...parts);
      for (const w of this.waiters.splice(0)) w();
    });
    child.once('exit', () => {
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async start(cfg: RoleProcessConfig): Promise<RoleProcess> {
    const script = fileURLToPath(new URL('./role-process.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, [ROLE_PROCESS_ENV]: JSON.stringify(cfg) },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const p = new RoleProcess(child);
    await p.line((l) => l === 'ready');
    return p;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  /** Resolves with the first line (so far or to come) that matches; rejects if the process exits first. */
  async line(match: (line: string) => boolean): Promise<string> {
    for (;;) {
      const found = this.lines.find(match);
      if (found !== undefined) return found;
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`role process exited (${this.child.exitCode ?? this.child.signalCode})`);
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** SIGTERM, then the JSON objects it printed (its figures), once it has exited. */
  async stop(): Promise<Record<string, unknown>[]> {
    // 'close' (not 'exit'): only then has everything it wrote been read.
    const closed = this.child.stdout!.closed ? Promise.resolve() : once(this.child, 'close');
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await closed;
    return this.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}
