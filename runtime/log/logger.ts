/**
 * A structured logger backed by pino: one JSON object per line on stderr (or a sink of the
 * embedder's choosing), with levels, child fields, and errors serialised with their stack. Every
 * line written inside a request carries that request's ids, and the instance and host where known
 * (runtime/trace/scope.ts), without the call sites passing them. Library code logs through this,
 * never through console.
 */
import { hostname } from 'node:os';
import { pino, stdSerializers, type DestinationStream, type Logger as Pino } from 'pino';
import { currentScope } from '../trace/scope.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
  /** Whether a line at `level` would be written (to skip building fields that would be dropped). */
  isEnabled?(level: Exclude<LogLevel, 'silent'>): boolean;
}

/** Receives each line as an object (tests, embedders that ship logs themselves). */
export type LogSink = (line: Record<string, unknown>) => void;

const NO_FIELDS: Readonly<Record<string, string>> = Object.freeze({});

type Level = Exclude<LogLevel, 'silent'>;
const at = (p: Pino, level: Level) => (msg: string, fields?: Record<string, unknown>): void => {
  if (fields === undefined) p[level](msg);
  else p[level](fields, msg);
};

function wrap(p: Pino): Logger {
  return {
    debug: at(p, 'debug'),
    info: at(p, 'info'),
    warn: at(p, 'warn'),
    error: at(p, 'error'),
    child: (fields) => wrap(p.child(fields)),
    isEnabled: (level) => p.isLevelEnabled(level),
  };
}

/** A sink as a pino destination: pino writes finished JSON lines; the sink gets them as objects. */
const sinkStream = (sink: LogSink): DestinationStream => ({
  write: (line: string) => sink(JSON.parse(line) as Record<string, unknown>),
});

export function createLogger(level: LogLevel = 'info', sink?: LogSink, base: Record<string, unknown> = {}): Logger {
  const p = pino(
    {
      level,
      base: { pid: process.pid, hostname: hostname(), ...base },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Level names, not numbers: operators grep for "error".
      formatters: { level: (label) => ({ level: label }) },
      serializers: { err: stdSerializers.err },
      // The request scope's fields (built once per scope); a line's own fields win over them.
      mixin: () => currentScope()?.fields ?? NO_FIELDS,
      mixinMergeStrategy: (line, scope) => (scope === NO_FIELDS ? line : { ...scope, ...line }),
    },
    sink ? sinkStream(sink) : pino.destination({ fd: 2, sync: true }),
  );
  return wrap(p);
}

/** An error as log fields: `err` keeps the error itself, which the logger writes with its type, message and stack. */
export function errorFields(err: unknown): Record<string, unknown> {
  return err instanceof Error ? { err } : { err: String(err) };
}
