/**
 * HTTP helpers for the REST API tests: a cluster with the api role, a tiny client over fetch that
 * keeps the answer's status, headers and JSON body, and a way to make projects and users with roles
 * through the Keystone admin API itself.
 */
import type { Test } from 'tap';
import type { Cluster, ClusterOptions } from '../../cluster/cluster.js';
import { startTestCluster } from './cluster.js';

export const ADMIN_PASSWORD = 'test-admin-secret';

export interface Answer {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

export interface Call {
  token?: string;
  body?: unknown;
  /** Sent as is (no JSON encoding), for malformed-body tests. */
  raw?: string | Buffer;
  headers?: Record<string, string>;
}

export class Http {
  /** Every answer this client received, for "never a 5xx" checks. */
  readonly seen: { method: string; path: string; status: number }[] = [];

  constructor(readonly base: string) {}

  async call(method: string, path: string, c: Call = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...c.headers };
    if (c.token) headers['X-Auth-Token'] = c.token;
    let body: string | Buffer | undefined;
    if (c.raw !== undefined) body = c.raw;
    else if (c.body !== undefined) {
      body = JSON.stringify(c.body);
      headers['Content-Type'] ??= 'application/json';
    }
    const res = await fetch(`${this.base}${path}`, { method, headers, ...(body !== undefined ? { body: typeof body === 'string' ? body : new Uint8Array(body) } : {}) });
    const text = await res.text();
    this.seen.push({ method, path, status: res.status });
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, headers: res.headers, body: json, text };
  }

  get(path: string, c?: Call) { return this.call('GET', path, c); }
  post(path: string, c?: Call) { return this.call('POST', path, c); }
  put(path: string, c?: Call) { return this.call('PUT', path, c); }
  patch(path: string, c?: Call) { return this.call('PATCH', path, c); }
  delete(path: string, c?: Call) { return this.call('DELETE', path, c); }

  /** A project-scoped token (throws unless Keystone answers 201). */
  async token(user: string, password: string, project: string): Promise<string> {
    const a = await this.post('/v3/auth/tokens', {
      body: {
        auth: {
          identity: { methods: ['password'], password: { user: { name: user, domain: { name: 'Default' }, password } } },
          scope: { project: { name: project, domain: { name: 'Default' } } },
        },
      },
    });
    if (a.status !== 201) throw new Error(`token for ${user}@${project}: ${a.status} ${a.text}`);
    return a.headers.get('x-subject-token')!;
  }

  /** Creates a project (if new) and a user holding `role` on it; answers the user's token and ids. */
  async member(adminToken: string, project: string, user: string, role: 'admin' | 'member' | 'reader') {
    let p = (await this.get(`/v3/projects?name=${project}`, { token: adminToken })).body.projects[0];
    p ??= (await this.post('/v3/projects', { token: adminToken, body: { project: { name: project } } })).body.project;
    const password = `${user}-password`;
    const u = (await this.post('/v3/users', { token: adminToken, body: { user: { name: user, password, default_project_id: p.id } } })).body.user;
    const r = (await this.get(`/v3/roles?name=${role}`, { token: adminToken })).body.roles[0];
    const g = await this.put(`/v3/projects/${p.id}/users/${u.id}/roles/${r.id}`, { token: adminToken });
    if (g.status !== 204) throw new Error(`grant ${role}: ${g.status} ${g.text}`);
    return { token: await this.token(user, password, project), projectId: p.id as string, userId: u.id as string, password };
  }
}

/**
 * Writes the hosts' compute-node records now rather than at the next periodic flush, so os-services,
 * os-hypervisors and aggregates see every host from the first request: flush, and again after each
 * capacity report until all `n` are recorded.
 */
async function recordHosts(cluster: Cluster, n: number): Promise<void> {
  const nodes = cluster.conductor!.computeNodes;
  const recorded = async () => {
    await nodes.flush();
    return (await cluster.client.listHosts()).length >= n;
  };
  if (await recorded()) return;
  const sub = cluster.client.bridge.nc.subscribe(cluster.subjects.allReports('capacity'));
  try {
    for await (const _ of sub) if (await recorded()) return;
  } finally {
    sub.unsubscribe();
  }
}

/**
 * API tests hash passwords at a low scrypt cost: the default (N=2^17, ~0.5–2 s of CPU per login on
 * this machine) is checked in keys-and-secrets.test.ts and would otherwise dominate every file.
 */
export const TEST_PASSWORD_HASH = { N: 2 ** 12 };

export async function startApiCluster(t: Test, opts: ClusterOptions = {}) {
  const { cluster, servers } = await startTestCluster(t, { hosts: 2, ...opts, api: { adminPassword: ADMIN_PASSWORD, passwordHash: TEST_PASSWORD_HASH, ...opts.api } });
  await recordHosts(cluster, typeof opts.hosts === 'number' ? opts.hosts : opts.hosts?.length ?? 2);
  const http = new Http(cluster.apiUrl!);
  const admin = await http.token('admin', ADMIN_PASSWORD, 'admin');
  return { cluster, servers, http, admin };
}

/** The fault name and code of a Nova fault body (`{"itemNotFound": {"code": 404, …}}`). */
export function fault(a: Answer): { name: string; code: number; message: string } | undefined {
  const entries = Object.entries((a.body ?? {}) as Record<string, { code?: number; message?: string }>);
  if (entries.length !== 1) return undefined;
  const [name, v] = entries[0]!;
  return typeof v?.code === 'number' && typeof v.message === 'string' ? { name, code: v.code, message: v.message } : undefined;
}

/** Resolves once the server (seen through the API) satisfies `done`, waking on its NATS events. */
export async function waitForServer(
  cluster: Awaited<ReturnType<typeof startApiCluster>>['cluster'],
  id: string,
  done: (s: { status: string; taskState: string | null }) => boolean,
): Promise<void> {
  await cluster.client.waitForServer(id, done, 30_000);
}
