/**
 * The `novact` CLI as a user runs it: a child process per command against one in-process cluster,
 * checking exit codes, JSON output and the error lines.
 * (`novact up` itself, host credentials and `--join`: cli-up.test.ts.)
 */
import t, { type Test } from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ComputeNodeView, InstanceActionView, ServerView } from '../../protocols/messages.js';
import type { Flavor, ImageMeta } from '../../protocols/resources.js';
import { cliFixture } from './run-novact.js';

const UNKNOWN_UUID = '00000000-0000-4000-8000-000000000000';

const { cluster, dir, imageName, novact } = await cliFixture(t);

/** Runs a command that must succeed with `--json` and returns its parsed output. */
async function json<T>(t: Test, args: string[]): Promise<T> {
  const r = await novact([...args, '--json']);
  t.equal(r.code, 0, `novact ${args.join(' ')} exits 0`, { stderr: r.stderr });
  return JSON.parse(r.stdout) as T;
}

t.test('a server through its life', async (t) => {
  const created = await json<ServerView>(t, ['server', 'create', '--flavor', 'm1.tiny', '--image', imageName, '--name', 'cli-1', '--wait']);
  t.equal(created.status, 'ACTIVE');
  t.equal(created.name, 'cli-1');
  t.ok(created.host, 'placed on a host');
  const id = created.id;

  const listed = await json<ServerView[]>(t, ['server', 'list']);
  t.ok(listed.some((s) => s.id === id), 'list has the server');
  const onHost = await json<ServerView[]>(t, ['server', 'list', '--host', created.host!, '--status', 'ACTIVE']);
  t.same(onHost.map((s) => s.id), [id], 'filters by host and status');
  const table = await novact(['server', 'list']);
  t.equal(table.code, 0);
  t.match(table.stdout, /\| ID\s+\| Name\s+\| Status/);
  t.match(table.stdout, new RegExp(`\\| ${id} \\| cli-1 +\\| ACTIVE`));

  const shown = await json<ServerView>(t, ['server', 'show', id]);
  t.equal(shown.id, id);
  t.equal(shown.flavor.name, 'm1.tiny');
  const shownTable = await novact(['server', 'show', id]);
  t.match(shownTable.stdout, /\| status +\| ACTIVE/);

  const stopped = await json<ServerView>(t, ['server', 'stop', id, '--wait']);
  t.equal(stopped.status, 'SHUTOFF');
  t.equal(stopped.taskState, null);
  const started = await json<ServerView>(t, ['server', 'start', id, '--wait']);
  t.equal(started.status, 'ACTIVE');
  const rebooted = await json<ServerView>(t, ['server', 'reboot', id, '--hard', '--wait']);
  t.equal(rebooted.status, 'ACTIVE');
  t.equal(rebooted.taskState, null);

  const actions = await json<InstanceActionView[]>(t, ['server', 'actions', id]);
  t.same(new Set(actions.map((a) => a.action)), new Set(['create', 'stop', 'start', 'reboot']));
  t.equal(actions.find((a) => a.action === 'create')?.result, 'Success');
  const actionsTable = await novact(['server', 'actions', id]);
  t.match(actionsTable.stdout, /\| create +\|/);

  const deleted = await json<{ id: string; status: string }>(t, ['server', 'delete', id, '--wait']);
  t.same(deleted, { id, status: 'DELETED' });
  const gone = await novact(['server', 'show', id]);
  t.equal(gone.code, 1);
  t.match(gone.stderr, /HTTP 404/);
});

t.test('table actions with arguments: rescue, unrescue, rebuild; a query prints the host\'s answer', async (t) => {
  const created = await json<ServerView>(t, ['server', 'create', '--flavor', 'm1.tiny', '--image', imageName, '--name', 'cli-rescue', '--wait']);
  const id = created.id;
  const rescued = await json<ServerView>(t, ['server', 'rescue', id, '--args', '{"adminPass":"pw"}', '--wait']);
  t.equal(rescued.status, 'RESCUE');
  const out = await novact(['server', 'getConsoleOutput', id, '--args', '{"length":1}']);
  t.equal(out.code, 0, out.stderr);
  t.match(out.stdout, /^fake-hv: rescue boot from image \S+\n$/, 'the last console line, as text');
  t.equal((await json<ServerView>(t, ['server', 'unrescue', id, '--wait'])).status, 'ACTIVE');
  const rebuilt = await json<ServerView>(t, ['server', 'rebuild', id, '--args', JSON.stringify({ imageRef: created.imageId }), '--wait']);
  t.equal(rebuilt.status, 'ACTIVE');
  const actions = await json<InstanceActionView[]>(t, ['server', 'actions', id]);
  t.same(actions.map((a) => a.action), ['rebuild', 'unrescue', 'rescue', 'create']);
});

t.test('hosts, flavors, images', async (t) => {
  // Independent read-only commands: run them side by side.
  const [hosts, hostTable, host, flavors, flavorTable, images, imageTable] = await Promise.all([
    novact(['host', 'list', '--json']),
    novact(['host', 'list']),
    novact(['host', 'show', 'compute-1', '--json']),
    novact(['flavor', 'list', '--json']),
    novact(['flavor', 'list']),
    novact(['image', 'list', '--json']),
    novact(['image', 'list']),
  ]);
  for (const r of [hosts, hostTable, host, flavors, flavorTable, images, imageTable]) t.equal(r.code, 0, 'exits 0', { stderr: r.stderr });

  t.same((JSON.parse(hosts.stdout) as ComputeNodeView[]).map((h) => h.host).sort(), ['compute-1', 'compute-2']);
  t.match(hostTable.stdout, /\| compute-1 \| up +\| enabled/);
  t.equal((JSON.parse(host.stdout) as { host: string }).host, 'compute-1');

  t.ok((JSON.parse(flavors.stdout) as Flavor[]).some((f) => f.name === 'm1.tiny'));
  t.match(flavorTable.stdout, /\| m1\.tiny +\|/);

  t.ok((JSON.parse(images.stdout) as ImageMeta[]).some((i) => i.name === imageName && i.status === 'active'));
  t.match(imageTable.stdout, new RegExp(`\\| ${imageName.replace(/\./g, '\\.')} +\\| active`));
});

t.test('failures', async (t) => {
  const absent = join(dir, 'nonexistent.json');
  const [notFound, badFlavor, unknownCommand, unknownFlag, foreignFlag, missingArg, missingFlags, unreachable, nothing] = await Promise.all([
    novact(['server', 'show', UNKNOWN_UUID]),
    novact(['server', 'create', '--flavor', 'no-such-flavor', '--image', imageName]),
    novact(['frobnicate']),
    novact(['server', 'list', '--bogus']),
    novact(['flavor', 'list', '--hard']),
    novact(['server', 'show']),
    novact(['server', 'create', '--flavor', 'm1.tiny']),
    novact(['server', 'list'], { NATS_URL: 'nats://127.0.0.1:1', NOVACT_STATE_FILE: absent }),
    novact(['server', 'list'], { NATS_URL: undefined, NOVACT_STATE_FILE: absent }),
  ]);

  t.equal(notFound.code, 1, 'unknown server: exit 1');
  t.match(notFound.stderr, /^error: .* \(HTTP 404 itemNotFound\)\n$/);
  t.notMatch(notFound.stderr, /\n\s+at /, 'no stack trace');

  t.equal(badFlavor.code, 1, 'unknown flavor: exit 1');
  t.match(badFlavor.stderr, /HTTP 400/);

  t.equal(unknownCommand.code, 2, 'unknown command: exit 2');
  t.match(unknownCommand.stderr, /unknown command 'frobnicate'/);
  t.match(unknownCommand.stderr, /usage: novact/);

  t.equal(unknownFlag.code, 2, 'unknown flag: exit 2');
  t.equal(foreignFlag.code, 2, "another command's flag: exit 2");
  t.equal(missingArg.code, 2, 'missing argument: exit 2');
  t.match(missingArg.stderr, /usage: novact server show ID/);
  t.equal(missingFlags.code, 2, 'create without --image: exit 2');

  t.equal(unreachable.code, 2, 'no NATS: exit 2');
  t.match(unreachable.stderr, /cannot connect to NATS at nats:\/\/127\.0\.0\.1:1/);
  t.equal(nothing.code, 2, 'no cluster configured: exit 2');
  t.match(nothing.stderr, /no novact cluster found/);
});

t.test('the state file finds the cluster', async (t) => {
  const state = join(dir, 'state.json');
  writeFileSync(state, JSON.stringify({ natsUrl: cluster.natsUrl, subjectRoot: cluster.subjects.root, pid: process.pid }));
  const r = await novact(['flavor', 'list', '--json'], { NATS_URL: undefined, NOVACT_STATE_FILE: state });
  t.equal(r.code, 0, 'found through the state file', { stderr: r.stderr });
  t.ok((JSON.parse(r.stdout) as Flavor[]).length > 0);

  // A state file whose process is gone is stale: a clear error, not a hang.
  writeFileSync(state, JSON.stringify({ natsUrl: cluster.natsUrl, subjectRoot: cluster.subjects.root, pid: 2 ** 22 + 1 }));
  const stale = await novact(['flavor', 'list'], { NATS_URL: undefined, NOVACT_STATE_FILE: state });
  t.equal(stale.code, 2);
  t.match(stale.stderr, /is not running/);
});

/** `novact up …` in the foreground; resolves once it says it is running (or has joined). */
