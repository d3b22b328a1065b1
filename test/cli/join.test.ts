/**
 * M2: what `novact up --join` takes from the owner's state file. A compute-only join holds no other
 * role's secret, no client credential and no database URL; other roles get exactly their own user.
 */
import t from 'tap';
import { joinCredentials } from '../../cli/join.js';
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
