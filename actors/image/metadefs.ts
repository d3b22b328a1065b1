/**
 * The image role's `image.metadefs` verb: Glance's metadata definitions catalog in PostgreSQL, one row
 * (and one JSON document) per namespace. Any replica answers; a change locks its namespace's row
 * (`FOR UPDATE`) for its read-modify-write, so two replicas' changes to one namespace serialise.
 * Visibility (public, or private to the owner's project) is applied here, in the queries; who may
 * change the catalog at all (admins, Glance's default) is the API's check.
 */
import type { Knex } from '@mikro-orm/postgresql';
import type { Static } from '@sinclair/typebox';
import { BadRequestError, ConflictError, NotFoundError, OverLimitError } from '../../protocols/errors.js';
import type { ImageMetadefsRequestSchema } from '../../protocols/catalog/image.js';
import {
  BUILTIN_RESOURCE_TYPES, MAX_NAMESPACE_BYTES, applyMetadefChange, canSeeNamespace, newNamespace,
  type MetadefChange, type MetadefNamespace,
} from '../../protocols/image-metadefs.js';
import type { Clock } from '../../runtime/clock.js';
import { SEED_NAME, SEED_NAMESPACES } from './metadef-seed.js';

type Req = Static<typeof ImageMetadefsRequestSchema>;
type Viewer = Req['viewer'];

const noNamespace = (name: string) => new NotFoundError(`Metadata definition namespace=${name} was not found.`);

function fits(doc: MetadefNamespace): string {
  const json = JSON.stringify(doc);
  if (Buffer.byteLength(json) > MAX_NAMESPACE_BYTES) throw new OverLimitError(`Namespace ${doc.namespace} would exceed ${MAX_NAMESPACE_BYTES} bytes.`);
  return json;
}

/** Loads the shipped definitions once into the catalog (first start of the first replica). */
export async function seedMetadefs(db: Knex, clock: Clock): Promise<void> {
  const now = new Date(clock.now()).toISOString();
  await db.transaction(async (trx) => {
    const r = await trx.raw('insert into metadef_seeds (name, applied_at) values (?, ?) on conflict do nothing', [SEED_NAME, now]);
    if (r.rowCount !== 1) return;
    for (const body of SEED_NAMESPACES) {
      const ns = newNamespace(body, 'admin', now);
      await trx.raw(
        `insert into metadef_namespaces (namespace, owner, visibility, doc, created_at, updated_at) values (?, ?, ?, ?::jsonb, ?, ?) on conflict do nothing`,
        [ns.namespace, ns.owner, ns.visibility, fits(ns), now, now],
      );
    }
  });
}

export class MetadefCatalog {
  constructor(private readonly db: Knex, private readonly clock: Clock) {}

  handle(req: Req): Promise<unknown> {
    switch (req.op) {
      case 'list': return this.list(req);
      case 'get': return this.get(req.viewer, this.name(req));
      case 'change': return this.change(req.viewer, this.name(req), req.change as unknown as MetadefChange);
      case 'resource-types': return this.resourceTypes();
    }
  }

  private name(req: Req): string {
    if (req.namespace == null) throw new BadRequestError('A namespace name is required.');
    return req.namespace;
  }

  /** Namespaces the viewer sees, oldest first, after `marker`, optionally by visibility and resource type. */
  private async list(req: Req): Promise<{ namespaces: MetadefNamespace[] }> {
    const q = this.db('metadef_namespaces').select('doc').orderBy([{ column: 'created_at' }, { column: 'namespace' }]).limit(req.limit ?? 25);
    if (!req.viewer.isAdmin) q.where((w) => w.where('visibility', 'public').orWhere('owner', req.viewer.projectId ?? ''));
    if (req.visibility) q.where('visibility', req.visibility);
    if (req.resourceTypes?.length) q.whereRaw(`doc->'resource_type_associations' \\?| ?::text[]`, [req.resourceTypes]);
    if (req.marker != null) {
      const m = await this.db('metadef_namespaces').select('created_at', 'namespace').where('namespace', req.marker).first();
      if (!m) throw new NotFoundError(`Namespace ${req.marker} could not be found.`);
      q.whereRaw('(created_at, namespace) > (?, ?)', [m.created_at, m.namespace]);
    }
    const rows = (await q) as { doc: MetadefNamespace }[];
    return { namespaces: rows.map((r) => r.doc) };
  }

  private async get(viewer: Viewer, name: string): Promise<{ namespace: MetadefNamespace }> {
    const row = (await this.db('metadef_namespaces').select('doc').where('namespace', name).first()) as { doc: MetadefNamespace } | undefined;
    if (!row || !canSeeNamespace(viewer, row.doc)) throw noNamespace(name);
    return { namespace: row.doc };
  }

  /** Applies one change under the namespace's row lock; answers the namespace and the changed item. */
  private async change(viewer: Viewer, name: string, c: MetadefChange): Promise<{ namespace?: MetadefNamespace; item?: unknown }> {
    const now = new Date(this.clock.now()).toISOString();
    if (c.action === 'create-namespace') {
      const ns = newNamespace(c.value, viewer.projectId ?? 'admin', now);
      const r = await this.db.raw(
        `insert into metadef_namespaces (namespace, owner, visibility, doc, created_at, updated_at) values (?, ?, ?, ?::jsonb, ?, ?) on conflict do nothing`,
        [ns.namespace, ns.owner, ns.visibility, fits(ns), now, now],
      );
      if (r.rowCount !== 1) throw new ConflictError(`Namespace ${ns.namespace} already exists`);
      return { namespace: ns, item: ns };
    }
    return this.db.transaction(async (trx) => {
      const row = (await trx('metadef_namespaces').select('doc').where('namespace', name).forUpdate().first()) as { doc: MetadefNamespace } | undefined;
      if (!row || !canSeeNamespace(viewer, row.doc)) throw noNamespace(name);
      const { doc, item } = applyMetadefChange(row.doc, c, now);
      if (doc === undefined) {
        await trx('metadef_namespaces').where('namespace', name).delete();
        return {};
      }
      if (doc.namespace !== name && (await trx('metadef_namespaces').where('namespace', doc.namespace).first()) !== undefined) {
        throw new ConflictError(`Namespace ${doc.namespace} already exists`);
      }
      await trx.raw(`update metadef_namespaces set namespace = ?, owner = ?, visibility = ?, doc = ?::jsonb, updated_at = ? where namespace = ?`,
        [doc.namespace, doc.owner, doc.visibility, fits(doc), now, name]);
      return { namespace: doc, item };
    });
  }

  /** Glance's built-in resource types plus every name a namespace has been associated with. */
  private async resourceTypes(): Promise<{ resourceTypes: { name: string; created_at: string; updated_at: string }[] }> {
    const seed = (await this.db('metadef_seeds').min('applied_at as at').first()) as { at: Date | string | null } | undefined;
    const since = new Date(seed?.at ?? 0).toISOString();
    const { rows } = await this.db.raw(
      `select a.key as name, min(a.value->>'created_at') as created_at from metadef_namespaces, jsonb_each(doc->'resource_type_associations') a group by a.key`,
    );
    const seen = new Map<string, string>(BUILTIN_RESOURCE_TYPES.map((n) => [n, since]));
    for (const r of rows as { name: string; created_at: string }[]) if (!seen.has(r.name)) seen.set(r.name, r.created_at);
    return { resourceTypes: [...seen].map(([name, at]) => ({ name, created_at: at, updated_at: at })) };
  }
}
