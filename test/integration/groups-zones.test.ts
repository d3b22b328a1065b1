import t from 'tap';
import { startTestCluster, waitAll, settled } from '../harness/cluster.js';

const { cluster } = await startTestCluster(t, { hosts: 5 });
const { client } = cluster;
const image = (await client.listImages())[0]!;

type Group = { serverGroup: { id: string; members: string[]; policy: string } };
type Agg = { aggregate: { id: number; hosts: string[]; availabilityZone: string | null } };

async function bootMany(n: number, extra: Record<string, unknown>) {
  const created = await Promise.all(
    Array.from({ length: n }, (_, i) => client.createServer({ name: `g-${i}`, flavorRef: 'm1.tiny', imageRef: image.id, ...extra })),
  );
  return waitAll(cluster, created.map((s) => s.id), settled);
}

async function deleteAll(ids: string[]) {
  await Promise.all(ids.map((id) => client.deleteServer(id)));
  await waitAll(cluster, ids, (s) => s.status === 'DELETED');
}

t.test('anti-affinity: concurrent members land on distinct hosts; one more than hosts fails', async (t) => {
  const { serverGroup: g } = await client.serverGroup<Group>('create', { name: 'spread', policy: 'anti-affinity' });
  const done = await bootMany(5, { schedulerHints: { group: g.id } });
  t.ok(done.every((s) => s.status === 'ACTIVE'), 'all five ACTIVE');
  t.equal(new Set(done.map((s) => s.host)).size, 5, 'five distinct hosts');
  const [sixth] = await bootMany(1, { schedulerHints: { group: g.id } });
  t.equal(sixth!.status, 'ERROR', 'a sixth member has nowhere to go');
  t.match(sixth!.fault?.message, /No valid host/);
  t.match(sixth!.fault?.message, /ServerGroupAntiAffinityFilter removed 5/, 'NoValidHost says which filter removed the hosts');
  const { serverGroup: after } = await client.serverGroup<Group>('get', { id: g.id });
  t.equal(after.members.length, 5, 'the failed build did not stay a member');
  await deleteAll([...done, sixth!].map((s) => s.id));
  t.same((await client.serverGroup<Group>('get', { id: g.id })).serverGroup.members, [], 'deleted members leave the group');
});

t.test('anti-affinity with max_server_per_host 2 packs two per host', async (t) => {
  const { serverGroup: g } = await client.serverGroup<Group>('create', { name: 'pairs', policy: 'anti-affinity', maxServerPerHost: 2 });
  const done = await bootMany(10, { schedulerHints: { group: g.id } });
  t.ok(done.every((s) => s.status === 'ACTIVE'));
  const perHost = new Map<string, number>();
  for (const s of done) perHost.set(s.host!, (perHost.get(s.host!) ?? 0) + 1);
  t.ok([...perHost.values()].every((n) => n <= 2), `at most two per host: ${JSON.stringify([...perHost])}`);
  await deleteAll(done.map((s) => s.id));
  await t.rejects(client.serverGroup('create', { name: 'bad', policy: 'affinity', maxServerPerHost: 2 }), { code: 400 });
});

t.test('affinity: every member on the same host', async (t) => {
  const { serverGroup: g } = await client.serverGroup<Group>('create', { name: 'together', policy: 'affinity' });
  const first = await bootMany(1, { schedulerHints: { group: g.id } });
  const rest = await bootMany(4, { schedulerHints: { group: g.id } });
  const all = [...first, ...rest];
  t.ok(all.every((s) => s.status === 'ACTIVE'));
  t.equal(new Set(all.map((s) => s.host)).size, 1, 'one host');
  await deleteAll(all.map((s) => s.id));
});

t.test('soft anti-affinity prefers spreading but never refuses', async (t) => {
  const { serverGroup: g } = await client.serverGroup<Group>('create', { name: 'soft', policy: 'soft-anti-affinity' });
  const done = [];
  for (let i = 0; i < 7; i++) done.push(...(await bootMany(1, { schedulerHints: { group: g.id } })));
  t.ok(done.every((s) => s.status === 'ACTIVE'), 'seven members on five hosts, all ACTIVE');
  t.equal(new Set(done.slice(0, 5).map((s) => s.host)).size, 5, 'the first five spread over every host');
  await deleteAll(done.map((s) => s.id));
});

t.test('a build into a group that does not exist is refused before anything is created', async (t) => {
  const missing = '00000000-0000-4000-8000-00000000aaaa';
  await t.rejects(client.createServer({ name: 'x', flavorRef: 'm1.tiny', imageRef: image.id, schedulerHints: { group: missing } }), { code: 400 });
  await t.rejects(client.createServer({ name: 'x', flavorRef: 'm1.tiny', imageRef: image.id, schedulerHints: { color: 'red' } as never }), { code: 400 });
  t.equal((await client.listServers({ name: 'x' })).length, 0);
});

t.test('same_host and different_host hints', async (t) => {
  const [anchor] = await bootMany(1, {});
  const [near] = await bootMany(1, { schedulerHints: { same_host: anchor!.id } });
  const [far] = await bootMany(1, { schedulerHints: { different_host: [anchor!.id, near!.id] } });
  t.equal(near!.host, anchor!.host, 'same_host');
  t.not(far!.host, anchor!.host, 'different_host');
  await deleteAll([anchor!, near!, far!].map((s) => s.id));
});

t.test('availability zones come from aggregates; a host is in at most one zone', async (t) => {
  const { aggregate: az1 } = await client.aggregate<Agg>('create', { name: 'rack-1', availabilityZone: 'az1' });
  await client.aggregate('add-host', { id: az1.id, host: 'compute-4' });
  const { aggregate: withHosts } = await client.aggregate<Agg>('add-host', { id: az1.id, host: 'compute-5' });
  t.same(withHosts.hosts, ['compute-4', 'compute-5']);

  const inZone = await bootMany(4, { availabilityZone: 'az1' });
  t.ok(inZone.every((s) => s.status === 'ACTIVE' && ['compute-4', 'compute-5'].includes(s.host!)), 'zone builds stay in the zone');
  const defaultZone = await bootMany(3, { availabilityZone: 'nova' });
  t.ok(defaultZone.every((s) => !['compute-4', 'compute-5'].includes(s.host!)), "hosts outside any zone aggregate are in 'nova'");
  const [nowhere] = await bootMany(1, { availabilityZone: 'az9' });
  t.equal(nowhere!.status, 'ERROR', 'an unknown zone has no hosts');

  const { aggregate: az2 } = await client.aggregate<Agg>('create', { name: 'rack-2', availabilityZone: 'az2' });
  await t.rejects(client.aggregate('add-host', { id: az2.id, host: 'compute-4' }), { code: 409, message: /at most one zone/ }, 'second zone refused');
  const { aggregate: plain } = await client.aggregate<Agg>('create', { name: 'ssd' });
  await client.aggregate('add-host', { id: plain.id, host: 'compute-4' });
  t.pass('a host may be in many aggregates without a zone');
  await t.rejects(client.aggregate('set-metadata', { id: plain.id, metadata: { availability_zone: 'az2' } }), { code: 409 }, 'nor get a second zone through metadata');
  await t.rejects(client.aggregate('delete', { id: az1.id }), { code: 400 }, 'an aggregate with hosts cannot be deleted');
  await t.rejects(client.aggregate('create', { name: 'rack-1' }), { code: 409 }, 'names are unique');
  await t.rejects(client.aggregate('get', { id: 999 }), { code: 404 });

  const zones = (await client.aggregate<{ zones: { zone: string; hosts: string[] }[] }>('zones')).zones;
  t.same(zones.find((z) => z.zone === 'az1')?.hosts, ['compute-4', 'compute-5']);

  await client.aggregate('remove-host', { id: plain.id, host: 'compute-4' });
  await client.aggregate('delete', { id: plain.id });
  await client.aggregate('delete', { id: az2.id });
  await deleteAll([...inZone, ...defaultZone, nowhere!].map((s) => s.id));
});

t.test('multi-create places the whole batch or none of it', async (t) => {
  const five = await client.createServers({ name: 'batch', flavorRef: 'm1.tiny', imageRef: image.id, minCount: 5, maxCount: 5 });
  t.same(five.map((s) => s.name), ['batch-1', 'batch-2', 'batch-3', 'batch-4', 'batch-5'], 'Nova names: <name>-<n>');
  const done = await waitAll(cluster, five.map((s) => s.id), settled);
  t.ok(done.every((s) => s.status === 'ACTIVE'), 'all ACTIVE');

  const { serverGroup: g } = await client.serverGroup<Group>('create', { name: 'batch-spread', policy: 'anti-affinity' });
  const spread = await client.createServers({ name: 'spread', flavorRef: 'm1.tiny', imageRef: image.id, maxCount: 5, schedulerHints: { group: g.id } });
  const placed = await waitAll(cluster, spread.map((s) => s.id), settled);
  t.equal(new Set(placed.map((s) => s.host)).size, 5, 'a batch honours anti-affinity among its own members');

  const before = await cluster.ledger!.totals();
  const { serverGroup: g2 } = await client.serverGroup<Group>('create', { name: 'too-many', policy: 'anti-affinity' });
  const six = await client.createServers({ name: 'six', flavorRef: 'm1.tiny', imageRef: image.id, maxCount: 6, schedulerHints: { group: g2.id } });
  const failed = await waitAll(cluster, six.map((s) => s.id), settled);
  t.ok(failed.every((s) => s.status === 'ERROR' && /placed 5/.test(s.fault?.message ?? '')), 'six members for five hosts: all six fail');
  t.same(await cluster.ledger!.totals(), before, 'and nothing stays claimed');

  await t.rejects(client.createServers({ name: 'x', flavorRef: 'm1.tiny', imageRef: image.id, minCount: 3, maxCount: 2 }), { code: 400 });
  await t.rejects(client.createServers({ name: 'x', flavorRef: 'm1.tiny', imageRef: image.id, maxCount: 100_000 }), { code: 400 });
  await deleteAll([...done, ...placed, ...failed].map((s) => s.id));
});

t.test('allocation ratios per aggregate reach the ledger, lowest wins', async (t) => {
  const ratioOf = async (host: string) => {
    const snap = await cluster.ledger!.snapshot();
    return snap.find((p) => p.provider === host)?.inventory.VCPU?.allocationRatio;
  };
  /** Waits until the scheduler has written compute-2's inventory with the expected ratio. */
  const ratioBecomes = async (want: number) => {
    while ((await ratioOf('compute-2')) !== want) {
      await new Promise<void>((resolve) => {
        const on = (host: string) => {
          if (host !== 'compute-2') return;
          cluster.scheduler!.events.off('report', on);
          resolve();
        };
        cluster.scheduler!.events.on('report', on);
      });
    }
    return want;
  };
  t.equal(await ratioOf('compute-2'), 16, 'the global cpu ratio');
  const { aggregate: a } = await client.aggregate<Agg>('create', { name: 'dense' });
  await client.aggregate('add-host', { id: a.id, host: 'compute-2' });
  await client.aggregate('set-metadata', { id: a.id, metadata: { cpu_allocation_ratio: '4.0' } });
  t.equal(await ratioBecomes(4), 4, 'the aggregate ratio replaces it');
  const { aggregate: b } = await client.aggregate<Agg>('create', { name: 'denser' });
  await client.aggregate('add-host', { id: b.id, host: 'compute-2' });
  await client.aggregate('set-metadata', { id: b.id, metadata: { cpu_allocation_ratio: '2.0' } });
  t.equal(await ratioBecomes(2), 2, 'the lowest of two aggregates wins');
  await client.aggregate('set-metadata', { id: b.id, metadata: { cpu_allocation_ratio: null } });
  t.equal(await ratioBecomes(4), 4, 'removing the key restores the other');
  for (const agg of [a, b]) {
    await client.aggregate('remove-host', { id: agg.id, host: 'compute-2' });
    await client.aggregate('delete', { id: agg.id });
  }
  t.equal(await ratioBecomes(16), 16, 'back to the global ratio');
});

t.test('a disabled compute service gets no builds; enabling it brings it back', async (t) => {
  await cluster.conductor!.computeNodes.flush();
  const applied = (host: string, enabled: boolean) =>
    new Promise<void>((resolve) => {
      const on = (h: string, e: boolean) => {
        if (h !== host || e !== enabled) return;
        cluster.scheduler!.events.off('service', on);
        resolve();
      };
      cluster.scheduler!.events.on('service', on);
    });
  const disabledSeen = applied('compute-3', false);
  await client.bridge.request(cluster.subjects.conductor('service-update'), 'service-update', { host: 'compute-3', disabled: true, disabledReason: 'maintenance' }, { timeoutMs: 5_000, idempotencyKey: 'svc-off' });
  await disabledSeen;
  const done = await bootMany(8, {});
  t.ok(done.every((s) => s.status === 'ACTIVE' && s.host !== 'compute-3'), 'nothing lands on the disabled host');
  const enabledSeen = applied('compute-3', true);
  await client.bridge.request(cluster.subjects.conductor('service-update'), 'service-update', { host: 'compute-3', disabled: false }, { timeoutMs: 5_000, idempotencyKey: 'svc-on' });
  await enabledSeen;
  t.equal(cluster.scheduler!.states.get('compute-3')?.enabled, true);
  await deleteAll(done.map((s) => s.id));
});
