/** The command table's shape, the CLI's own errors and the help text. */
import type { Output } from './format.js';

export type Values = Record<string, string | boolean | undefined>;

export interface RunContext {
  values: Values;
  /** Positional arguments after the command words. */
  args: string[];
  env: NodeJS.ProcessEnv;
  out: Output;
  err: Output;
}

export interface CommandSpec {
  /** The command words: `['server', 'create']`, `['up']`. */
  path: string[];
  /** Names of required positional arguments (`['ID']`). */
  args: string[];
  /** Options this command accepts besides the global ones. */
  options: string[];
  /** Everything after `novact <path>` in the usage line. */
  synopsis: string;
  summary: string;
  /** Resolves with the exit code. */
  run(ctx: RunContext): Promise<number>;
}

/** Options every command accepts. */
export const GLOBAL_OPTIONS = ['json', 'help'];

/** Bad usage: a short usage line on stderr, exit 2. */
export class UsageError extends Error {
  constructor(message: string, readonly spec?: CommandSpec) {
    super(message);
    this.name = 'UsageError';
  }
}

/** An expected failure of the CLI itself (no cluster to talk to, …): `error: <message>`, with its exit code. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number) {
    super(message);
    this.name = 'CliError';
  }
}

export function usageLine(spec: CommandSpec): string {
  return `usage: novact ${[...spec.path, spec.synopsis].filter(Boolean).join(' ')}`;
}

export function helpText(specs: CommandSpec[]): string {
  const width = 56;
  const lines = specs.map((s) => {
    const cmd = `novact ${[...s.path, s.synopsis].filter(Boolean).join(' ')}`;
    return cmd.length <= width ? `  ${cmd.padEnd(width)}  ${s.summary}` : `  ${cmd}\n  ${' '.repeat(width)}  ${s.summary}`;
  });
  return [
    'novact: a compute control plane over NATS and PostgreSQL',
    '',
    'commands:',
    ...lines,
    '',
    'every command takes --json (JSON instead of tables); client commands also take',
    '--nats-url URL and --subject-root ROOT. The cluster is found through --nats-url, then',
    'NATS_URL, then the state file `novact up` writes (NOVACT_STATE_FILE overrides its path).',
    '--wait waits for the end state (at most --wait-timeout SECONDS, default 120).',
    'Long work shows progress on stderr: a bar on a terminal, plain lines otherwise',
    '(--progress auto|bar|plain|off).',
    '`novact up` reads NATS_URL and DATABASE_URL as defaults and NOVACT_LOG (default info);',
    'NOVACT_METRICS_TOKEN sets the scrape token /metrics requires (Authorization: Bearer …).',
    '',
    'exit codes: 0 ok, 1 the request failed, 2 bad usage or no cluster reachable.',
    '',
  ].join('\n');
}

/** `--name value` as a non-negative integer, or the default. */
export function intOption(values: Values, name: string, dflt: number, spec: CommandSpec, min = 0): number {
  const v = values[name];
  if (v === undefined) return dflt;
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} needs an integer >= ${min}, got '${String(v)}'`, spec);
  return n;
}

export function strOption(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}
