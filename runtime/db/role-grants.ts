/**
 * What each role's PostgreSQL login may do, table by table: exactly what its code does (found by
 * reading every query and entity call under `actors/<role>/`), so a leaked role credential, or SQL
 * run through a bug in one role, cannot touch another role's data. `role-logins.ts` applies this
 * after every migration run; everything not listed here is revoked.
 *
 * Notes on the choices:
 * - `SELECT … FOR UPDATE` needs UPDATE on the locked table (server_groups in the scheduler).
 * - `INSERT … ON CONFLICT DO UPDATE` needs UPDATE; `DO NOTHING` only INSERT.
 * - Foreign-key checks and `ON DELETE CASCADE` run as the table's owner: no grant on the other table.
 * - Sequences behind a `serial` column are granted (USAGE) to every role that inserts into its table,
 *   read from the catalog rather than listed here.
 * - Soft-deleted rows (instances, images) are UPDATEd, never DELETEd: no DELETE for those roles.
 */

/** A role that holds a database login of its own. */
export type DbRole = 'conductor' | 'scheduler' | 'image' | 'network' | 'api';

export type Privilege = 'SELECT' | 'INSERT' | 'UPDATE' | 'DELETE';

const R: Privilege[] = ['SELECT'];
const RIU: Privilege[] = ['SELECT', 'INSERT', 'UPDATE'];
const RID: Privilege[] = ['SELECT', 'INSERT', 'DELETE'];
const ALL: Privilege[] = ['SELECT', 'INSERT', 'UPDATE', 'DELETE'];

export const ROLE_GRANTS: Readonly<Record<DbRole, Readonly<Record<string, readonly Privilege[]>>>> = {
  conductor: {
    instances: RIU, // instance-store (batched upsert with CAS), instance-update, server-query/page, usage
    instance_actions: RIU, // written with the instance's state; finished in place
    migrations: RIU, // migration-store: insert … on conflict do nothing, CAS status updates
    compute_nodes: ALL, // reports upserted, heartbeats, service admin (disable, force down, delete)
    flavors: ALL, // seeded defaults, flavor admin (create, extra specs under FOR UPDATE, description, delete)
    flavor_projects: RID, // flavor access lists: grant, revoke, read with the catalog
  },
  scheduler: {
    resource_providers: ALL, // ledger: providers on report, removed with a host (FOR UPDATE)
    inventories: ALL, // ledger: upserted on report, usage raised and lowered by claims (FOR UPDATE)
    allocations: ALL, // ledger: claims, releases, moves (consumer rewritten)
    aggregates: ALL, // catalog: create, metadata, delete
    aggregate_hosts: RID, // catalog: add and remove hosts
    server_groups: ALL, // catalog: create, delete; ledger locks member groups (FOR UPDATE)
    server_group_members: RID, // ledger: joined with a claim, left with a release
    quotas: R, // ledger: server_group_members limit at commit
    compute_nodes: R, // ledger: disabled and forced-down hosts at warm-up
  },
  image: {
    images: RIU, // register, verbs (CAS), upload completion, snapshot, saving sweep; delete is a status
    image_members: ALL, // members verb (image actor): add, status change (CAS), remove; listing reads
    metadef_namespaces: ALL, // metadefs verb: create, change under FOR UPDATE, delete
    metadef_seeds: ['SELECT', 'INSERT'], // the shipped definitions, loaded once
  },
  network: {
    net_resources: ALL, // the network role's write-through of its in-memory state (upsert by version, delete)
    ip_allocations: ALL, // IPAM: inserted with their port, deleted when released
  },
  api: {
    keystone_projects: ALL,
    keystone_users: ALL,
    keystone_domains: ALL,
    keystone_groups: ALL,
    keystone_group_members: ALL,
    keystone_roles: ALL,
    keystone_implied_roles: ALL,
    keystone_assignments: ALL,
    keystone_regions: ALL,
    keystone_services: ALL,
    keystone_endpoints: ALL,
    keystone_app_credentials: ALL,
    keystone_tokens: ALL, // issue, revoke (update), purge expired (delete)
    key_pairs: RID,
    quotas: ALL, // quota-set upserts and resets
    quota_classes: RIU, // quota-class-set upserts; read with every project's limits
  },
};

/** Which login each pool uses: the conductor's tenant-driven reads are the conductor's. */
export const POOL_ROLE = {
  conductor: 'conductor',
  conductorReads: 'conductor',
  scheduler: 'scheduler',
  image: 'image',
  network: 'network',
  api: 'api',
} as const satisfies Record<string, DbRole>;

export const DB_ROLES = Object.keys(ROLE_GRANTS) as DbRole[];

/** Tables `role` inserts into (their sequences get USAGE). */
export function insertTables(role: DbRole): string[] {
  return Object.entries(ROLE_GRANTS[role]).filter(([, p]) => p.includes('INSERT')).map(([t]) => t);
}
