/**
 * The network role's state, in memory: every resource by kind and id, plus the indexes the rules
 * need (ports of a network, subnets of a network, addresses in use per subnet, MACs). It is the
 * owner: requests are decided against it synchronously (one decision at a time, so two ports can
 * never get one address), then written through to PostgreSQL in batches (net-writer.ts). Changes go
 * through a `Tx`, which keeps an undo log: a request refused halfway leaves nothing behind.
 */
import type { NetKind } from '../../protocols/network/resources.js';
import type { NetResourceRow } from '../../runtime/db/entities/index.js';

export type NetRow = Omit<NetResourceRow, 'kind'> & { kind: NetKind | 'quota' };
export type Attrs = Record<string, unknown>;

export interface Allocation {
  subnetId: string;
  ip: string;
  portId: string;
  networkId: string;
}

/** What one request changed, for the writer: rows to upsert or delete, addresses taken or freed. */
export interface Change {
  put: NetRow[];
  del: NetRow[];
  take: Allocation[];
  free: Allocation[];
}

/**
 * The attributes rules look rows up by, per kind: kept as indexes, so a spawn's "ports of this
 * instance" or a create's "subnets of this network" costs the same with 10 ports or 100,000.
 */
const INDEXED: Readonly<Partial<Record<NetRow['kind'], readonly string[]>>> = {
  port: ['device_id', 'network_id'],
  subnet: ['network_id'],
  floatingip: ['port_id', 'floating_network_id', 'router_id'],
  security_group_rule: ['security_group_id', 'remote_group_id'],
};

export class NetState {
  readonly rows = new Map<string, NetRow>();
  private readonly byKind = new Map<string, Map<string, NetRow>>();
  /** `kind|attribute` → value → row ids. */
  private readonly indexes = new Map<string, Map<unknown, Set<string>>>();
  /** `kind|project` → how many rows (quotas). */
  private readonly perProject = new Map<string, number>();
  /** `subnet|ip` → the allocation. */
  private readonly allocs = new Map<string, Allocation>();
  /** port id → its allocations' keys. */
  private readonly allocsOfPort = new Map<string, Set<string>>();
  /** mac → port id. */
  readonly macs = new Map<string, string>();

  get allocations(): ReadonlyMap<string, Allocation> {
    return this.allocs;
  }

  addAllocation(a: Allocation): void {
    const key = allocKey(a.subnetId, a.ip);
    this.allocs.set(key, a);
    let s = this.allocsOfPort.get(a.portId);
    if (!s) this.allocsOfPort.set(a.portId, (s = new Set()));
    s.add(key);
  }

  removeAllocation(a: Allocation): void {
    const key = allocKey(a.subnetId, a.ip);
    this.allocs.delete(key);
    const s = this.allocsOfPort.get(a.portId);
    s?.delete(key);
    if (s?.size === 0) this.allocsOfPort.delete(a.portId);
  }

  countOf(kind: NetRow['kind'], projectId: string): number {
    return this.perProject.get(`${kind}|${projectId}`) ?? 0;
  }

  of(kind: NetKind | 'quota'): Map<string, NetRow> {
    let m = this.byKind.get(kind);
    if (!m) this.byKind.set(kind, (m = new Map()));
    return m;
  }

  get(kind: NetKind | 'quota', id: string): NetRow | undefined {
    const r = this.rows.get(id);
    return r && r.kind === kind ? r : undefined;
  }

  /** Rows of a kind whose attribute `key` is `value` (through its index when it has one). */
  where(kind: NetKind, key: string, value: unknown): NetRow[] {
    const index = this.indexes.get(`${kind}|${key}`);
    if (index) return [...(index.get(value) ?? [])].map((id) => this.rows.get(id)!);
    const out: NetRow[] = [];
    for (const r of this.of(kind).values()) if (r.attrs[key] === value) out.push(r);
    return out;
  }

  allocationsOfPort(portId: string): Allocation[] {
    return [...(this.allocsOfPort.get(portId) ?? [])].map((k) => this.allocs.get(k)!);
  }

  /** Loaded rows and addresses (at start, and after a failed write). */
  load(rows: NetRow[], allocations: Allocation[]): void {
    this.rows.clear();
    this.byKind.clear();
    this.indexes.clear();
    this.perProject.clear();
    this.allocs.clear();
    this.allocsOfPort.clear();
    this.macs.clear();
    for (const r of rows) this.setRow(r);
    for (const a of allocations) this.addAllocation(a);
  }

  setRow(r: NetRow): void {
    const old = this.rows.get(r.id);
    if (old) this.unsetRow(old);
    this.rows.set(r.id, r);
    this.of(r.kind).set(r.id, r);
    if (r.kind === 'port' && typeof r.attrs.mac_address === 'string') this.macs.set(r.attrs.mac_address, r.id);
    for (const key of INDEXED[r.kind] ?? []) {
      const name = `${r.kind}|${key}`;
      let index = this.indexes.get(name);
      if (!index) this.indexes.set(name, (index = new Map()));
      let ids = index.get(r.attrs[key]);
      if (!ids) index.set(r.attrs[key], (ids = new Set()));
      ids.add(r.id);
    }
    const counted = `${r.kind}|${r.projectId}`;
    this.perProject.set(counted, (this.perProject.get(counted) ?? 0) + 1);
  }

  unsetRow(r: NetRow): void {
    this.rows.delete(r.id);
    this.of(r.kind).delete(r.id);
    if (r.kind === 'port' && this.macs.get(r.attrs.mac_address as string) === r.id) this.macs.delete(r.attrs.mac_address as string);
    for (const key of INDEXED[r.kind] ?? []) {
      const ids = this.indexes.get(`${r.kind}|${key}`)?.get(r.attrs[key]);
      ids?.delete(r.id);
      if (ids?.size === 0) this.indexes.get(`${r.kind}|${key}`)!.delete(r.attrs[key]);
    }
    const counted = `${r.kind}|${r.projectId}`;
    this.perProject.set(counted, (this.perProject.get(counted) ?? 1) - 1);
  }
}

/** Neutron's timestamps: seconds, no fraction. */
export const neutronTime = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

export const allocKey = (subnetId: string, ip: string) => `${subnetId}|${ip}`;

/**
 * One request's changes: applied to the state at once (later checks in the same request see them),
 * undone in reverse if the request fails, handed to the writer if it succeeds.
 */
export class Tx {
  private readonly undo: (() => void)[] = [];
  readonly change: Change = { put: [], del: [], take: [], free: [] };

  constructor(
    readonly state: NetState,
    readonly now: Date,
  ) {}

  put(row: NetRow): NetRow {
    const old = this.state.rows.get(row.id);
    this.state.setRow(row);
    this.undo.push(() => (old ? this.state.setRow(old) : this.state.unsetRow(row)));
    this.change.put.push(row);
    return row;
  }

  /** A row with new attributes: a new object (views handed out keep the old one), version + 1. */
  update(row: NetRow, attrs: Attrs): NetRow {
    return this.put({ ...row, attrs: { ...row.attrs, ...attrs }, version: row.version + 1, updatedAt: this.now });
  }

  del(row: NetRow): void {
    this.state.unsetRow(row);
    this.undo.push(() => this.state.setRow(row));
    this.change.del.push(row);
  }

  take(a: Allocation): void {
    this.state.addAllocation(a);
    this.undo.push(() => this.state.removeAllocation(a));
    this.change.take.push(a);
  }

  free(a: Allocation): void {
    this.state.removeAllocation(a);
    this.undo.push(() => this.state.addAllocation(a));
    this.change.free.push(a);
  }

  /** Something kept beside the state (an address allocator) that must be put back on rollback. */
  onUndo(fn: () => void): void {
    this.undo.push(fn);
  }

  rollback(): void {
    for (const u of this.undo.reverse()) u();
    this.undo.length = 0;
  }

  get empty(): boolean {
    return this.change.put.length + this.change.del.length + this.change.take.length + this.change.free.length === 0;
  }
}
