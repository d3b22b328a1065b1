/**
 * Runs the REST fuzz cases against a cluster: makes the objects the cases name (a member's server,
 * image, key pair, group; an admin's flavor and aggregate), sends every case as the member and as
 * the admin over raw HTTP (so the bytes are exactly the case's: no URL normalisation), a bounded
 * number at a time with a per-request timeout, and gathers what the checks refuse.
 */
import { generateKeyPairSync } from 'node:crypto';
import http from 'node:http';
import type { Cluster } from '../../../cluster/cluster.js';
import { registeredRoutes } from '../../../actors/api/route-registry.js';
import { Http } from '../../harness/api-http.js';
import { problems } from './checks.js';
import { describe } from './hostile.js';
import { buildCases, type Case, type Resources } from './rest-cases.js';

export interface Persona {
  name: 'member' | 'admin';
  token: string;
}

export interface RestFailure {
  persona: string;
  method: string;
  route: string;
  slot: string;
  input: string;
  status: number;
  problems: string[];
  excerpt: string;
}

export interface RestStats {
  routes: number;
  cases: number;
  requests: number;
  fiveXx: number;
  /** 501s and 503s: counted apart, they are answers, not failures. */
  deliberate5xx: number;
  failures: RestFailure[];
  perRoute: Record<string, number>;
}

/** An OpenSSH ed25519 public key line (a real key, so key-pair import gets past its format check). */
function sshPublicKey(): string {
  const der = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
  const field = (b: Buffer) => { const len = Buffer.alloc(4); len.writeUInt32BE(b.length); return Buffer.concat([len, b]); };
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from('ssh-ed25519')), field(der.subarray(der.length - 32))]).toString('base64')} fz`;
}

async function ok(a: Promise<{ status: number; text: string }>, what: string, want: number[]): Promise<any> {
  const r = await a;
  if (!want.includes(r.status)) throw new Error(`fuzz setup: ${what}: ${r.status} ${r.text.slice(0, 300)}`);
  return (r as { body?: unknown }).body;
}

/** The personas and the objects the cases refer to. */
export async function setupRest(cluster: Cluster, adminPassword: string): Promise<{ personas: Persona[]; resources: Resources; http: Http }> {
  const h = new Http(cluster.apiUrl!);
  const admin = await h.token('admin', adminPassword, 'admin');
  const m = await h.member(admin, 'fuzz-project', 'fuzz-member', 'member');
  const publicKey = sshPublicKey();
  await ok(h.post('/v2.1/os-keypairs', { token: m.token, body: { keypair: { name: 'fz-key', public_key: publicKey } } }), 'keypair', [200, 201]);
  const boot = (await ok(h.get('/image/v2/images', { token: m.token }), 'images', [200])).images.find((i: { status: string }) => i.status === 'active');
  const img = await ok(h.post('/image/v2/images', { token: m.token, body: { name: 'fz-img', disk_format: 'raw', container_format: 'bare' } }), 'image', [201]);
  await ok(h.put(`/image/v2/images/${img.id}/tags/fz-tag`, { token: m.token }), 'image tag', [204]);
  await ok(h.post('/v2.1/flavors', { token: admin, body: { flavor: { name: 'fz-flavor', ram: 64, vcpus: 1, disk: 0, id: 'fz-flavor' } } }), 'flavor', [200]);
  await ok(h.post('/v2.1/flavors/fz-flavor/os-extra_specs', { token: admin, body: { extra_specs: { 'fz:spec': 'v' } } }), 'extra spec', [200]);
  const agg = await ok(h.post('/v2.1/os-aggregates', { token: admin, body: { aggregate: { name: 'fz-agg' } } }), 'aggregate', [200]);
  const group = await ok(h.post('/v2.1/os-server-groups', { token: m.token, body: { server_group: { name: 'fz-group', policies: ['anti-affinity'] } } }), 'group', [200]);
  const server = await ok(h.post('/v2.1/servers', { token: m.token, body: { server: { name: 'fz-server', flavorRef: '1', imageRef: boot.id, metadata: { fz_meta: 'v' } } } }), 'server', [202]);
  await cluster.client.waitForServer(server.server.id, (s) => s.status === 'ACTIVE' && s.taskState === null, 30_000);
  const actions = await ok(h.get(`/v2.1/servers/${server.server.id}/os-instance-actions`, { token: m.token }), 'actions', [200]);
  const services = (await ok(h.get('/v2.1/os-services', { token: admin }), 'services', [200])).services;
  // The last host: a fuzzed disable or delete of it leaves the first to boot on afterwards.
  const service = services[services.length - 1];
  const hypervisors = (await ok(h.get('/v2.1/os-hypervisors', { token: admin }), 'hypervisors', [200])).hypervisors;
  const role = (await ok(h.get('/v3/roles?name=member', { token: admin }), 'roles', [200])).roles[0];
  const resources: Resources = {
    serverId: server.server.id, metaKey: 'fz_meta', actionRequestId: actions.instanceActions[0].request_id,
    imageId: img.id, bootImageId: boot.id, imageTag: 'fz-tag', flavorId: 'fz-flavor', flavorRef: '1', specKey: 'fz:spec',
    keypairName: 'fz-key', publicKey, aggregateId: String(agg.aggregate.id), groupId: group.server_group.id,
    serviceId: String(service.id), hypervisorId: String(hypervisors[hypervisors.length - 1].id), hostName: service.host,
    projectId: m.projectId, userId: m.userId, roleId: role.id,
    user: { name: 'fuzz-member', password: m.password, project: 'fuzz-project' },
  };
  return { personas: [{ name: 'member', token: m.token }, { name: 'admin', token: admin }], resources, http: h };
}

interface Raw { status: number; contentType: string; text: string }

// A fresh connection per request: a refused one (431, a reset) must not take the next case's socket with it.
const agent = new http.Agent({ keepAlive: false });

/** One request, bytes as given; rejects on no answer within `timeoutMs`. */
function send(base: URL, c: Case, token: string, timeoutMs: number): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { 'X-Auth-Token': token, Accept: 'application/json' };
    if (c.body !== undefined) {
      headers['Content-Type'] = c.contentType ?? 'application/json';
      headers['Content-Length'] = c.body.length;
    }
    const req = http.request({ host: base.hostname, port: base.port, method: c.method, path: c.path, headers, agent, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (d: Buffer) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(c.body);
  });
}

/** Runs `fn` over `items`, at most `n` at a time. */
export async function pool<T>(items: readonly T[], n: number, fn: (x: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  }));
}

/** Deletes last, deepest paths first (a metadata key before its server), so a delete cannot starve later cases of their objects. */
function ordered(cases: Case[]): Case[] {
  const depth = (c: Case) => c.route.split('/').length;
  return [...cases].sort((a, b) => a.phase - b.phase || (a.phase > 0 ? depth(b) - depth(a) : 0));
}

export async function runRest(cluster: Cluster, setup: { personas: Persona[]; resources: Resources }, o: { seed: number; runs: number; concurrency?: number; timeoutMs?: number }): Promise<RestStats> {
  const routes = registeredRoutes(cluster.api!.app);
  const cases = ordered(buildCases(routes, setup.resources, o));
  const base = new URL(cluster.apiUrl!);
  const stats: RestStats = { routes: routes.length, cases: cases.length, requests: 0, fiveXx: 0, deliberate5xx: 0, failures: [], perRoute: {} };
  const timeoutMs = o.timeoutMs ?? 3_000;
  for (const phase of [0, 1, 2] as const) {
    const batch = cases.filter((c) => c.phase === phase).flatMap((c) => setup.personas.map((p) => ({ c, p })));
    await pool(batch, o.concurrency ?? 8, async ({ c, p }) => {
      stats.requests++;
      let found: string[];
      let raw: Raw = { status: 0, contentType: '', text: '' };
      try {
        raw = await send(base, c, p.token, timeoutMs);
        found = problems(raw, { method: c.method, tenant: p.name !== 'admin' });
      } catch (err) {
        found = [`transport: ${(err as Error).message}`];
      }
      // 501 (not implemented) and 503 (a dependency busy or cut off, retryable) are deliberate answers.
      if (raw.status >= 500 && raw.status !== 501 && raw.status !== 503) stats.fiveXx++;
      else if (raw.status >= 500) stats.deliberate5xx++;
      if (found.length === 0) return;
      const key = `${c.method} ${c.route}`;
      stats.perRoute[key] = (stats.perRoute[key] ?? 0) + 1;
      stats.failures.push({ persona: p.name, method: c.method, route: c.route, slot: c.slot, input: describe(c.input), status: raw.status, problems: found, excerpt: raw.text.replace(/\s+/g, ' ').slice(0, 240) });
    });
  }
  return stats;
}

/** Failures grouped by route, slot kind and problem: one line each, with a count and the first example. */
export function distinct(failures: readonly RestFailure[]): { key: string; count: number; example: RestFailure }[] {
  const groups = new Map<string, { key: string; count: number; example: RestFailure }>();
  for (const f of failures) {
    const kind = f.problems.map((p) => p.replace(/ within \d+ ms/, '')).sort().join('; ');
    const key = `${f.method} ${f.route} ${f.slot.replace(/:.*/, '')}:${f.slot.split(':')[1] ?? ''} → ${kind}`;
    const g = groups.get(key);
    if (g) g.count++;
    else groups.set(key, { key, count: 1, example: f });
  }
  return [...groups.values()].sort((a, b) => a.key.localeCompare(b.key));
}
