/** What the server-action test files share: boot a server as a caller, send an action, wait for a settled status, read its allocations. */
import type { Cluster } from '../../cluster/cluster.js';
import type { Http } from './api-http.js';

export function serverKit(cluster: Cluster, http: Http, token: string) {
  const settled = (id: string, status: string) => cluster.client.waitForServer(id, (s) => s.status === status && s.taskState === null, 30_000);
  const action = (id: string, body: unknown, as = token, headers: Record<string, string> = {}) =>
    http.post(`/v2.1/servers/${id}/action`, { token: as, body, headers });
  /** Boots from the first image, flavor 1; resolves once it is ACTIVE and idle. */
  const boot = async (name: string, as = token): Promise<string> => {
    const image = (await cluster.client.listImages())[0]!;
    const r = await http.post('/v2.1/servers', { token: as, body: { server: { name, flavorRef: '1', imageRef: image.id } } });
    if (r.status !== 202) throw new Error(`boot ${name}: ${r.status} ${r.text}`);
    await settled(r.body.server.id, 'ACTIVE');
    return r.body.server.id as string;
  };
  const allocationOf = async (id: string) => (await cluster.ledger!.allocations()).filter((a) => a.consumer === id).map((a) => a.provider);
  return { settled, action, boot, allocationOf };
}
