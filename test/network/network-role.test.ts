/**
 * The network role over NATS, with its own PostgreSQL: IPAM under a race (200 concurrent port
 * creates for 100 free addresses), addresses reused after release, a refused request leaving
 * nothing behind, the state surviving a restart of the role, and Neutron's refusals.
 */
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { connect } from 'nats';
import { startNetworkRole } from '../../actors/network/network-role.js';
import { NetCreate, NetDelete, NetGet, NetInstanceAllocate, NetInstanceDeallocate, NetInstanceNics, NetList, NetQuota, NetUpdate } from '../../protocols/catalog/network.js';
import type { RequestDef } from '../../protocols/catalog/define.js';
import { NovactError } from '../../protocols/errors.js';
import { Subjects } from '../../protocols/subjects.js';
import { ActorSystem } from '../../runtime/actors/system.js';
import { systemClock } from '../../runtime/clock.js';
import { openRoleDatabases } from '../../runtime/db/role-databases.js';
import { createLogger } from '../../runtime/log/logger.js';
import { Bridge } from '../../runtime/nats/bridge.js';
import { startServers } from '../harness/servers.js';

const { nats, pg } = await startServers(t);
const log = createLogger('silent');
const subjects = new Subjects();
const dbs = await openRoleDatabases(pg.url, ['network'], {}, log);
t.teardown(() => dbs.close());
const actors = new ActorSystem(systemClock, log, `network-role-test-${process.pid}`);
t.teardown(() => actors.stop());

async function startRole() {
  const nc = await connect({ servers: nats.url, name: 'network' });
  const role = await startNetworkRole({ bridge: new Bridge(nc, systemClock, log, 10_000, subjects), subjects, actors, clock: systemClock, log, requestTimeoutMs: 10_000 }, dbs.get('network'));
  // The server has the role's subscriptions before the first request is sent (else: no responders).
  await nc.flush();
  return { role, stop: async () => { await role.stop(); await nc.drain(); } };
}
let running = await startRole();
t.teardown(() => running.stop());
const clientNc = await connect({ servers: nats.url, name: 'client' });
t.teardown(() => clientNc.drain());
const client = new Bridge(clientNc, systemClock, log, 10_000, subjects);

const alice = { projectId: 'alice', isAdmin: false };
const bob = { projectId: 'bob', isAdmin: false };
const admin = { projectId: 'admin', isAdmin: true };
const ask = <D extends RequestDef>(def: D, kind: string, body: Record<string, unknown>) =>
  client.call(def, [kind], body as never, { timeoutMs: 30_000, idempotencyKey: randomUUID() }) as Promise<Record<string, any>>;
const create = async (kind: string, by: object, attrs: Record<string, unknown>) => (await ask(NetCreate, kind, { by, attrs })).item as Record<string, any>;
async function refusal(p: Promise<unknown>): Promise<{ code: number; type: unknown; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof NovactError) return { code: err.code, type: err.details?.type, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
}

const net = await create('network', alice, { name: 'race' });
const subnet = await create('subnet', alice, { network_id: net.id, ip_version: 4, cidr: '10.9.0.0/24', allocation_pools: [{ start: '10.9.0.10', end: '10.9.0.109' }] });

t.test('200 concurrent port creates on 100 free addresses: exactly 100 ports, all distinct, 100 clean 409s', async (t) => {
  const results = await Promise.allSettled(Array.from({ length: 200 }, () => create('port', alice, { network_id: net.id })));
  const ok = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as NovactError] : []));
  t.equal(ok.length, 100, '100 ports');
  const ips = ok.map((p) => p.fixed_ips[0].ip_address as string);
  t.equal(new Set(ips).size, 100, 'all addresses distinct');
  t.ok(ips.every((ip) => /^10\.9\.0\.(\d+)$/.test(ip) && Number(ip.split('.')[3]) >= 10 && Number(ip.split('.')[3]) <= 109), 'all inside the pool');
  t.equal(new Set(ok.map((p) => p.mac_address)).size, 100, 'all MACs distinct');
  t.equal(failed.length, 100, '100 refusals');
  t.ok(failed.every((e) => e.code === 409 && e.details?.type === 'IpAddressGenerationFailure'), 'each a 409 IpAddressGenerationFailure');
  const rows = await dbs.admin.em.fork().getConnection().execute(`select count(*)::int as n from ip_allocations where subnet_id = ?`, [subnet.id]);
  t.equal(rows[0]!.n, 100, 'the database holds exactly the 100 allocations');

  // A released address is handed out again.
  const victim = ok[17]!;
  await ask(NetDelete, 'port', { by: alice, id: victim.id });
  const again = await create('port', alice, { network_id: net.id });
  t.equal(again.fixed_ips[0].ip_address, victim.fixed_ips[0].ip_address, 'the released address is reused');
});

t.test('a request refused halfway leaves no address taken', async (t) => {
  const n2 = await create('network', alice, { name: 'halfway' });
  const s2 = await create('subnet', alice, { network_id: n2.id, ip_version: 4, cidr: '10.10.0.0/29' });
  const first = await create('port', alice, { network_id: n2.id, fixed_ips: [{ ip_address: '10.10.0.3' }] });
  // .2 is free, .3 is held: the whole create fails, and .2 must stay free.
  const r = await refusal(create('port', alice, { network_id: n2.id, fixed_ips: [{ ip_address: '10.10.0.2' }, { ip_address: '10.10.0.3' }] }));
  t.equal(r.code, 409);
  t.equal(r.type, 'IpAddressAlreadyAllocated');
  const p = await create('port', alice, { network_id: n2.id, fixed_ips: [{ ip_address: '10.10.0.2' }] });
  t.equal(p.fixed_ips[0].ip_address, '10.10.0.2', '.2 was given back');
  t.equal(first.fixed_ips[0].subnet_id, s2.id);
  const inUse = await refusal(ask(NetDelete, 'network', { by: alice, id: n2.id }));
  t.same([inUse.code, inUse.type], [409, 'NetworkInUse'], 'a network with ports cannot be deleted');
  const subnetInUse = await refusal(ask(NetDelete, 'subnet', { by: alice, id: s2.id }));
  t.same([subnetInUse.code, subnetInUse.type], [409, 'SubnetInUse']);
});

t.test('tenancy: another project sees neither the network nor its ports; shared networks are seen', async (t) => {
  const nf = await refusal(ask(NetGet, 'network', { by: bob, id: net.id }));
  t.same([nf.code, nf.type], [404, 'NetworkNotFound']);
  const bobPorts = await ask(NetList, 'port', { by: bob });
  t.equal(bobPorts.items.length, 0, 'bob lists no ports');
  const portOnOthers = await refusal(create('port', bob, { network_id: net.id }));
  t.equal(portOnOthers.code, 404);
  const shared = await create('network', admin, { name: 'public-shared', shared: true });
  t.ok((await ask(NetList, 'network', { by: bob })).items.some((n: any) => n.id === shared.id), 'bob sees the shared network');
  const member = await refusal(create('network', alice, { name: 'x', shared: true }));
  t.same([member.code, member.type], [403, 'PolicyNotAuthorized'], 'a member may not share a network');
  const provider = (await ask(NetGet, 'network', { by: alice, id: net.id })).item;
  t.notOk('provider:segmentation_id' in provider, 'provider attributes hidden from members');
  const asAdmin = (await ask(NetGet, 'network', { by: admin, id: net.id })).item;
  t.equal(asAdmin['provider:network_type'], 'vlan');
  t.type(asAdmin['provider:segmentation_id'], 'number');
});

t.test('bad input is a 400 naming the attribute', async (t) => {
  const unknown = await refusal(create('network', alice, { name: 'n', color: 'blue' }));
  t.same([unknown.code, unknown.message], [400, "Unrecognized attribute(s) 'color'"]);
  const bool = await refusal(create('network', alice, { admin_state_up: 'maybe' }));
  t.equal(bool.code, 400);
  t.match(bool.message, /Invalid input for admin_state_up/);
  const hostBits = await refusal(create('subnet', alice, { network_id: net.id, ip_version: 4, cidr: '10.11.0.5/24' }));
  t.equal(hostBits.code, 400);
  const overlap = await refusal(create('subnet', alice, { network_id: net.id, ip_version: 4, cidr: '10.9.0.128/25' }));
  t.match(overlap.message, /overlaps with another subnet/);
  const readOnly = await refusal(ask(NetUpdate, 'subnet', { by: alice, id: subnet.id, attrs: { network_id: net.id } }));
  t.match(readOnly.message, /Cannot update read-only attribute network_id/);
});

t.test('instance ports: allocate is idempotent, moves with the host, deallocate keeps given ports', async (t) => {
  const n3 = await create('network', alice, { name: 'vms' });
  await create('subnet', alice, {
    network_id: n3.id, ip_version: 4, cidr: '192.168.5.0/24',
    dns_nameservers: ['192.168.5.53'], host_routes: [{ destination: '10.50.0.0/16', nexthop: '192.168.5.254' }],
  });
  const given = await create('port', alice, { network_id: n3.id, name: 'mine' });
  const uuid = randomUUID();
  const requested = [{ network: n3.id }, { port: given.id }];
  const a = await ask(NetInstanceAllocate, 'instance', { instanceId: uuid, projectId: 'alice', host: 'h1', requested });
  t.equal(a.nics.length, 2);
  const again = await ask(NetInstanceAllocate, 'instance', { instanceId: uuid, projectId: 'alice', host: 'h2', requested });
  t.same(again.nics.map((n: any) => n.portId).sort(), a.nics.map((n: any) => n.portId).sort(), 'a retry finds the same ports');
  const bound = (await ask(NetGet, 'port', { by: admin, id: given.id })).item;
  t.same([bound.device_id, bound['binding:host_id'], bound.status], [uuid, 'h2', 'ACTIVE'], 'bound to the new host');
  const nics = await ask(NetInstanceNics, 'instance', { instanceIds: [uuid] });
  t.equal(nics.nics[uuid].length, 2);
  const made = a.nics.find((n: any) => n.portId !== given.id);
  t.match(made.fixedIps[0], { address: '192.168.5.3', version: 4, cidr: '192.168.5.0/24', gateway: '192.168.5.1' });
  t.same([made.fixedIps[0].dns, made.fixedIps[0].routes, made.fixedIps[0].ipv6AddressMode], [
    ['192.168.5.53'], [{ destination: '10.50.0.0/16', nexthop: '192.168.5.254' }], undefined,
  ], 'what network_data.json needs of the subnet');
  t.same(await ask(NetInstanceDeallocate, 'instance', { instanceId: uuid }), { deleted: 1, unbound: 1 });
  const gone = await refusal(ask(NetGet, 'port', { by: alice, id: made.portId }));
  t.equal(gone.code, 404, 'the made port is deleted');
  const kept = (await ask(NetGet, 'port', { by: alice, id: given.id })).item;
  t.same([kept.device_id, kept.status], ['', 'DOWN'], 'the given port is kept, unbound');
});

t.test('the state survives a restart of the role', async (t) => {
  const before = (await ask(NetList, 'port', { by: alice, query: { network_id: net.id } })).items.length;
  await running.stop();
  running = await startRole();
  const after = (await ask(NetList, 'port', { by: alice, query: { network_id: net.id } })).items.length;
  t.equal(after, before, 'the same ports');
  const full = await refusal(create('port', alice, { network_id: net.id }));
  t.equal(full.type, 'IpAddressGenerationFailure', 'the reloaded allocator knows the pool is full');
});

t.test('a listing bigger than a bus message comes in pages, each with the marker to go on', async (t) => {
  // 1,001 ports with long names and descriptions are over a MiB of JSON: more than one NATS message holds.
  await ask(NetQuota, 'quota', { by: admin, action: 'set', id: 'admin', limits: { port: -1 } });
  const n = await create('network', admin, { name: 'wide' });
  await create('subnet', admin, { network_id: n.id, ip_version: 4, cidr: '10.77.0.0/22' });
  await create('port', admin, { network_id: n.id });
  const pad = 'x'.repeat(250);
  for (let i = 0; i < 1000; i += 100) await Promise.all(Array.from({ length: 100 }, () => create('port', admin, { network_id: n.id, description: pad, name: pad })));
  const seen = new Set<string>();
  let marker: string | undefined;
  let pages = 0;
  do {
    const page = await ask(NetList, 'port', { by: admin, query: { network_id: n.id, ...(marker ? { marker } : {}) } });
    for (const p of page.items) seen.add(p.id);
    marker = page.next;
    pages++;
  } while (marker && pages < 50);
  t.equal(seen.size, 1001, 'every port, once');
  t.ok(pages > 1, `in ${pages} pages`);
});
