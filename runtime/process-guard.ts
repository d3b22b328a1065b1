/**
 * A last line of defence for a long-running process: an unhandled rejection anywhere (a bug in a
 * callback the bridge does not own) is logged loudly and counted instead of exiting all five roles
 * (Node's default since v15). An uncaught exception is logged and counted too; by default the
 * process then exits, since its state may be corrupt — `exitOnUncaught: false` keeps it alive.
 */
import { errorFields, type Logger } from './log/logger.js';

export interface ProcessGuard {
  readonly stats: { unhandledRejections: number; uncaughtExceptions: number };
  /** Removes the handlers. */
  uninstall(): void;
}

export interface ProcessGuardOptions {
  /** Exit (code 1) after logging an uncaught exception. Default true. */
  exitOnUncaught?: boolean;
  /** For tests: the process-like emitter to guard. */
  target?: NodeJS.EventEmitter;
  exit?: (code: number) => void;
}

export function installProcessGuard(log: Logger, opts: ProcessGuardOptions = {}): ProcessGuard {
  const target = opts.target ?? process;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const stats = { unhandledRejections: 0, uncaughtExceptions: 0 };
  const onRejection = (reason: unknown) => {
    stats.unhandledRejections++;
    log.error('unhandled promise rejection (kept running)', { ...errorFields(reason), stack: reason instanceof Error ? reason.stack : undefined });
  };
  const onException = (err: unknown) => {
    stats.uncaughtExceptions++;
    log.error('uncaught exception', { ...errorFields(err), stack: err instanceof Error ? err.stack : undefined });
    if (opts.exitOnUncaught ?? true) exit(1);
  };
  target.on('unhandledRejection', onRejection);
  target.on('uncaughtException', onException);
  return {
    stats,
    uninstall() {
      target.off('unhandledRejection', onRejection);
      target.off('uncaughtException', onException);
    },
  };
}
