/**
 * The OpenStack APIs of the server that serves this page (same origin): Keystone for the token,
 * then compute and image calls with `X-Auth-Token`. The token lives in memory only: a reload logs
 * out, and no other page or script on the origin can read it back from storage.
 */

/** One microversion for every compute call: flavors embedded in servers (2.47), hypervisor usage still shown (< 2.88), services by id (2.53), action events for members (2.51). */
const COMPUTE_VERSION = 'compute 2.60';

export interface Session {
  token: string;
  user: string;
  projectId: string;
  projectName: string;
  admin: boolean;
}

export class ApiFailure extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

/** The message of an OpenStack fault body (`{"itemNotFound": {"message": …}}`, Keystone's `{"error": …}`). */
function faultMessage(status: number, body: unknown): string {
  const first = body && typeof body === 'object' ? Object.values(body)[0] : undefined;
  const m = first && typeof first === 'object' ? (first as { message?: unknown }).message : undefined;
  return typeof m === 'string' ? m : `HTTP ${status}`;
}

async function answer<T>(res: Response): Promise<T> {
  const text = await res.text();
  const body = text ? JSON.parse(text) : undefined;
  if (!res.ok) throw new ApiFailure(res.status, faultMessage(res.status, body));
  return body as T;
}

export async function login(user: string, password: string, project: string): Promise<Session> {
  const res = await fetch('/v3/auth/tokens', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: { methods: ['password'], password: { user: { name: user, domain: { name: 'Default' }, password } } },
        scope: { project: { name: project, domain: { name: 'Default' } } },
      },
    }),
  });
  const body = await answer<{ token: { roles: { name: string }[]; project: { id: string; name: string }; user: { name: string } } }>(res);
  const token = res.headers.get('x-subject-token');
  if (!token) throw new ApiFailure(500, 'Keystone answered without a token.');
  const t = body.token;
  return { token, user: t.user.name, projectId: t.project.id, projectName: t.project.name, admin: t.roles.some((r) => r.name === 'admin') };
}

export class Api {
  constructor(readonly session: Session) {}

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { 'X-Auth-Token': this.session.token, Accept: 'application/json' };
    if (path.startsWith('/v2.1/')) headers['OpenStack-API-Version'] = COMPUTE_VERSION;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    return answer<T>(await fetch(path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) }));
  }

  get<T>(path: string) { return this.call<T>('GET', path); }
  post<T>(path: string, body: unknown) { return this.call<T>('POST', path, body); }
  put<T>(path: string, body: unknown) { return this.call<T>('PUT', path, body); }
  del(path: string) { return this.call<void>('DELETE', path); }
}

/** The wire shapes this page reads (only the fields it shows). */
export interface Server {
  id: string;
  name: string;
  status: string;
  tenant_id: string;
  created: string;
  updated: string;
  image: { id: string } | '';
  flavor: { original_name: string; vcpus: number; ram: number };
  'OS-EXT-STS:task_state': string | null;
  'OS-EXT-STS:power_state': number;
  'OS-EXT-SRV-ATTR:host'?: string | null;
  fault?: { message: string };
}

export interface Hypervisor {
  id: string;
  hypervisor_hostname: string;
  state: 'up' | 'down';
  status: 'enabled' | 'disabled';
  vcpus: number;
  vcpus_used: number;
  memory_mb: number;
  memory_mb_used: number;
  local_gb: number;
  local_gb_used: number;
  running_vms: number;
  hypervisor_type: string;
  service: { host: string; id: string; disabled_reason: string | null };
}

export interface Service {
  id: string;
  host: string;
  status: 'enabled' | 'disabled';
  state: 'up' | 'down';
  zone: string;
  disabled_reason: string | null;
  updated_at: string | null;
}

export interface Image {
  id: string;
  name: string | null;
  status: string;
  visibility: string;
  owner: string | null;
  size: number | null;
  disk_format: string | null;
  created_at: string;
}

export interface Flavor {
  id: string;
  name: string;
  vcpus: number;
  ram: number;
  disk: number;
}

export interface InstanceAction {
  action: string;
  request_id: string;
  start_time: string;
  message: string | null;
  events?: { event: string; start_time: string; finish_time: string | null; result: string | null }[];
}
