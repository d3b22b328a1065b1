/**
 * Client commands: each connects to NATS (`--nats-url`, then `NATS_URL`, then the state file of
 * `novact up`), makes its requests through `NovactClient` and prints a table or JSON.
 */
import { randomBytes } from 'node:crypto';
import type { NatsConnection } from 'nats';
import { roleInboxPrefix } from '../protocols/host-identity.js';
import { DEFAULT_ROOT } from '../protocols/subjects.js';
import type { ServerView } from '../protocols/messages.js';
import { MAX_BUILD_COUNT } from '../protocols/catalog/conductor.js';
import { ACTIONS, ACTION_NAMES, type ActionName } from '../protocols/lifecycle.js';
import { NovactClient } from '../cluster/client.js';
import { connectNats } from '../runtime/nats/connection.js';
import * as fmt from './format.js';
import { progressMode, startProgress } from './progress.js';
import { isAlive, readState, stateFilePath } from './state-file.js';
import { CliError, UsageError, intOption, strOption, type CommandSpec, type RunContext } from './usage.js';

const CONNECT_TIMEOUT_MS = 5_000;
/** Options every client command accepts (on top of the global ones). */
export const CLIENT_OPTIONS = ['nats-url', 'subject-root'];

export interface Target {
  natsUrl: string;
  subjectRoot: string;
  /** Where the URL came from, for error messages. */
  source: string;
}

/** Finds the cluster to talk to; `CliError` (exit 2) when there is none. */
export function resolveTarget(ctx: Pick<RunContext, 'values' | 'env'>): Target {
  const path = stateFilePath(ctx.env);
  const state = readState(path);
  const flagUrl = strOption(ctx.values, 'nats-url');
  let natsUrl: string;
  let source: string;
  if (flagUrl) {
    natsUrl = flagUrl;
    source = '--nats-url';
  } else if (ctx.env.NATS_URL) {
    natsUrl = ctx.env.NATS_URL;
    source = 'NATS_URL';
  } else if (state) {
    if (!isAlive(state.pid)) {
      throw new CliError(`the cluster recorded in ${path} (pid ${state.pid}) is not running; start one with 'novact up'`, 2);
    }
    natsUrl = state.natsUrl;
    source = path;
  } else {
    throw new CliError(`no novact cluster found: pass --nats-url, set NATS_URL, or start one with 'novact up' (no state file at ${path})`, 2);
  }
  const subjectRoot =
    strOption(ctx.values, 'subject-root') ??
    (ctx.env.NOVACT_SUBJECT_ROOT || undefined) ??
    (state && state.natsUrl === natsUrl ? state.subjectRoot : undefined) ??
    DEFAULT_ROOT;
  return { natsUrl, subjectRoot, source };
}

export async function connectTo(target: Target): Promise<NatsConnection> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
  });
  try {
    return await Promise.race([connectNats({ servers: target.natsUrl, name: 'novact-cli', inboxPrefix: roleInboxPrefix('client') }), timeout]);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new CliError(`cannot connect to NATS at ${fmt.redact(target.natsUrl)} (from ${target.source}): ${why}`, 2);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `fn` with a client, closing the connection afterwards whatever happens. */
export async function withClient(ctx: RunContext, fn: (client: NovactClient) => Promise<number>): Promise<number> {
  const target = resolveTarget(ctx);
  const nc = await connectTo(target);
  try {
    return await fn(new NovactClient(nc, { subjectRoot: target.subjectRoot }));
  } finally {
    await nc.close().catch(() => undefined);
  }
}

export function print(ctx: RunContext, value: unknown, text: () => string): void {
  ctx.out.write(ctx.values.json ? fmt.json(value) : text());
}

// --- waiting ---

type Goal = 'active' | 'shutoff' | 'deleted' | 'settled';
const settled = (s: ServerView) => s.taskState === null;
const GOALS: Record<Goal, (s: ServerView) => boolean> = {
  settled: (s) => s.status === 'ERROR' || s.status === 'DELETED' || settled(s),
  active: (s) => s.status === 'ERROR' || (s.status === 'ACTIVE' && settled(s)),
  shutoff: (s) => s.status === 'ERROR' || (s.status === 'SHUTOFF' && settled(s)),
  deleted: (s) => s.status === 'DELETED',
};

function waitTimeoutMs(ctx: RunContext, spec: CommandSpec): number {
  return intOption(ctx.values, 'wait-timeout', 120, spec, 1) * 1000;
}

const stateOf = (s: ServerView) => (s.taskState ? `${s.status} (${s.taskState})` : s.status);

/** With `--wait`, waits for the goal (showing each state on the way) and prints the result; exit 1 if the server ended in ERROR. */
async function finish(ctx: RunContext, spec: CommandSpec, client: NovactClient, accepted: ServerView, goal: Goal): Promise<number> {
  if (!ctx.values.wait) {
    print(ctx, accepted, () => fmt.serverShow(accepted));
    return 0;
  }
  const bar = startProgress(progressMode(ctx.values, ctx.err, spec), ctx.err, { label: `server ${accepted.id}`, total: 1, unit: 'items' });
  const s = await client.waitForServer(accepted.id, GOALS[goal], waitTimeoutMs(ctx, spec), (now) => bar.update(GOALS[goal](now) ? 1 : 0, stateOf(now)))
    .finally(() => bar.stop());
  if (s.status === 'DELETED') {
    print(ctx, { id: s.id, status: 'DELETED' }, () => `server ${s.id} deleted\n`);
    return 0;
  }
  print(ctx, s, () => fmt.serverShow(s));
  return failedLine(ctx, s, goal) ? 1 : 0;
}

/** Says why a server that went to ERROR did; true when it did. */
function failedLine(ctx: RunContext, s: ServerView, goal: Goal): boolean {
  if (s.status !== 'ERROR' || goal === 'deleted') return false;
  const why = s.fault ? `: ${s.fault.message} (HTTP ${s.fault.code})` : '';
  ctx.err.write(`error: server ${s.id} went to ERROR${why}\n`);
  return true;
}

/** A multi-create with `--wait`: one bar over every server, counting those settled and those still building. */
async function finishAll(ctx: RunContext, spec: CommandSpec, client: NovactClient, accepted: ServerView[]): Promise<number> {
  if (!ctx.values.wait) {
    print(ctx, accepted, () => fmt.serverList(accepted));
    return 0;
  }
  const bar = startProgress(progressMode(ctx.values, ctx.err, spec), ctx.err, { label: 'create', total: accepted.length, unit: 'items' });
  const latest = new Map(accepted.map((s) => [s.id, s]));
  const show = () => {
    const all = [...latest.values()];
    const active = all.filter((s) => s.status === 'ACTIVE' && settled(s)).length;
    const errors = all.filter((s) => s.status === 'ERROR').length;
    bar.update(active + errors, `${active} active, ${errors} error, ${all.length - active - errors} building`);
  };
  const timeoutMs = waitTimeoutMs(ctx, spec);
  const done = await Promise.all(accepted.map((a) => client.waitForServer(a.id, GOALS.active, timeoutMs, (now) => {
    latest.set(now.id, now);
    show();
  }))).finally(() => bar.stop());
  print(ctx, done, () => fmt.serverList(done));
  return done.map((s) => failedLine(ctx, s, 'active')).some(Boolean) ? 1 : 0;
}

// --- the commands ---

function server(
  action: string,
  synopsis: string,
  summary: string,
  options: string[],
  args: string[],
  run: (ctx: RunContext, client: NovactClient, spec: CommandSpec) => Promise<number>,
): CommandSpec {
  const spec: CommandSpec = {
    path: ['server', action],
    args,
    options: [...CLIENT_OPTIONS, ...options],
    synopsis,
    summary,
    run: (ctx) => withClient(ctx, (client) => run(ctx, client, spec)),
  };
  return spec;
}

const id = (ctx: RunContext) => ctx.args[0]!;

function powerCommand(verb: 'stop' | 'start', goal: Goal, summary: string): CommandSpec {
  return server(verb, 'ID [--wait]', summary, ['wait', 'wait-timeout', 'progress'], ['ID'], async (ctx, client, spec) =>
    finish(ctx, spec, client, await client.serverAction(id(ctx), verb), goal));
}

/** The table's other actions: `novact server <action> ID [--args JSON] [--wait]` (args as Nova's action body value). */
const HAND_WRITTEN = new Set<ActionName>(['delete', 'stop', 'start', 'reboot']);
const tableCommands = (): CommandSpec[] =>
  ACTION_NAMES.filter((n) => !HAND_WRITTEN.has(n)).map((n) =>
    server(n, 'ID [--args JSON] [--wait]', `server action ${ACTIONS[n].api ?? n}`, ['args', 'wait', 'wait-timeout', 'progress'], ['ID'], async (ctx, client, spec) => {
      const raw = strOption(ctx.values, 'args');
      let args: unknown;
      try {
        args = raw === undefined ? null : JSON.parse(raw);
      } catch {
        throw new UsageError('--args must be JSON', spec);
      }
      if (ACTIONS[n].query) {
        // A query answers with the host's reply (console text, diagnostics); there is nothing to wait for.
        const result: Record<string, unknown> = (await client.serverQuery(id(ctx), n, args as never)).result ?? {};
        print(ctx, result, () => (typeof result.output === 'string' ? `${result.output}\n` : `${JSON.stringify(result, null, 2)}\n`));
        return 0;
      }
      return finish(ctx, spec, client, await client.serverAction(id(ctx), n, args as never), 'settled');
    }));

export const CLIENT_COMMANDS: CommandSpec[] = [
  server('create', '--flavor F --image I [--name N] [--count N] [--wait]', 'boot a server, or --count of them at once (flavor and image by name or id)',
    ['flavor', 'image', 'name', 'count', 'wait', 'wait-timeout', 'progress'], [], async (ctx, client, spec) => {
      const flavorRef = strOption(ctx.values, 'flavor');
      const imageRef = strOption(ctx.values, 'image');
      if (!flavorRef || !imageRef) throw new UsageError('server create needs --flavor and --image', spec);
      const name = strOption(ctx.values, 'name') ?? `server-${randomBytes(3).toString('hex')}`;
      const count = intOption(ctx.values, 'count', 1, spec, 1);
      if (count > MAX_BUILD_COUNT) throw new UsageError(`--count is at most ${MAX_BUILD_COUNT}`, spec);
      if (count === 1) return finish(ctx, spec, client, await client.createServer({ name, flavorRef, imageRef }), 'active');
      return finishAll(ctx, spec, client, await client.createServers({ name, flavorRef, imageRef, minCount: count, maxCount: count }));
    }),
  server('list', '[--status S] [--host H]', 'list servers', ['status', 'host'], [], async (ctx, client) => {
    const req: { status?: string; host?: string } = {};
    const status = strOption(ctx.values, 'status');
    const host = strOption(ctx.values, 'host');
    if (status !== undefined) req.status = status;
    if (host !== undefined) req.host = host;
    const servers = await client.listServers(req);
    print(ctx, servers, () => fmt.serverList(servers));
    return 0;
  }),
  server('show', 'ID', 'show one server', [], ['ID'], async (ctx, client) => {
    const s = await client.getServer(id(ctx));
    print(ctx, s, () => fmt.serverShow(s));
    return 0;
  }),
  server('delete', 'ID [--wait]', 'delete a server', ['wait', 'wait-timeout', 'progress'], ['ID'], async (ctx, client, spec) =>
    finish(ctx, spec, client, await client.deleteServer(id(ctx)), 'deleted')),
  powerCommand('stop', 'shutoff', 'power a server off'),
  powerCommand('start', 'active', 'power a server on'),
  server('reboot', 'ID [--hard] [--wait]', 'reboot a server (soft unless --hard)', ['hard', 'wait', 'wait-timeout', 'progress'], ['ID'],
    async (ctx, client, spec) =>
      finish(ctx, spec, client, await client.serverAction(id(ctx), 'reboot', { type: ctx.values.hard ? 'HARD' : 'SOFT' }), 'active')),
  ...tableCommands(),
  server('actions', 'ID', "list a server's actions", [], ['ID'], async (ctx, client) => {
    const actions = await client.serverActions(id(ctx));
    print(ctx, actions, () => fmt.actionList(actions));
    return 0;
  }),
  {
    path: ['host', 'list'],
    args: [],
    options: CLIENT_OPTIONS,
    synopsis: '',
    summary: 'list compute hosts',
    run: (ctx) => withClient(ctx, async (client) => {
      const hosts = await client.listHosts();
      print(ctx, hosts, () => fmt.hostList(hosts));
      return 0;
    }),
  },
  {
    path: ['host', 'show'],
    args: ['NAME'],
    options: CLIENT_OPTIONS,
    synopsis: 'NAME',
    summary: 'show one host, as its host actor sees it',
    run: (ctx) => withClient(ctx, async (client) => {
      const h = await client.getHost(ctx.args[0]!);
      print(ctx, h, () => fmt.hostShow(h));
      return 0;
    }),
  },
  {
    path: ['flavor', 'list'],
    args: [],
    options: CLIENT_OPTIONS,
    synopsis: '',
    summary: 'list flavors',
    run: (ctx) => withClient(ctx, async (client) => {
      const flavors = await client.listFlavors();
      print(ctx, flavors, () => fmt.flavorList(flavors));
      return 0;
    }),
  },
];
