/**
 * `novact up` as a user runs it (stopped by SIGINT), host credentials and registration, and `--join`
 * (split from cli.test.ts so each file stays well inside tap's per-file timeout).
 */
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerView } from '../../protocols/messages.js';
import { cliFixture, MAIN, ROOT } from './run-novact.js';
import { connectNats, splitCredentials } from '../../runtime/nats/connection.js';


const { cluster, dir, imageName, novact } = await cliFixture(t);

async function upProcess(t: Test, args: string[], state: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'up', ...args], {
    cwd: ROOT,
    env: { ...process.env, NOVACT_STATE_FILE: state, NATS_URL: undefined, DATABASE_URL: undefined, NOVACT_LOG: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const running = new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (stdout.includes('novact is running')) resolve();
    });
    void exited.then(() => reject(new Error(`novact up exited early: ${stderr}`)));
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  await running;
  return { child, exited, stdout: () => stdout, stderr: () => stderr };
}

t.test('novact up: runs, writes its state file, stops on SIGINT', async (t) => {
  const state = join(dir, 'up.json');
  const up = await upProcess(t, ['--hosts', '1'], state);
  const { child, exited } = up;
  const stdout = up.stdout();
  const stderr = up.stderr();

  t.match(stdout, /NATS: +nats:\/\/127\.0\.0\.1:\d+ \(embedded nats-server; user client/);
  t.match(stdout, /PostgreSQL: +postgresql:\/\/\S+ \(embedded, temporary\)/);
  t.match(stdout, /hosts: +1 fake/);
  t.match(stdout, /nats .*req novact\.instance\.<id>\.get ''/);
  t.match(stdout, /nats .*sub 'novact\.evt\.>'/);
  t.match(stdout, /novact server list/);
  t.ok(existsSync(state), 'state file written');
  const recorded = JSON.parse(readFileSync(state, 'utf8')) as { natsUrl: string; subjectRoot: string; pid: number };
  t.equal(recorded.pid, child.pid);
  t.equal(recorded.subjectRoot, 'novact');
  const password = decodeURIComponent(new URL(recorded.natsUrl).password);
  t.ok(password.length > 10, 'the state file holds the client password');
  t.notOk(stdout.includes(password), 'the banner does not (M2)');
  const admin = (JSON.parse(readFileSync(state, 'utf8')) as { adminPassword?: string }).adminPassword;
  t.ok(admin && !stdout.includes(admin), 'nor the generated admin password, which is in the state file');
  t.match(stdout, /nats --inbox-prefix _INBOX_client req/, "the NATS CLI is shown with the client user's inbox prefix");

  const images = await novact(['image', 'list', '--json'], { NATS_URL: undefined, NOVACT_STATE_FILE: state });
  t.equal(images.code, 0, 'a client command finds it through the state file', { stderr: images.stderr });

  child.kill('SIGINT');
  const { code, signal } = await exited;
  t.equal(code, 0, 'exits 0 after SIGINT', { stderr });
  t.equal(signal, null);
  t.notOk(existsSync(state), 'state file removed');
});

t.test('novact host credentials / register: an nkey identity per host, its seed in a 0600 file', async (t) => {
  const seedFile = join(dir, 'h-x.seed');
  const creds = await novact(['host', 'credentials', 'h-x', '--seed-file', seedFile]);
  t.equal(creds.code, 0, 'host credentials', { stderr: creds.stderr });
  t.match(creds.stdout, /\{ nkey: U[A-Z2-7]{55}, permissions: \{ publish: \["novact\.report\.host\.h-x\.\*",/, 'a users entry for nats.conf');
  t.equal(statSync(seedFile).mode & 0o777, 0o600, 'seed readable by its owner only');
  t.notOk(creds.stdout.includes(readFileSync(seedFile, 'utf8').trim()), 'the seed is not printed');
  const bad = await novact(['host', 'credentials', 'a"b']);
  t.equal(bad.code, 2, 'a name that could break out of the config is refused');

  const regSeed = join(dir, 'reg-1.seed');
  const reg = await novact(['host', 'register', 'reg-1', '--seed-file', regSeed]);
  t.equal(reg.code, 0, 'host register against the running cluster', { stderr: reg.stderr });
  const seed = readFileSync(regSeed, 'utf8').trim();
  const nc = await connectNats({ servers: splitCredentials(cluster.natsUrl).url, name: 'reg', nkeySeed: seed });
  await nc.close();
  t.pass('the registered identity connects (the server reloaded; no restart)');
});

t.test('novact up --join: the compute role in a second process serves the first one\'s cluster', async (t) => {
  const state = join(dir, 'split.json');
  const main = await upProcess(t, ['--roles', 'conductor,scheduler,image'], state);
  t.match(main.stdout(), /roles: +conductor, scheduler, image/);
  const computes = await upProcess(t, ['--join', '--hosts', '2', '--metrics-port', '0'], state);
  t.match(computes.stdout(), /joined the cluster in .*split\.json/);
  t.match(computes.stdout(), /roles: +compute/);
  // A joined process without the API has its own operations port: probes and metrics.
  const opsUrl = /operations: +(http:\/\/127\.0\.0\.1:\d+)\/metrics/.exec(computes.stdout())?.[1];
  t.ok(opsUrl, 'the banner names the operations port');
  t.equal((await fetch(`${opsUrl}/healthz`)).status, 200);
  t.equal((await fetch(`${opsUrl}/readyz`)).status, 200);
  t.match(await (await fetch(`${opsUrl}/metrics`)).text(), /novact_nats_connected\{role="compute"\} 1/);

  const env = { NATS_URL: undefined, NOVACT_STATE_FILE: state };
  const boot = await novact(['server', 'create', '--name', 'split-1', '--flavor', 'm1.tiny', '--image', imageName, '--wait', '--json'], env);
  t.equal(boot.code, 0, 'a server boots on a host of the joined process', { stderr: boot.stderr });
  const server = JSON.parse(boot.stdout) as ServerView;
  t.equal(server.status, 'ACTIVE');
  // The joiner's own names (`<machine>-<tag>-N`), never the owner's `compute-N`.
  const joinedHost = /hosts: +2 fake \((\S+)-1 … \1-2\)/.exec(computes.stdout())?.[1];
  t.ok(joinedHost && !joinedHost.startsWith('compute'), `joined hosts have their own prefix (${joinedHost})`);
  t.match(server.host, new RegExp(`^${joinedHost}-[12]$`));

  computes.child.kill('SIGINT');
  t.equal((await computes.exited).code, 0, 'the joined process stops cleanly');
  t.ok(existsSync(state), 'and leaves the state file to its owner');
  main.child.kill('SIGINT');
  t.equal((await main.exited).code, 0);
  t.notOk(existsSync(state), 'the owner removes it');

  const orphan = await novact(['up', '--join'], { NATS_URL: undefined, NOVACT_STATE_FILE: state });
  t.equal(orphan.code, 2, '--join without a running cluster is a clear error');
  t.match(orphan.stderr, /--join needs a running 'novact up'/);
  const bad = await novact(['up', '--roles', 'compute,teapot'], { NATS_URL: undefined, NOVACT_STATE_FILE: state });
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--roles takes some of conductor,scheduler,compute,image,network,api; got 'compute,teapot'/);
});
