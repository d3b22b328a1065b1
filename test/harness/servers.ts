import type { Test } from 'tap';
import { startNatsServer, type NatsServerHandle } from '../../runtime/services/nats-server.js';
import { startPostgres, type PostgresHandle } from '../../runtime/services/postgres-server.js';

/** One private nats-server and PostgreSQL for a test file, stopped (and their temp dirs removed) at teardown. */
export async function startServers(t: Test): Promise<{ nats: NatsServerHandle; pg: PostgresHandle }> {
  const [nats, pg] = await Promise.allSettled([startNatsServer(), startPostgres()]);
  const started = [nats, pg].flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  t.teardown(() => Promise.all(started.map((s) => s.stop())).then(() => undefined));
  if (nats.status === 'rejected') throw nats.reason;
  if (pg.status === 'rejected') throw pg.reason;
  return { nats: nats.value, pg: pg.value };
}
