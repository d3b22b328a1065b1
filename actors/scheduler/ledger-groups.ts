/**
 * Server group rules checked at the ledger's commit, not only in the scheduler's memory or at the
 * API: two replicas (or two API requests racing past the API's member count) could otherwise both
 * put a member on an anti-affinity host or both join a full group. The group rows are locked
 * (`for update`, in uuid order, after the providers: every claim batch takes them in that order),
 * so while a transaction decides, no other transaction adds members to those groups.
 */
import type { Knex } from '@mikro-orm/postgresql';
import type { Claim, GroupVerdict } from './ledger-types.js';
export type { GroupVerdict };

/** Why the commit refused a member: the group is full (quota), or the host breaks its policy. */

interface GroupRow {
  uuid: string;
  policy: string;
  max_server_per_host: number | null;
}

/**
 * Checks `claims` (already granted capacity, allocations written in this transaction) in input
 * order against their groups; returns the consumers refused and why. `memberLimit` gives the
 * project's `server_group_members` quota (-1: unlimited).
 */
export async function enforceGroups(
  trx: Knex.Transaction,
  claims: Claim[],
  memberLimit: (projectId: string) => number,
): Promise<Map<string, GroupVerdict>> {
  const ids = [...new Set(claims.map((c) => c.group!))].sort();
  const locked = await trx.raw(
    `select uuid::text, policy, max_server_per_host from server_groups
     where uuid = any(array(select jsonb_array_elements_text(?::jsonb)::uuid)) order by uuid for update`,
    [JSON.stringify(ids)],
  );
  const groups = new Map((locked.rows as GroupRow[]).map((g) => [g.uuid, g]));
  // Each member with the host it holds an allocation on (none while shelved offloaded, say).
  const res = await trx.raw(
    `select m.group_uuid::text as g, m.instance_uuid::text as i, a.provider
     from server_group_members m
     left join lateral (select provider from allocations where consumer = m.instance_uuid limit 1) a on true
     where m.group_uuid = any(array(select jsonb_array_elements_text(?::jsonb)::uuid))`,
    [JSON.stringify(ids)],
  );
  const members = new Map<string, Map<string, string | null>>();
  for (const r of res.rows as { g: string; i: string; provider: string | null }[]) {
    let m = members.get(r.g);
    if (!m) members.set(r.g, (m = new Map()));
    m.set(r.i, r.provider);
  }
  const refused = new Map<string, GroupVerdict>();
  for (const c of claims) {
    const g = groups.get(c.group!);
    if (!g) continue; // deleted meanwhile: the join is skipped too
    let m = members.get(g.uuid);
    if (!m) members.set(g.uuid, (m = new Map()));
    const others = [...m].filter(([i]) => i !== c.consumer);
    const limit = memberLimit(c.projectId);
    if (!m.has(c.consumer) && limit >= 0 && others.length + 1 > limit) {
      refused.set(c.consumer, 'full');
      continue;
    }
    if (breaksPolicy(g, others.map(([, p]) => p), c.provider)) {
      refused.set(c.consumer, 'policy');
      continue;
    }
    m.set(c.consumer, c.provider);
  }
  return refused;
}

/** Hard policies only: the soft ones are weighers, never a refusal. */
function breaksPolicy(g: GroupRow, hosts: (string | null)[], provider: string): boolean {
  const placed = hosts.filter((h): h is string => h !== null);
  if (g.policy === 'anti-affinity') return placed.filter((h) => h === provider).length >= (g.max_server_per_host ?? 1);
  if (g.policy === 'affinity') return placed.length > 0 && !placed.includes(provider);
  return false;
}

/** The `server_group_members` limits of these projects (quota rows, else the default). */
export async function memberLimits(trx: Knex.Transaction, projects: string[], fallback: number): Promise<(projectId: string) => number> {
  const res = await trx.raw(
    `select project_id, hard_limit from quotas where resource = 'server_group_members'
     and project_id = any(array(select jsonb_array_elements_text(?::jsonb)))`,
    [JSON.stringify([...new Set(projects)])],
  );
  const rows = new Map((res.rows as { project_id: string; hard_limit: number }[]).map((r) => [r.project_id, r.hard_limit]));
  return (p) => rows.get(p) ?? fallback;
}
