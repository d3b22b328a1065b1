/**
 * The cluster the move tests (live migration, evacuate) share: three fake hosts on one fabric, kept
 * by name so a test can compare the ledger with each hypervisor; an admin and a member; boot to idle.
 */
import type { Test } from 'tap';
import { FakeDriver } from '../../hosts/fake/fake-driver.js';
import { FakeFabric } from '../../hosts/fake/fake-migration.js';
import { startApiCluster } from './api-http.js';
import { ledgerMatchesHypervisors } from './ledger-check.js';

export async function startMoveCluster(t: Test) {
  const fabric = new FakeFabric();
  const drivers = new Map(['compute-1', 'compute-2', 'compute-3'].map((h) => [h, new FakeDriver({ hostname: h, fabric })]));
  const { cluster, http, admin } = await startApiCluster(t, { hosts: [...drivers].map(([name, driver]) => ({ name, driver })) });
  const image = (await cluster.client.listImages())[0]!;
  const alice = await http.member(admin, 'project-a', 'alice', 'member');
  const mv = (n: number) => ({ 'OpenStack-API-Version': `compute 2.${n}` });
  const idle = (id: string) => cluster.client.waitForServer(id, (s) => s.taskState === null && s.status !== 'BUILD');
  const consistent = (t: Test, what: string) => ledgerMatchesHypervisors(t, cluster, drivers, what);
  const boot = async (name: string, token = admin) => {
    const r = await http.post('/v2.1/servers', { token, body: { server: { name, flavorRef: '1', imageRef: image.id } } });
    if (r.status !== 202) throw new Error(`boot ${name}: ${r.status} ${r.text}`);
    const s = await idle(r.body.server.id);
    return { id: s.id, host: s.host! };
  };
  return { cluster, http, admin, drivers, image, alice, mv, idle, consistent, boot };
}
