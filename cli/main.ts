/**
 * The `novact` command line: `novact up` runs a cluster, the other commands talk to one over NATS.
 * Exit codes: 0 ok, 1 the request failed (a NovactError, or a server that went to ERROR),
 * 2 bad usage or no cluster reachable.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { NovactError } from '../protocols/errors.js';
import { createLogger } from '../runtime/log/logger.js';
import { installProcessGuard } from '../runtime/process-guard.js';
import { CLIENT_COMMANDS } from './commands.js';
import { stdout, type Output } from './format.js';
import { HOST_COMMANDS } from './host-commands.js';
import { IMAGE_COMMANDS } from './image-commands.js';
import { UP_COMMAND } from './up.js';
import { STATUS_COMMAND } from './status.js';
import { CliError, GLOBAL_OPTIONS, UsageError, helpText, usageLine, type CommandSpec, type Values } from './usage.js';

export const COMMANDS: CommandSpec[] = [UP_COMMAND, STATUS_COMMAND, ...CLIENT_COMMANDS, ...IMAGE_COMMANDS, ...HOST_COMMANDS];

const OPTIONS = {
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'nats-url': { type: 'string' },
  'subject-root': { type: 'string' },
  // up
  hosts: { type: 'string' },
  'database-url': { type: 'string' },
  'data-dir': { type: 'string' },
  demo: { type: 'string' },
  'api-port': { type: 'string' },
  'metrics-port': { type: 'string' },
  roles: { type: 'string' },
  join: { type: 'boolean' },
  'host-seed': { type: 'string' },
  'host-prefix': { type: 'string' },
  driver: { type: 'string' },
  // host credentials, host register
  'seed-file': { type: 'string' },
  // server commands
  flavor: { type: 'string' },
  image: { type: 'string' },
  name: { type: 'string' },
  wait: { type: 'boolean' },
  progress: { type: 'string' },
  count: { type: 'string' },
  file: { type: 'string' },
  'disk-format': { type: 'string' },
  'container-format': { type: 'string' },
  'wait-timeout': { type: 'string' },
  hard: { type: 'boolean' },
  args: { type: 'string' },
  status: { type: 'string' },
  host: { type: 'string' },
} as const;

const stderr: Output = { write: (text) => void process.stderr.write(text), ...(process.stderr.isTTY ? { tty: process.stderr } : {}) };

/** Finds the command named by the leading positionals; the rest are its arguments. */
function findCommand(positionals: string[]): { spec: CommandSpec; args: string[] } {
  const [group, action] = positionals;
  if (group === undefined) throw new UsageError('missing command');
  const one = COMMANDS.find((s) => s.path.length === 1 && s.path[0] === group);
  if (one) return { spec: one, args: positionals.slice(1) };
  const inGroup = COMMANDS.filter((s) => s.path[0] === group);
  if (inGroup.length === 0) throw new UsageError(`unknown command '${group}'`);
  const spec = inGroup.find((s) => s.path[1] === action);
  if (!spec) {
    const actions = inGroup.map((s) => s.path[1]).join('|');
    throw new UsageError(action === undefined ? `novact ${group} needs a subcommand: ${actions}` : `unknown command '${group} ${action}' (try ${group} ${actions})`);
  }
  return { spec, args: positionals.slice(2) };
}

function parse(argv: string[]): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    return { values: values as Values, positionals };
  } catch (err) {
    // parseArgs' own errors (unknown option, missing value) are usage errors; say which command.
    const message = (err instanceof Error ? err.message : String(err)).split('\n')[0]!.replace(/\. To specify a positional.*$/, '');
    const positionals = argv.filter((a) => !a.startsWith('-'));
    let spec: CommandSpec | undefined;
    try {
      spec = findCommand(positionals).spec;
    } catch {
      spec = undefined;
    }
    throw new UsageError(message, spec);
  }
}

/** Runs the CLI on `argv` (without `node main.ts`) and resolves with the exit code. */
export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env, out: Output = stdout, err: Output = stderr): Promise<number> {
  let spec: CommandSpec | undefined;
  try {
    const { values, positionals } = parse(argv);
    if (positionals.length === 0 || positionals[0] === 'help') {
      if (values.help || positionals[0] === 'help') {
        out.write(helpText(COMMANDS));
        return 0;
      }
      throw new UsageError('missing command');
    }
    const found = findCommand(positionals);
    spec = found.spec;
    if (values.help) {
      out.write(`${usageLine(spec)}\n  ${spec.summary}\n`);
      return 0;
    }
    const allowed = new Set([...GLOBAL_OPTIONS, ...spec.options]);
    const extra = Object.keys(values).filter((k) => !allowed.has(k));
    if (extra.length > 0) throw new UsageError(`unknown option '--${extra[0]}' for 'novact ${spec.path.join(' ')}'`, spec);
    if (found.args.length < spec.args.length) throw new UsageError(`missing argument ${spec.args[found.args.length]}`, spec);
    if (found.args.length > spec.args.length) throw new UsageError(`unexpected argument '${found.args[spec.args.length]}'`, spec);
    return await spec.run({ values, args: found.args, env, out, err });
  } catch (e) {
    if (e instanceof UsageError) {
      const s = e.spec ?? spec;
      err.write(`novact: ${e.message}\n${s ? usageLine(s) : 'usage: novact <command> [options]'} (novact --help for more)\n`);
      return 2;
    }
    if (e instanceof NovactError) {
      err.write(`error: ${e.message} (HTTP ${e.code} ${e.fault})\n`);
      return 1;
    }
    if (e instanceof CliError) {
      err.write(`error: ${e.message}\n`);
      return e.exitCode;
    }
    // A bug or something unforeseen: the message, and the stack only when asked for.
    err.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
    if (env.NOVACT_DEBUG && e instanceof Error && e.stack) err.write(`${e.stack}\n`);
    return 1;
  }
}

const flushed = (stream: NodeJS.WriteStream) => new Promise<void>((resolve) => stream.write('', () => resolve()));

const isEntry = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isEntry) {
  // A stray rejection in a long-running `novact up` is logged, not fatal to every role.
  installProcessGuard(createLogger('info'));
  const code = await main(process.argv.slice(2));
  // Exit for sure once the output is out: a stopped cluster or a failed connect may leave handles behind.
  await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
  process.exit(code);
}
