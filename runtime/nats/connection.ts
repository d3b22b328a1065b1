/** Connects to NATS with the reconnect settings novact needs (never give up; resume quickly). */
import { connect, type NatsConnection } from 'nats';

export interface NatsOptions {
  servers: string | string[];
  name: string;
  user?: string;
  pass?: string;
  /** Delay between reconnect attempts (default 250 ms). */
  reconnectTimeWaitMs?: number;
}

export async function connectNats(opts: NatsOptions): Promise<NatsConnection> {
  const conn: Parameters<typeof connect>[0] = {
    servers: opts.servers,
    name: opts.name,
    // The client default gives up after 10 attempts (~20 s): a restarted server would be lost for good.
    maxReconnectAttempts: -1,
    reconnectTimeWait: opts.reconnectTimeWaitMs ?? 250,
    pingInterval: 10_000,
  };
  if (opts.user !== undefined) conn.user = opts.user;
  if (opts.pass !== undefined) conn.pass = opts.pass;
  return connect(conn);
}
