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

export class NetState {
  readonly rows = new Map<string, NetRow>();
  private readonly byKind = new Map<string, Map<string, NetRow>>();
  /** `subnet|ip` → the allocation. */
  readonly allocations = new Map<string, Allocation>();
  /** mac → port id. */
  readonly macs = new Map<string, string>();

  of(kind: NetKind | 'quota'): Map<string, NetRow> {
    let m = this.byKind.get(kind);
    if (!m) this.byKind.set(kind, (m = new Map()));
    return m;
  }

  get(kind: NetKind | 'quota', id: string): NetRow | undefined {
    const r = this.rows.get(id);
    return r && r.kind === kind ? r : undefined;
  }

  /** Rows of a kind whose attribute `key` is `value` (small fleets of resources: a scan is fine). */
  where(kind: NetKind, key: string, value: unknown): NetRow[] {
    const out: NetRow[] = [];
    for (const r of this.of(kind).values()) if (r.attrs[key] === value) out.push(r);
    return out;
  }

  allocationsOfPort(portId: string): Allocation[] {
    return [...this.allocations.values()].filter((a) => a.portId === portId);
  }

  /** Loaded rows and addresses (at start, and after a failed write). */
  load(rows: NetRow[], allocations: Allocation[]): void {
    this.rows.clear();
    this.byKind.clear();
    this.allocations.clear();
    this.macs.clear();
    for (const r of rows) this.setRow(r);
    for (const a of allocations) this.allocations.set(allocKey(a.subnetId, a.ip), a);
  }

  setRow(r: NetRow): void {
    const old = this.rows.get(r.id);
    if (old) this.unsetRow(old);
    this.rows.set(r.id, r);
    this.of(r.kind).set(r.id, r);
    if (r.kind === 'port' && typeof r.attrs.mac_address === 'string') this.macs.set(r.attrs.mac_address, r.id);
  }

  unsetRow(r: NetRow): void {
    this.rows.delete(r.id);
    this.of(r.kind).delete(r.id);
    if (r.kind === 'port' && this.macs.get(r.attrs.mac_address as string) === r.id) this.macs.delete(r.attrs.mac_address as string);
  }
}

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
    const key = allocKey(a.subnetId, a.ip);
    this.state.allocations.set(key, a);
    this.undo.push(() => this.state.allocations.delete(key));
    this.change.take.push(a);
  }

  free(a: Allocation): void {
    const key = allocKey(a.subnetId, a.ip);
    this.state.allocations.delete(key);
    this.undo.push(() => this.state.allocations.set(key, a));
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
