/**
 * Host identities from the command line. `host credentials` (no cluster needed): a new nkey for
 * hosts on your own nats-server, the seed to a 0600 file and the `users` entry to paste at
 * nats.conf's `# @novact:host-users` line. `host register`: the same identity, registered with the
 * running cluster's embedded server (operator credential; the server reloads, no restart).
 * A compute process then runs with `novact up --roles compute --host-seed FILE …`.
 */
import { writeFileSync } from 'node:fs';
import { isValidHostName } from '../protocols/host-identity.js';
import { DEFAULT_ROOT, Subjects } from '../protocols/subjects.js';
import { systemClock } from '../runtime/clock.js';
import { createLogger } from '../runtime/log/logger.js';
import { Bridge } from '../runtime/nats/bridge.js';
import { newHostIdentity, type HostIdentity } from '../runtime/nats/host-identity.js';
import { registerHosts } from '../runtime/nats/host-registrar.js';
import { hostUserEntry } from '../runtime/nats/nats-conf.js';
import { connectTo, resolveTarget } from './commands.js';
import { UsageError, strOption, type CommandSpec, type RunContext } from './usage.js';

function hostNames(ctx: RunContext, spec: CommandSpec): string[] {
  const names = [...new Set(ctx.args[0]!.split(',').map((n) => n.trim()))];
  const bad = names.find((n) => !isValidHostName(n));
  if (bad !== undefined) throw new UsageError(`invalid host name '${bad}' (letters, digits, '-' and '_', at most 63)`, spec);
  return names;
}

/** The seed, to a file only its owner can read; never over an existing one. */
function writeSeed(ctx: RunContext, names: string[], id: HostIdentity): string {
  const file = strOption(ctx.values, 'seed-file') ?? `${names[0]}.seed`;
  writeFileSync(file, `${id.seed}\n`, { mode: 0o600, flag: 'wx' });
  return file;
}

const CREDENTIALS: CommandSpec = {
  path: ['host', 'credentials'],
  args: ['NAMES'],
  options: ['seed-file', 'subject-root'],
  synopsis: 'NAME[,NAME…] [--seed-file FILE] [--subject-root ROOT]',
  summary: 'make a host identity for your own nats-server: seed to FILE, nats.conf entry to stdout',
  async run(ctx) {
    const names = hostNames(ctx, CREDENTIALS);
    const root = new Subjects(strOption(ctx.values, 'subject-root') ?? (ctx.env.NOVACT_SUBJECT_ROOT || DEFAULT_ROOT)).root;
    const id = newHostIdentity();
    const entry = hostUserEntry(root, { publicKey: id.publicKey, hosts: names });
    const seedFile = writeSeed(ctx, names, id);
    if (ctx.values.json) ctx.out.write(`${JSON.stringify({ publicKey: id.publicKey, hosts: names, seedFile, natsConf: entry })}\n`);
    else ctx.out.write(`# ${names.join(', ')}: seed in ${seedFile}; add this line to nats.conf's users, then reload the server\n${entry}\n`);
    return 0;
  },
};

const REGISTER: CommandSpec = {
  path: ['host', 'register'],
  args: ['NAMES'],
  options: ['seed-file', 'nats-url', 'subject-root'],
  synopsis: 'NAME[,NAME…] [--seed-file FILE]',
  summary: 'register a host identity with the running cluster (its embedded NATS); seed to FILE',
  async run(ctx) {
    const names = hostNames(ctx, REGISTER);
    const target = resolveTarget(ctx);
    const id = newHostIdentity();
    const nc = await connectTo(target);
    try {
      await registerHosts(new Bridge(nc, systemClock, createLogger('silent')), new Subjects(target.subjectRoot), { publicKey: id.publicKey, hosts: names });
    } finally {
      await nc.close().catch(() => undefined);
    }
    const seedFile = writeSeed(ctx, names, id);
    if (ctx.values.json) ctx.out.write(`${JSON.stringify({ publicKey: id.publicKey, hosts: names, seedFile })}\n`);
    else ctx.out.write(`registered ${names.join(', ')} as ${id.publicKey}; seed in ${seedFile}\n`);
    return 0;
  },
};

export const HOST_COMMANDS: CommandSpec[] = [CREDENTIALS, REGISTER];
