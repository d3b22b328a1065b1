/**
 * Prepares a running novact cluster for Tempest and writes its configuration (used by
 * scripts/conformance.sh). Through the REST API only, with the bootstrap admin's token: two member
 * users in two projects (Tempest's primary and alt), a second public active image, and the feature
 * flags read from what the API answers (a server action is enabled only when it does not answer 501).
 *
 *   node --import tsx scripts/conformance/provision.ts <api-url> <admin-password> <workspace> <hosts>
 *
 * Writes <workspace>/etc/tempest.conf and <workspace>/etc/accounts.yaml.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderAccounts, renderTempestConf, type Account, type ConformanceSetup } from './tempest-conf.js';

const [apiUrl, adminPassword, workspace, hostsArg] = process.argv.slice(2);
if (!apiUrl || !adminPassword || !workspace) {
  process.stderr.write('usage: provision.ts <api-url> <admin-password> <workspace> [hosts]\n');
  process.exit(2);
}
const REQUEST_TIMEOUT_MS = 30_000;
const BOOT_TIMEOUT_MS = 120_000;

interface Answer {
  status: number;
  body: any;
  headers: Headers;
}

async function call(method: string, path: string, opts: { token?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.token) headers['x-auth-token'] = opts.token;
  let body: BodyInit | undefined;
  if (opts.raw) {
    headers['content-type'] = 'application/octet-stream';
    body = opts.raw;
  } else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(`${apiUrl}${path}`, { method, headers, body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    /* not JSON: keep the text */
  }
  return { status: res.status, body: parsed, headers: res.headers };
}

async function must(expect: number[], method: string, path: string, opts: Parameters<typeof call>[2] = {}): Promise<Answer> {
  const a = await call(method, path, opts);
  if (!expect.includes(a.status)) throw new Error(`${method} ${path}: ${a.status} ${JSON.stringify(a.body)}`);
  return a;
}

async function token(user: string, password: string, project: string): Promise<string> {
  const a = await must([201], 'POST', '/v3/auth/tokens', {
    body: {
      auth: {
        identity: { methods: ['password'], password: { user: { name: user, domain: { name: 'Default' }, password } } },
        scope: { project: { name: project, domain: { name: 'Default' } } },
      },
    },
  });
  return a.headers.get('x-subject-token')!;
}

/** A project (reused when it exists) and a member user on it (reused, its password reset). */
async function member(admin: string, project: string, user: string, password: string, roleId: string): Promise<Account> {
  let p = (await must([200], 'GET', `/v3/projects?name=${project}`, { token: admin })).body.projects[0];
  p ??= (await must([201], 'POST', '/v3/projects', { token: admin, body: { project: { name: project, description: 'Tempest' } } })).body.project;
  let u = (await must([200], 'GET', `/v3/users?name=${user}`, { token: admin })).body.users[0];
  if (u) await must([200], 'PATCH', `/v3/users/${u.id}`, { token: admin, body: { user: { password } } });
  else u = (await must([201], 'POST', '/v3/users', { token: admin, body: { user: { name: user, password, default_project_id: p.id } } })).body.user;
  await must([204], 'PUT', `/v3/projects/${p.id}/users/${u.id}/roles/${roleId}`, { token: admin });
  return { username: user, password, project };
}

/**
 * The project's own network and subnet (reused when it exists), named in the accounts file so
 * Tempest boots every server of that account on it, as a real cloud's tenants have one.
 */
async function network(user: Account, cidr: string): Promise<string> {
  const t = await token(user.username, user.password, user.project);
  const name = 'tempest-net';
  const found = (await must([200], 'GET', `/networking/v2.0/networks?name=${name}`, { token: t })).body.networks as { id: string; project_id: string }[];
  if (found.length > 0) return name;
  const net = (await must([201], 'POST', '/networking/v2.0/networks', { token: t, body: { network: { name } } })).body.network;
  await must([201], 'POST', '/networking/v2.0/subnets', { token: t, body: { subnet: { network_id: net.id, name: `${name}-v4`, ip_version: 4, cidr } } });
  return name;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The public, active images: the cluster's default one plus one uploaded here (a few bytes). */
async function images(admin: string): Promise<[string, string]> {
  const list = (await must([200], 'GET', '/image/v2/images?status=active&visibility=public', { token: admin })).body.images as { id: string; name: string }[];
  const base = list.find((i) => i.name !== 'tempest-alt') ?? list[0];
  if (!base) throw new Error('the cluster has no public active image');
  let alt = list.find((i) => i.name === 'tempest-alt');
  if (!alt) {
    alt = (await must([201], 'POST', '/image/v2/images', {
      token: admin,
      body: { name: 'tempest-alt', disk_format: 'qcow2', container_format: 'bare', visibility: 'public' },
    })).body;
    await must([204], 'PUT', `/image/v2/images/${alt!.id}/file`, { token: admin, raw: 'tempest alt image\n' });
  }
  return [base.id, alt!.id];
}

/**
 * The optional server actions Tempest has feature flags for, each with a body Nova accepts. Any answer
 * but 501 (a 202, or a 400/409 about this server) means the API serves it.
 */
const PROBES: { flag: string; action: string; body: unknown; version?: string }[] = [
  { flag: 'pause', action: 'pause', body: null },
  { flag: 'suspend', action: 'suspend', body: null },
  { flag: 'console_output', action: 'os-getConsoleOutput', body: { length: 1 } },
  { flag: 'change_password', action: 'changePassword', body: { adminPass: 'tempest-probe' } },
  { flag: 'resize', action: 'resize', body: { flavorRef: '2' } },
  { flag: 'cold_migration', action: 'migrate', body: null },
  { flag: 'live_migration', action: 'os-migrateLive', body: { host: null, block_migration: 'auto' }, version: '2.25' },
  { flag: 'rescue', action: 'rescue', body: null },
  { flag: 'shelve', action: 'shelve', body: null },
  { flag: 'snapshot', action: 'createImage', body: { name: 'tempest-probe' } },
  { flag: 'lock', action: 'lock', body: null },
];

async function probeActions(admin: string, imageRef: string): Promise<Record<string, boolean>> {
  const created = await must([202], 'POST', '/v2.1/servers', { token: admin, body: { server: { name: 'tempest-probe', imageRef, flavorRef: '1' } } });
  const id = created.body.server.id as string;
  try {
    await until('the probe server to be ACTIVE', async () => {
      const s = (await must([200], 'GET', `/v2.1/servers/${id}`, { token: admin })).body.server;
      if (s.status === 'ERROR') throw new Error(`the probe server failed: ${JSON.stringify(s.fault)}`);
      return s.status === 'ACTIVE' && !s['OS-EXT-STS:task_state'] ? s : undefined;
    }, BOOT_TIMEOUT_MS);
    const flags: Record<string, boolean> = {};
    for (const p of PROBES) {
      const headers: Record<string, string> = p.version ? { 'x-openstack-nova-api-version': p.version } : {};
      const a = await call('POST', `/v2.1/servers/${id}/action`, { token: admin, body: { [p.action]: p.body }, headers });
      flags[p.flag] = a.status !== 501 && a.status !== 404;
      process.stderr.write(`provision: ${p.action} -> ${a.status}\n`);
    }
    return flags;
  } finally {
    // Let whatever the probes started settle into a deletable state; delete answers even mid-task.
    await call('POST', `/v2.1/servers/${id}/action`, { token: admin, body: { 'os-resetState': { state: 'active' } } });
    await call('DELETE', `/v2.1/servers/${id}`, { token: admin });
    await until('the probe server to be deleted', async () => ((await call('GET', `/v2.1/servers/${id}`, { token: admin })).status === 404 ? true : undefined), BOOT_TIMEOUT_MS);
  }
}

async function main(): Promise<void> {
  const admin = await token('admin', adminPassword!, 'admin');
  const memberRole = (await must([200], 'GET', '/v3/roles?name=member', { token: admin })).body.roles[0];
  if (!memberRole) throw new Error('no member role');
  const [primary, alt] = await Promise.all([
    member(admin, 'tempest-project-1', 'tempest-user-1', 'tempest-secret-1', memberRole.id),
    member(admin, 'tempest-project-2', 'tempest-user-2', 'tempest-secret-2', memberRole.id),
  ]);
  const adminAccount: Account = { username: 'admin', password: adminPassword!, project: 'admin' };
  const accounts = [primary, alt, adminAccount];
  const networks = await Promise.all(accounts.map((a, i) => network(a, `10.${100 + i}.0.0/24`)));
  accounts.forEach((a, i) => (a.network = networks[i]));
  const [imageRef, imageRefAlt] = await images(admin);
  const version = (await must([200], 'GET', '/v2.1/', { token: admin })).body.version;
  const flags = await probeActions(admin, imageRef);
  const setup: ConformanceSetup = {
    authUrl: `${apiUrl}/v3`,
    imageRef,
    imageRefAlt,
    flavorRef: '1',
    flavorRefAlt: '2',
    minMicroversion: version.min_version,
    maxMicroversion: version.version,
    computeNodes: Number(hostsArg ?? '1'),
    flags,
    lockPath: join(workspace!, 'lock'),
    logFile: join(workspace!, 'tempest.log'),
    accountsFile: join(workspace!, 'etc', 'accounts.yaml'),
  };
  mkdirSync(join(workspace!, 'etc'), { recursive: true });
  mkdirSync(setup.lockPath, { recursive: true });
  writeFileSync(join(workspace!, 'etc', 'tempest.conf'), renderTempestConf(setup));
  writeFileSync(setup.accountsFile, renderAccounts([primary, alt], adminAccount));
  process.stderr.write(`provision: microversions ${setup.minMicroversion}–${setup.maxMicroversion}; actions ${Object.entries(flags).map(([k, v]) => `${k}=${v}`).join(' ')}\n`);
}

main().catch((err) => {
  process.stderr.write(`provision: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
