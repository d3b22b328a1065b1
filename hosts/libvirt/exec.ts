/**
 * Runs a host tool (qemu-img, xorriso, nft) under a driver call's bounds: past `deadlineMs` the process
 * is killed and the call rejects with `timeout`, on `signal` with `aborted`; a non-zero exit is
 * `failed` with the tool's last stderr lines (never the whole output: it reaches logs, not tenants).
 */
import { execFile } from 'node:child_process';
import { DriverError, type CallOptions } from '../driver.js';

const STDERR_TAIL = 600;

export function run(bin: string, args: readonly string[], opts: CallOptions & { cwd?: string; input?: string } = {}): Promise<string> {
  if (opts.signal?.aborted) return Promise.reject(new DriverError('aborted', `${bin}: aborted before it started`));
  return new Promise((resolve, reject) => {
    const child = execFile(bin, args, { cwd: opts.cwd, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      if (ended) return;
      ended = true;
      if (!err) return resolve(stdout);
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return reject(new DriverError('unsupported', `${bin} is not installed`));
      reject(new DriverError('failed', `${bin} ${args[0] ?? ''} failed: ${stderr.trim().slice(-STDERR_TAIL) || err.message}`));
    });
    // What the tool reads on stdin (`nft -f -`); none: stdin is closed at once.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input ?? '');
    let ended = false;
    const stop = (e: DriverError): void => {
      if (ended) return;
      ended = true;
      child.kill('SIGKILL');
      reject(e);
    };
    const onAbort = (): void => stop(new DriverError('aborted', `${bin}: aborted`));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const timer = opts.deadlineMs === undefined ? undefined
      : setTimeout(() => stop(new DriverError('timeout', `${bin} took longer than ${opts.deadlineMs} ms`, true)), opts.deadlineMs);
  });
}
