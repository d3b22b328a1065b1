/**
 * The NATS fuzz: as a host (the cluster's `compute` credential) publish hostile reports and
 * heartbeats on every report subject a host may use (its own, another host's, a phantom's) and
 * reflect `$SRV` pings onto internal subjects; as the api credential, send hostile request envelopes
 * to every conductor, flavor, instance, image, aggregate and server-group verb and require a typed
 * error reply. Then the checks: every role still answers, no phantom host exists anywhere, and no
 * request went unanswered. Inputs are drawn by fast-check from a fixed seed.
 */
import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { connect, type NatsConnection } from 'nats';
import type { Cluster } from '../../../cluster/cluster.js';
import { hostInboxPrefix, roleInboxPrefix } from '../../../protocols/host-identity.js';
import { connectNats, splitCredentials } from '../../../runtime/nats/connection.js';
import { identityFromSeed } from '../../../runtime/nats/host-identity.js';
import { Bytes, RawJson, describe, hostileJson, invalidUtf8, writeJson } from './hostile.js';

export interface NatsFailure {
  subject: string;
  input: string;
  problem: string;
  reply: string;
}

export interface NatsStats {
  messages: number;
  requests: number;
  failures: NatsFailure[];
}

const enc = new TextEncoder();

/** The registered host the fuzz acts as: a host identity of its own, as `--join --roles compute` gets one. */
export const FUZZ_HOST = 'fz-host';

/**
 * A connection as one of the cluster's NATS users: `compute` is a host identity registered for
 * FUZZ_HOST only (what a hypervisor's credential can do), `api` the API role's user, `client` the operator's.
 */
export async function connectAs(cluster: Cluster, user: 'compute' | 'api' | 'client'): Promise<NatsConnection> {
  if (user === 'compute') {
    const spec = await cluster.join(['compute'], [FUZZ_HOST]);
    const id = identityFromSeed(spec.hostSeed!);
    return connectNats({ servers: spec.natsUrl, name: 'fuzz-compute', nkeySeed: id.seed, inboxPrefix: hostInboxPrefix(id.publicKey) });
  }
  if (user === 'client') {
    const { url, user: name, pass } = splitCredentials(cluster.natsUrl);
    return connect({ servers: url, name: 'fuzz-client', inboxPrefix: roleInboxPrefix('client'), ...(name ? { user: name, pass: pass ?? '' } : {}) });
  }
  const creds = cluster.roleAuth.api!;
  return connect({ servers: (await cluster.join([])).natsUrl, name: 'fuzz-api', user: creds.user, pass: creds.pass, inboxPrefix: roleInboxPrefix('api') });
}

function payload(v: unknown): Uint8Array {
  if (v instanceof Uint8Array) return v;
  return new Uint8Array(writeJson(v));
}

const YEAR = 365 * 24 * 3600 * 1000;

/** A valid capacity report for `host`, the template the wrong-typed ones are made from. */
function report(host: string, now: number): Record<string, unknown> {
  return {
    host, node: host, hypervisorType: 'fake', hypervisorVersion: 1, cpuArch: 'x86_64', availabilityZone: null,
    vcpus: 100_000, memoryMb: 100_000_000, diskGb: 1_000_000, vcpusUsed: 0, memoryMbUsed: 0, diskGbUsed: 0, runningVms: 0,
    failedBuilds: 0, seq: 1_000_000, sentAt: now,
  };
}

/** Whole payloads no receiver should choke on. */
const rawPayloads: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(new RawJson('null'), new RawJson('[]'), new RawJson('"x"'), new RawJson('42'), new RawJson(''), new RawJson('{'), new RawJson('true'), new RawJson('{}'), new RawJson('1e400'), new RawJson('"NaN"')),
  fc.constantFrom(new RawJson(`${'['.repeat(10_000)}${']'.repeat(10_000)}`), new RawJson(`${'{"a":'.repeat(3_000)}{}${'}'.repeat(3_000)}`), new RawJson('{"__proto__":{"host":"x"}}')),
  invalidUtf8.map((b) => new Uint8Array([...Buffer.from('{"host":"'), ...b.bytes, ...Buffer.from('"}')])),
  fc.constantFrom('a'.repeat(600_000)).map((s) => ({ host: s })),
  hostileJson,
);

/** Report and heartbeat bodies with the right keys and one wrong or extreme value. */
function shaped(kind: 'capacity' | 'heartbeat', host: string, now: number, names: string[]): fc.Arbitrary<unknown> {
  const base = kind === 'capacity' ? report(host, now) : { host, seq: 1_000_000, sentAt: now };
  const keys = Object.keys(base);
  const extreme = fc.constantFrom(-1, 0, 1e308, -1e308, 2 ** 63, Number.MAX_SAFE_INTEGER + 2, 0.5, 'NaN', 'Infinity', '1e9', null, new RawJson('1e400'), new RawJson('-0'));
  const sentAt = fc.constantFrom(now + 10 * YEAR, now + 60_000, 0, -1, now - 10 * YEAR, 8.64e15 + 1, 'tomorrow');
  return fc.oneof(
    fc.tuple(fc.constantFrom(...keys), fc.oneof(hostileJson, extreme)).map(([k, v]) => ({ ...base, [k]: v })),
    fc.tuple(fc.constantFrom(...names, 'fz-phantom', 'fz-phantom-2'), sentAt).map(([h, s]) => ({ ...base, host: h, ...(kind === 'capacity' ? { node: h } : {}), sentAt: s })),
    fc.constantFrom(...keys).map((k) => Object.fromEntries(Object.entries(base).filter(([x]) => x !== k))),
    fc.constant({ ...base, host: 'fz-phantom', extra: { nested: [1, 2, 3] }, __proto__: { host: 'x' } }),
  );
}

function draw<T>(arb: fc.Arbitrary<T>, seed: number, n: number): T[] {
  return n > 0 ? fc.sample(arb, { seed, numRuns: n }) : [];
}

/** Publishes hostile host messages; answers how many were sent. */
export async function fuzzHostMessages(cluster: Cluster, nc: NatsConnection, o: { seed: number; runs: number }): Promise<number> {
  const s = cluster.subjects;
  const names = [FUZZ_HOST, ...cluster.compute!.hosts.keys()];
  const now = Date.now();
  let sent = 0;
  const pub = (subject: string, v: unknown, reply?: string) => {
    try {
      nc.publish(subject, payload(v), reply ? { reply } : undefined);
      sent++;
    } catch {
      // A payload over max_payload is refused by the client itself: nothing reached the bus.
    }
  };
  let i = 0;
  for (const host of [...names, 'fz-phantom']) {
    for (const kind of ['capacity', 'heartbeat'] as const) {
      const subject = s.report(host, kind);
      for (const v of draw(rawPayloads, o.seed + i++, 6 * o.runs)) pub(subject, v);
      for (const v of draw(shaped(kind, host, now, names), o.seed + i++, 12 * o.runs)) pub(subject, v);
      // The phantom attack of the review: a huge host on a real host's subject, kept "up" forever.
      pub(subject, kind === 'capacity' ? report('fz-phantom', now) : { host: 'fz-phantom', seq: 1_000_001, sentAt: now + 10 * YEAR });
    }
    for (const v of draw(rawPayloads, o.seed + i++, 2 * o.runs)) pub(`${s.root}.report.host.${host}.fz-kind`, v);
  }
  // $SRV reflection: every micro service answers the ping onto whatever reply subject we name.
  const internal = [`${s.root}.scheduler.delta`, s.report(names[0]!, 'capacity'), s.report(names[0]!, 'heartbeat'), s.event('aggregate', 'fz', 'update'), s.event('servergroup', 'fz', 'update'), s.event('service', names[0]!, 'update'), s.conductor('build')];
  for (const reply of internal) for (const srv of ['$SRV.PING', '$SRV.INFO', '$SRV.STATS', '$SRV.PING.novact-scheduler']) pub(srv, new RawJson(''), reply);
  await nc.flush();
  return sent;
}

interface Verb { subject: string; verb: string; mutating: boolean; fields: string[] }

function verbs(cluster: Cluster, ids: { instance: string; image: string }): Verb[] {
  const s = cluster.subjects;
  const v = (subject: string, verb: string, mutating: boolean, fields: string[] = []): Verb => ({ subject, verb, mutating, fields });
  const inst = (id: string) => [
    v(s.instance(id, 'get'), 'get', false), v(s.instance(id, 'actions'), 'actions', false),
    ...['stop', 'start', 'reboot', 'update', 'fz-verb'].map((x) => v(s.instance(id, x), x, true, ['type', 'name', 'metadata', 'projectId', 'maxMetadataItems', 'description'])),
  ];
  const img = (id: string) => [
    v(s.image(id, 'get'), 'get', false),
    ...['update', 'deactivate', 'reactivate', 'upload-begin', 'download', 'fz-verb'].map((x) => v(s.image(id, x), x, true, ['name', 'properties', 'offset', 'length', 'tags', 'visibility', 'projectId'])),
  ];
  return [
    v(s.conductor('build'), 'build', true, ['name', 'flavorRef', 'imageRef', 'projectId', 'userId', 'minCount', 'maxCount', 'metadata', 'availabilityZone', 'keyName', 'schedulerHints']),
    v(s.conductor('list'), 'list', false, ['projectId', 'name', 'status', 'host', 'limit', 'marker']),
    v(s.conductor('query'), 'query', false, ['projectId', 'name', 'status', 'host', 'limit', 'marker', 'sortKey', 'sortDir', 'changesSince', 'flavor', 'image']),
    v(s.conductor('usage'), 'usage', false, ['projectId']),
    v(s.conductor('services'), 'services', false),
    v(s.conductor('service-update'), 'service-update', true, ['host', 'status', 'disabledReason', 'forcedDown']),
    v(s.conductor('hosts'), 'hosts', false),
    v(s.flavor('list'), 'list', false), v(s.flavor('get'), 'get', false, ['id']),
    v(s.flavor('create'), 'create', true, ['id', 'name', 'vcpus', 'memoryMb', 'diskGb', 'ephemeralGb', 'isPublic', 'extraSpecs']),
    v(s.flavor('delete'), 'delete', true, ['id']), v(s.flavor('set-specs'), 'set-specs', true, ['id', 'specs']), v(s.flavor('unset-spec'), 'unset-spec', true, ['id', 'key']),
    ...inst(ids.instance), ...inst(randomUUID()), v(`${s.root}.instance.not-a-uuid.get`, 'get', false),
    ...img(ids.image), ...img(randomUUID()), v(`${s.root}.image.not-a-uuid.get`, 'get', false),
    v(s.imageRole('list'), 'list', false), v(s.imageRole('query'), 'query', false, ['projectId', 'isAdmin', 'limit', 'marker', 'filters', 'sortKey', 'sortDir']),
    v(s.imageRole('create'), 'create', true, ['name', 'diskFormat', 'containerFormat', 'properties', 'visibility']),
    v(s.imageRole('register'), 'register', true, ['name', 'diskFormat', 'containerFormat', 'properties', 'visibility', 'owner', 'tags', 'minRam', 'minDisk']),
    ...['list', 'get', 'create', 'delete', 'set-metadata', 'zones'].map((x) => v(s.aggregate(x), x, x !== 'list' && x !== 'get' && x !== 'zones', ['id', 'name', 'availabilityZone', 'metadata', 'host'])),
    ...['list', 'get', 'create', 'delete'].map((x) => v(s.serverGroup(x), x, x === 'create' || x === 'delete', ['id', 'name', 'policy', 'projectId', 'userId', 'rules'])),
  ];
}

/** Hostile envelopes for a verb: broken envelopes, then valid envelopes around hostile bodies. */
function envelopes(v: Verb, seed: number, runs: number): unknown[] {
  let n = 0;
  const ok = (body: unknown, extra: Record<string, unknown> = {}) => ({ type: v.verb, v: 1, id: `fz-${n}`, idempotencyKey: `fz-${seed}-${randomUUID()}-${n++}`, deadline: Date.now() + 3_000, body, ...extra });
  const broken = [
    new RawJson('null'), new RawJson('[]'), new RawJson('"x"'), new RawJson('42'), new RawJson('{'), new RawJson(`${'['.repeat(10_000)}${']'.repeat(10_000)}`),
    new Uint8Array([0xff, 0xfe, 0x7b]), ok({}, { v: 2 }), ok({}, { v: '1' }), ok({}, { type: 'fz-other' }), ok({}, { id: 'a\nb' }), ok({}, { idempotencyKey: 'x\r\ny' }),
    ok({}, { deadline: 'NaN' }), ok({}, { deadline: 0 }), ok({}, { deadline: 1e308 }), ok(null), ok([]), ok('x'), ok(new RawJson('{"__proto__":{"isAdmin":true}}')),
  ];
  const bodies = draw(hostileJson, seed, runs * 2).map((b) => ok(b));
  const fields = v.fields.flatMap((f, i) => draw(hostileJson, seed + 1000 + i, Math.max(1, runs)).map((x) => ok({ [f]: x })));
  const strings = v.fields.map((f) => ok({ [f]: 'a\u0000\nb' }));
  return [...broken, ...bodies, ...fields, ...strings];
}

/** A reply is typed: JSON `{ok: true, …}`, or `{ok: false, error: {fault, code, message, retryable}}` with a client-error code (or 503). */
function replyProblem(text: string, expired: boolean): string | undefined {
  let r: any;
  try {
    r = JSON.parse(text);
  } catch {
    return 'reply is not JSON';
  }
  if (r?.ok === true) return undefined;
  const e = r?.error;
  if (r?.ok !== false || typeof e?.fault !== 'string' || typeof e?.code !== 'number' || typeof e?.message !== 'string' || typeof e?.retryable !== 'boolean') return 'reply is not a typed error';
  // An envelope whose deadline has passed is answered 504 on purpose (the work is dropped).
  if (expired && e.code === 504) return undefined;
  if (e.code >= 500 && e.code !== 503) return `error code ${e.code} (${e.fault})`;
  return undefined;
}

/** Sends hostile envelopes as the api user; answers the stats. */
export async function fuzzApiRequests(cluster: Cluster, nc: NatsConnection, ids: { instance: string; image: string }, o: { seed: number; runs: number; concurrency?: number; timeoutMs?: number }): Promise<NatsStats> {
  const stats: NatsStats = { messages: 0, requests: 0, failures: [] };
  const cases = verbs(cluster, ids).flatMap((v, i) => envelopes(v, o.seed + i * 7919, o.runs).map((e) => ({ v, e })));
  // Mutations of the real instance and image last, so the reads see them first.
  let next = 0;
  const timeoutMs = o.timeoutMs ?? 3_000;
  await Promise.all(Array.from({ length: o.concurrency ?? 12 }, async () => {
    while (next < cases.length) {
      const { v, e } = cases[next++]!;
      stats.requests++;
      let problem: string | undefined;
      let text = '';
      try {
        const m = await nc.request(v.subject, payload(e), { timeout: timeoutMs });
        text = new TextDecoder().decode(m.data);
        const deadline = (e as { deadline?: unknown })?.deadline;
        problem = replyProblem(text, typeof deadline === 'number' && deadline < Date.now());
      } catch (err) {
        problem = `no typed reply: ${(err as Error).message}`;
      }
      if (problem) stats.failures.push({ subject: v.subject.replace(/[0-9a-f]{8}-[0-9a-f-]{27}/, '<uuid>'), input: describe(e instanceof Uint8Array ? new Bytes(e, 'envelope') : e, 160), problem, reply: text.slice(0, 200) });
    }
  }));
  return stats;
}

/** The micro services that answer `$SRV.PING` within `timeoutMs` (as the client user). */
export async function pingServices(nc: NatsConnection, want: string[], timeoutMs = 3_000): Promise<string[]> {
  const seen = new Set<string>();
  // Each identity may only hear its own inbox prefix.
  const prefix = (nc as unknown as { options: { inboxPrefix?: string } }).options.inboxPrefix ?? '_INBOX';
  const inbox = `${prefix}.fz.${randomUUID()}`;
  const sub = nc.subscribe(inbox);
  const timer = setTimeout(() => sub.unsubscribe(), timeoutMs);
  nc.publish('$SRV.PING', enc.encode(''), { reply: inbox });
  for await (const m of sub) {
    try {
      seen.add(JSON.parse(new TextDecoder().decode(m.data)).name);
    } catch {
      // not a ping response
    }
    if (want.every((w) => seen.has(w))) break;
  }
  clearTimeout(timer);
  sub.unsubscribe();
  return [...seen].sort();
}

/** The real hosts whose report the scheduler did not apply within `timeoutMs` (a barrier: it applied what came before). */
export function unreported(cluster: Cluster, timeoutMs = 5_000): Promise<string[]> {
  const waiting = new Set(cluster.compute!.hosts.keys());
  const events = cluster.scheduler!.events;
  return new Promise((resolve) => {
    const done = () => { events.off('report', on); clearTimeout(timer); resolve([...waiting].sort()); };
    const on = (host: string) => { waiting.delete(host); if (waiting.size === 0) done(); };
    const timer = setTimeout(done, timeoutMs);
    events.on('report', on);
  });
}

/** Hosts the cluster knows that it does not run: in the scheduler, the compute-node records and os-hypervisors. */
export async function phantoms(cluster: Cluster, hypervisorNames: () => Promise<string[]>): Promise<string[]> {
  const real = new Set([...cluster.compute!.hosts.keys(), FUZZ_HOST]);
  const out: string[] = [];
  const name = (h: unknown) => describe(h, 60);
  for (const h of cluster.scheduler!.states.all()) if (!real.has(h.host)) out.push(`scheduler: ${name(h.host)}`);
  await cluster.conductor!.computeNodes.flush();
  for (const n of (await cluster.conductor!.computeNodes.list()).hosts) if (!real.has(n.host)) out.push(`compute nodes: ${name(n.host)}`);
  for (const n of await hypervisorNames()) if (!real.has(n)) out.push(`os-hypervisors: ${name(n)}`);
  return out;
}

