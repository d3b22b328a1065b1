/**
 * The network role: Neutron's resources and the ports of instances, served on
 * `<root>.network.<kind>.<op>` (protocols/catalog/network.ts). Its state is in memory and it is the
 * only writer (net-state.ts): each request is decided synchronously against it — so concurrent
 * port creates on one subnet can never take one address twice, and no decision reads the database —
 * then written through in batches (net-writer.ts), and answered once its batch has committed. A
 * write that fails answers 503 and reloads the state from PostgreSQL, dropping what was not written.
 */
import type { NetCaller } from '../../protocols/catalog/network.js';
import { NetworkVerbs } from '../../protocols/catalog/network.js';
import { UnavailableError } from '../../protocols/errors.js';
import { badInput, forbiddenBy, inConflict, notFoundOf } from '../../protocols/network/errors.js';
import { autoTopology, deleteAutoTopology } from './auto-topology.js';
import { listQuery, pickFields, type RawQuery } from '../../protocols/network/query.js';
import { fitPage } from '../../protocols/paging.js';
import { parseCreate, parseUpdate } from '../../protocols/network/request.js';
import { KINDS, type NetKind } from '../../protocols/network/resources.js';
import type { Orm } from '../../runtime/db/orm.js';
import { errorFields } from '../../runtime/log/logger.js';
import type { Role, RoleContext } from '../../runtime/role.js';
import { allocate, checkRequested, deallocate, nicOf, portsOf } from './instance-ports.js';
import { Ipam } from './ipam.js';
import { OPS } from './kinds/index.js';
import { addInterface, removeInterface } from './kinds/router.js';
import { defaultGroupOf } from './kinds/security-group.js';
import { DEFAULT_NET_CONFIG, find, owned, sees, type NetConfig, type NetCtx } from './net-context.js';
import { quotaVerb } from './net-quotas.js';
import { attach, detach, floating, groupIds, groups, matchIps } from './server-networking.js';
import { NetState, Tx } from './net-state.js';
import { view } from './net-views.js';
import { loadAll, NetWriter } from './net-writer.js';

type Body = Record<string, unknown> & { by?: NetCaller; id?: string; attrs?: Record<string, unknown>; query?: RawQuery };

/** The system acting for a project (the conductor binding a build's ports): it may set admin-only attributes. */
const systemFor = (projectId: string): NetCaller => ({ projectId, isAdmin: true });

export interface NetworkRole extends Role {
  readonly state: NetState;
}

export async function startNetworkRole(ctx: RoleContext, orm: Orm, config: Partial<NetConfig> = {}): Promise<NetworkRole> {
  const { bridge, subjects, clock, log } = ctx;
  const cfg: NetConfig = { ...DEFAULT_NET_CONFIG, ...config };
  const state = new NetState();
  const ipam = new Ipam(state);
  const writer = new NetWriter(orm);
  let reloading: Promise<void> | undefined;

  const load = async () => {
    const { rows, allocations } = await loadAll(orm);
    state.load(rows, allocations);
    for (const s of state.of('subnet').values()) ipam.build(s);
  };
  await load();

  /** Decides `fn` against the state, then waits for its changes to commit. */
  async function decide<T>(by: NetCaller, fn: (c: NetCtx) => T): Promise<T> {
    if (reloading) await reloading;
    const tx = new Tx(state, new Date(clock.now()));
    const c: NetCtx = { state, tx, ipam, by, config: cfg };
    let out: T;
    try {
      out = fn(c);
    } catch (err) {
      tx.rollback();
      throw err;
    }
    if (tx.empty) return out;
    try {
      await writer.persist(tx.change);
    } catch (err) {
      log.error('network state write failed: reloading from the database', errorFields(err));
      reloading ??= writer.drain().then(load).finally(() => (reloading = undefined));
      await reloading.catch(() => undefined);
      throw new UnavailableError('The network service could not store the change; try again.');
    }
    return out;
  }

  const kindOf = (subject: string): string => subject.slice(subjects.root.length + 1).split('.')[1] ?? '';
  const resource = (k: string): NetKind => {
    if (!Object.hasOwn(KINDS, k)) throw badInput(`unknown network resource ${JSON.stringify(k)}`);
    return k as NetKind;
  };

  const VERBS: Record<string, (kind: string, b: Body) => Promise<unknown>> = {
    create: (k, b) => decide(b.by!, (c) => ({ item: view(c, OPS[resource(k)].create(c, parseCreate(resource(k), b.attrs, c.by.isAdmin))) })),
    update: (k, b) => decide(b.by!, (c) => {
      const kind = resource(k);
      const row = owned(c, kind, b.id!);
      return { item: view(c, OPS[kind].update(c, row, parseUpdate(kind, b.attrs, c.by.isAdmin))) };
    }),
    delete: (k, b) => decide(b.by!, (c) => {
      const kind = resource(k);
      OPS[kind].remove(c, owned(c, kind, b.id!));
      return {};
    }),
    get: (k, b) => decide(b.by!, (c) => ({ item: pickFields(view(c, find(c, resource(k), b.id!)), b.query ?? {}) })),
    list: (k, b) => decide(b.by!, (c) => {
      const kind = resource(k);
      // Neutron makes a project's default group the first time the project looks for groups.
      if (kind === 'security_group' && !c.by.isAdmin) defaultGroupOf(c, c.by.projectId);
      const items = [...state.of(kind).values()].filter((r) => sees(c, r)).map((r) => view(c, r));
      const q = b.query ?? {};
      const page = listQuery(kind, items, q);
      // A reply must fit the bus: a page cut at the byte budget ends with a `next` link, as a limit would.
      const fit = fitPage(page.items.map((i) => pickFields(i, q)));
      const next = fit.more ? (page.items[fit.items.length - 1]?.id as string | undefined) : page.next;
      return { items: fit.items, ...(next ? { next } : {}), ...(page.previous ? { previous: page.previous } : {}) };
    }),
    tags: (k, b) => decide(b.by!, (c) => {
      const kind = resource(k);
      const row = b.action === 'list' || b.action === 'check' ? find(c, kind, b.id!) : owned(c, kind, b.id!);
      const tags = (row.attrs.tags as string[] | undefined) ?? [];
      const tag = (b.tags as string[] | undefined)?.[0];
      switch (b.action) {
        case 'set': c.tx.update(row, { tags: [...new Set(b.tags as string[])] }); return { tags: [...new Set(b.tags as string[])] };
        case 'add': if (tag !== undefined && !tags.includes(tag)) c.tx.update(row, { tags: [...tags, tag] }); return { tags: tag !== undefined && !tags.includes(tag) ? [...tags, tag] : tags };
        case 'remove':
          if (tag === undefined || !tags.includes(tag)) throw Object.assign(notFoundOf(kind, row.id), { message: `Tag ${String(tag)} could not be found for ${kind} ${row.id}.`, details: { type: 'TagNotFound' } });
          c.tx.update(row, { tags: tags.filter((t) => t !== tag) });
          return { tags: tags.filter((t) => t !== tag) };
        case 'check':
          if (tag === undefined || !tags.includes(tag)) throw Object.assign(notFoundOf(kind, row.id), { message: `Tag ${String(tag)} could not be found for ${kind} ${row.id}.`, details: { type: 'TagNotFound' } });
          return { tags };
        default: return { tags };
      }
    }),
    interface: (_k, b) => decide(b.by!, (c) => {
      const router = owned(c, 'router', b.id!);
      const subnetId = (b.subnetId as string | null | undefined) ?? undefined;
      const portId = (b.portId as string | null | undefined) ?? undefined;
      return b.action === 'add' ? addInterface(c, router, subnetId, portId) : removeInterface(c, router, subnetId, portId);
    }),
    topology: (_k, b) => decide(b.by!, (c) => {
      const project = b.id as string;
      if (project !== c.by.projectId && !c.by.isAdmin) throw forbiddenBy(`${b.action === 'get' ? 'get' : 'delete'}_auto_allocated_topology`);
      if (b.action === 'delete') return (deleteAutoTopology(c, project), {});
      if (!cfg.autoAllocate) throw inConflict('Deployment error: auto-allocation of networks is not configured.', 'AutoAllocationFailure');
      const net = autoTopology(c, cfg.autoAllocate, project);
      return { auto_allocated_topology: { id: net.id, tenant_id: project, project_id: project } };
    }),
    quota: (_k, b) => decide(b.by!, (c) => quotaVerb(c, b as Parameters<typeof quotaVerb>[1])),
    zones: async (_k, b) => {
      const q = b.query ?? {};
      const zones = ['network', 'router'].map((resource) => ({ name: cfg.zone, resource, state: 'available' }));
      // Neutron filters zones by any of their three fields.
      const wanted = (z: Record<string, string>) => (['name', 'resource', 'state'] as const).every((k) => {
        const v = q[k];
        return v === undefined || (Array.isArray(v) ? v : [v]).includes(z[k]!);
      });
      return { items: zones.filter(wanted) };
    },
    check: (_k, b) => decide(b.by!, (c) => {
      const requested = checkRequested(c, b.requested as never, b.count as number);
      const names = b.securityGroups as string[] | null | undefined;
      return names && names.length > 0 ? { requested, securityGroups: groupIds(c, names) } : { requested };
    }),
    allocate: (_k, b) => decide(systemFor(b.projectId as string), (c) => ({ nics: allocate(c, b.instanceId as string, b.host as string, b.requested as never, (b.securityGroups as string[] | null | undefined) ?? undefined) })),
    deallocate: (_k, b) => decide(systemFor(''), (c) => deallocate(c, b.instanceId as string)),
    attach: (_k, b) => decide(b.by!, (c) => ({ nic: attach(c, b.instanceId as string, (b.host as string | undefined) ?? '', b.nic as never) })),
    detach: (_k, b) => decide(b.by!, (c) => (detach(c, b.instanceId as string, b.portId as string), {})),
    groups: (_k, b) => decide(b.by!, (c) => ({ groups: groups(c, b.instanceId as string, b.action as 'list', (b.name as string | undefined) ?? undefined) })),
    floating: (_k, b) => decide(b.by!, (c) => (floating(c, b.instanceId as string, b.action as 'add', b.address as string, (b.fixedAddress as string | null | undefined) ?? undefined), {})),
    'match-ips': (_k, b) => decide(b.by!, (c) => ({ instanceIds: matchIps(c, b.ip as string | null | undefined, b.ip6 as string | null | undefined) })),
    nics: (_k, b) => decide(systemFor(''), (c) => ({ nics: Object.fromEntries((b.instanceIds as string[]).map((id) => [id, portsOf(c, id).map((p) => nicOf(c, p))])) })),
  };

  const svc = await bridge.addService('novact-network', 'network role: Neutron resources and instance ports', () => ({
    resources: state.rows.size,
    allocations: state.allocations.size,
    writeBatches: writer.stats.batches,
    writes: writer.stats.items,
  }));
  bridge.endpointFamily(svc, NetworkVerbs, ({ subject, verb, envelope }) => {
    const run = VERBS[verb];
    if (!run) throw badInput(`the network role has no verb ${JSON.stringify(verb)}`);
    return run(kindOf(subject), envelope.body as Body);
  }, { queue: 'network' });

  return {
    name: 'network',
    state,
    async stop() {
      await writer.drain();
    },
  };
}
