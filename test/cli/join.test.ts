/**
 * M2: what `novact up --join` takes from the owner's state file. A compute-only join holds no other
 * role's secret, no client credential and no database URL; other roles get exactly their own user.
 */
import t from 'tap';
import { hostNames, joinHostPrefix } from '../../cli/host-names.js';
import { joinCredentials } from '../../cli/join.js';
import { hostNamesOption } from '../../cli/up.js';
import { UsageError } from '../../cli/usage.js';
import { isValidHostName } from '../../protocols/host-identity.js';
import type { ClusterState } from '../../cli/state-file.js';
import { generateAuth } from '../../runtime/nats/credentials.js';

const auth = generateAuth();
const databaseUrl = 'postgresql://novact:db-secret-7f3a@127.0.0.1:5432/novact';
// What the owner writes: every role user for joiners to pick from (client in the URL, for the CLI).
const state: ClusterState & { join: NonNullable<ClusterState['join']> } = {
  natsUrl: `nats://client:${auth.client.pass}@127.0.0.1:4222`,
  subjectRoot: 'novact',
  pid: 1,
  join: { natsUrl: 'nats://127.0.0.1:4222', natsAuth: { conductor: auth.conductor, scheduler: auth.scheduler, image: auth.image, api: auth.api }, databaseUrl },
};
const secrets = Object.values(auth).map((a) => a.pass);

t.test('a compute-only join holds no role secret, no client credential, no database URL', async (t) => {
  const spec = joinCredentials(state, ['compute']);
  const text = JSON.stringify(spec);
  for (const s of secrets) t.notOk(text.includes(s), 'no password of any user');
  t.notOk(text.includes('db-secret'), 'no database URL');
  t.same(spec, { natsUrl: 'nats://127.0.0.1:4222', natsAuth: {}, subjectRoot: 'novact' });
});

t.test('a scheduler join gets the scheduler user and the database, nothing else', async (t) => {
  const spec = joinCredentials(state, ['scheduler']);
  t.same(spec.natsAuth, { scheduler: auth.scheduler });
  t.equal(spec.databaseUrl, databaseUrl);
  const text = JSON.stringify(spec);
  for (const u of ['conductor', 'image', 'api', 'client', 'registrar'] as const) t.notOk(text.includes(auth[u].pass), `no ${u} password`);
});

t.test("a joining process names its hosts apart from the owner's and from other joiners", async (t) => {
  const owner = hostNamesOption({}, false, 3);
  t.same(owner.names, ['compute-1', 'compute-2', 'compute-3'], 'the owner keeps compute-N');
  const a = hostNamesOption({}, true, 3).names;
  const b = hostNamesOption({}, true, 3).names;
  const all = [...owner.names, ...a, ...b];
  t.equal(new Set(all).size, all.length, `no name twice (${all.join(' ')})`);
  t.ok(all.every(isValidHostName), 'all valid host names');
  t.same(hostNamesOption({ 'host-prefix': 'rack7' }, true, 2).names, ['rack7-1', 'rack7-2'], '--host-prefix picks them');
  t.throws(() => hostNamesOption({ 'host-prefix': 'bad name' }, true, 1), UsageError, 'a prefix that makes no host name is refused');
});

t.test('the default join prefix: the machine name, reduced to host-name characters, and a random tag', async (t) => {
  t.equal(joinHostPrefix('node7.example.com', 'ab12'), 'node7-ab12', 'the first DNS label');
  t.equal(joinHostPrefix('..', 'ab12'), 'join-ab12', 'nothing usable left: a fallback');
  t.equal(joinHostPrefix('_my box!', 'ab12'), 'my-box--ab12');
  t.ok(hostNames(joinHostPrefix('x'.repeat(200)), 100_000).every(isValidHostName), 'a long machine name still fits 63 characters');
});
