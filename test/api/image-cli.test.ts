/**
 * The real `openstack` CLI (Debian's openstackclient 6.0) driving the Glance features it has
 * commands for: `image create --import` (the SDK stages the data, then imports it with
 * glance-direct, reading the import methods from the create response's header), and sharing with
 * `image add project`, `image member list`, `image set --accept` and `image remove project`. This
 * CLI has no `image import` or `image metadef` commands (checked below, so a newer one is noticed).
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { startApiCluster } from '../harness/api-http.js';
import { openstackCli } from '../harness/openstack-cli.js';
import { waitFor } from '../harness/poll.js';

const { cluster, http, admin } = await startApiCluster(t, { hosts: 1 });
const { osc, json, ok, dir } = openstackCli(t, cluster.apiUrl!);
const guest = await http.member(admin, 'cli-guest', 'gina', 'member');
const GUEST = { name: 'gina', password: guest.password, project: 'cli-guest' };

t.test('image create --import: staged, then imported with glance-direct', async (t) => {
  const file = join(dir, 'import.raw');
  const data = Buffer.alloc(300_000, 3);
  writeFileSync(file, data);
  const created = await json(t, ['image', 'create', '--import', '--file', file, '--disk-format', 'raw', '--container-format', 'bare', '--shared', 'cli-imported']);
  t.equal(created.name, 'cli-imported');
  // The import goes on after the CLI returns.
  await waitFor('imported', async () => (await http.get(`/image/v2/images/${created.id}`, { token: admin })).body.status === 'active');
  const shown = await json(t, ['image', 'show', 'cli-imported']);
  t.equal(shown.status, 'active');
  t.equal(shown.size, data.length);
  t.equal(shown.checksum, createHash('md5').update(data).digest('hex'));
  t.match(shown.properties, { stores: 'local' });
});

t.test('image add project / member list / set --accept / remove project', async (t) => {
  const id = (await json(t, ['image', 'show', 'cli-imported'])).id as string;
  const added = await json(t, ['image', 'add', 'project', 'cli-imported', 'cli-guest']);
  t.match(added, { image_id: id, member_id: guest.projectId, status: 'pending' });
  const members = await json(t, ['image', 'member', 'list', 'cli-imported']);
  t.same(members.map((m: { 'Member ID': string; Status: string }) => [m['Member ID'], m.Status]), [[guest.projectId, 'pending']]);
  await ok(t, ['image', 'set', '--accept', id], GUEST);
  t.ok((await json(t, ['image', 'list'], GUEST)).some((i: { ID: string }) => i.ID === id), 'accepted: in the guest’s list');
  t.equal((await json(t, ['image', 'member', 'list', id], GUEST))[0].Status, 'accepted');
  await ok(t, ['image', 'remove', 'project', 'cli-imported', 'cli-guest']);
  t.same(await json(t, ['image', 'member', 'list', 'cli-imported']), []);
  const gone = await osc(['image', 'show', id], GUEST);
  t.not(gone.code, 0, 'no longer a member: not visible');
});

t.test('this CLI has no image import or metadef commands', async (t) => {
  const help = await osc(['help']);
  t.equal(help.code, 0);
  t.notMatch(help.stdout, /image metadef|image import/);
});
