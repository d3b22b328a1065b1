/**
 * Nova's `_poll_unconfirmed_resizes`: resized instances whose move has been `finished` for longer
 * than `resize_confirm_window` are confirmed by the system (as an admin caller, through the
 * instance's own actor, so the confirm takes the same path and guards as a user's). 0 = never.
 */
import type { Orm } from '../../runtime/db/orm.js';
import type { Clock, Timer } from '../../runtime/clock.js';
import type { Logger } from '../../runtime/log/logger.js';
import { errorFields } from '../../runtime/log/logger.js';

/** At most this many confirms per pass; the next pass takes the rest. */
const BATCH = 500;

/** Instances due for an automatic confirm at `now` (ms). */
export async function dueResizes(orm: Orm, now: number, windowS: number): Promise<string[]> {
  const knex = orm.em.getConnection().getKnex();
  const r = await knex.raw(
    `select i.uuid::text as uuid from instances i
       join migrations m on m.uuid::text = i.task_context->'migration'->>'uuid'
      where i.vm_state = 'resized' and i.task_state is null and i.deleted_at is null
        and m.status = 'finished' and m.updated_at <= ?
      order by m.updated_at limit ${BATCH}`,
    [new Date(now - windowS * 1000)],
  );
  return (r.rows as { uuid: string }[]).map((x) => x.uuid);
}

/** One pass: confirms every due resize; a refusal (the user confirmed or reverted meanwhile) is fine. */
export async function confirmDueResizes(orm: Orm, now: number, windowS: number, confirm: (uuid: string) => Promise<unknown>, log?: Logger): Promise<number> {
  if (windowS <= 0) return 0;
  const due = await dueResizes(orm, now, windowS);
  let confirmed = 0;
  for (const uuid of due) {
    try {
      await confirm(uuid);
      confirmed++;
    } catch (err) {
      log?.info('automatic resize confirm refused', { instance: uuid, ...errorFields(err) });
    }
  }
  if (confirmed > 0) log?.info('confirmed resizes past the confirm window', { count: confirmed });
  return confirmed;
}

export interface ResizeConfirmSweepDeps {
  orm: Orm;
  clock: Clock;
  log: Logger;
  windowS: number;
  intervalMs: number;
  confirm: (uuid: string) => Promise<unknown>;
}

/** Starts the periodic pass (none when the window is 0); cancel the timer to stop it. */
export function startResizeConfirmSweep(d: ResizeConfirmSweepDeps): Timer | undefined {
  if (d.windowS <= 0) return undefined;
  let running = false;
  return d.clock.setInterval(() => {
    if (running) return;
    running = true;
    confirmDueResizes(d.orm, d.clock.now(), d.windowS, d.confirm, d.log)
      .catch((err) => d.log.warn('resize confirm sweep failed', errorFields(err)))
      .finally(() => { running = false; });
  }, d.intervalMs);
}
