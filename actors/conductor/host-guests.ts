/**
 * `<root>.conductor.host-guests.<host>`: a host names the guests its hypervisor runs and learns which of
 * them belong to a live instance placed on it. Everything else it may reap (see
 * actors/compute/guest-reaper.ts). An instance counts as live on a host from the moment its row
 * names the host (written before the spawn is sent) until it is deleted, so a spawn in flight is
 * never reaped; during a move, on both its ends. The reply also says which should be running (a
 * host back from fencing starts those). Only the host itself may ask: NATS lets a host identity publish only its own
 * hosts' subject, and the body must name the subject's host.
 */
import { HostGuests, hostGuestsSubjectHost } from '../../protocols/catalog/conductor.js';
import { BadRequestError } from '../../protocols/errors.js';
import type { HostGuestsReply } from '../../protocols/reconcile.js';
import type { Subjects } from '../../protocols/subjects.js';
import type { Orm } from '../../runtime/db/orm.js';
import type { Bridge, Service } from '../../runtime/nats/bridge.js';

/** Which of `uuids` are live on `host`, and which of those should be running there now. */
export async function liveGuestsOn(orm: Orm, host: string, uuids: string[]): Promise<Required<HostGuestsReply>> {
  if (uuids.length === 0) return { live: [], running: [] };
  const knex = orm.em.getConnection().getKnex();
  const r = await knex.raw(
    // A move under way also owns its other end: a live migration's destination holds the guest before
    // the row names it (and the source until then), an evacuation's destination is spawning.
    `select uuid, (host = ? and vm_state = 'active' and task_state is null) as running
       from instances where uuid = any(array(select jsonb_array_elements_text(?::jsonb)::uuid)) and deleted_at is null
       and vm_state <> 'deleted'
       and (host = ? or (task_state is not null and ? in (task_context->'migration'->>'source', task_context->'migration'->>'dest')))`,
    [host, JSON.stringify(uuids.map((u) => u.toLowerCase())), host, host],
  );
  const rows = r.rows as { uuid: string; running: boolean }[];
  return { live: rows.map((x) => x.uuid), running: rows.filter((x) => x.running).map((x) => x.uuid) };
}

export function registerHostGuestsVerb(bridge: Bridge, svc: Service, subjects: Subjects, orm: Orm): void {
  bridge.endpoint(svc, HostGuests, async (body, { subject }) => {
    // The subject is what NATS permissions vouch for; a body naming another host is refused.
    if (hostGuestsSubjectHost(subjects, subject) !== body.host) throw new BadRequestError('host-guests: the body must name the host of its subject');
    return (await liveGuestsOn(orm, body.host, body.uuids)) satisfies HostGuestsReply;
  }, { queue: 'conductor' });
}
