/** Connects to NATS with the reconnect settings novact needs (never give up; resume quickly). */
import { connect, nkeyAuthenticator, type NatsConnection } from 'nats';

export interface NatsOptions {
  servers: string | string[];
  name: string;
  user?: string;
  pass?: string;
  /** An nkey user seed (`SU…`): a host's identity, instead of a user and password. */
  nkeySeed?: string;
  /**
   * Where replies to this connection's requests go (`<prefix>.…`); the server lets each identity
   * subscribe only to its own (nats.conf), so nobody else reads them. Default `_INBOX`.
   */
  inboxPrefix?: string;
  /** Delay between reconnect attempts (default 250 ms). */
  reconnectTimeWaitMs?: number;
}

/** Splits `nats://user:pass@host:port` into a bare URL and credentials (the client wants them apart). */
export function splitCredentials(url: string): { url: string; user?: string; pass?: string } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return { url };
  }
  if (!u.username) return { url };
  const out = { user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) };
  u.username = '';
  u.password = '';
  return { url: u.toString().replace(/\/$/, ''), ...out };
}

export async function connectNats(opts: NatsOptions): Promise<NatsConnection> {
  const urls = (Array.isArray(opts.servers) ? opts.servers : [opts.servers]).map(splitCredentials);
  const creds = urls.find((u) => u.user !== undefined);
  const conn: Parameters<typeof connect>[0] = {
    servers: urls.map((u) => u.url),
    name: opts.name,
    // The client default gives up after 10 attempts (~20 s): a restarted server would be lost for good.
    maxReconnectAttempts: -1,
    reconnectTimeWait: opts.reconnectTimeWaitMs ?? 250,
    pingInterval: 10_000,
    // The client captures a stack trace per request for nicer timeout errors: ~3% of a busy
    // process's CPU. Our timeouts are typed errors that name the subject instead.
    noAsyncTraces: true,
  };
  const user = opts.user ?? creds?.user;
  const pass = opts.pass ?? creds?.pass;
  if (opts.nkeySeed !== undefined) conn.authenticator = nkeyAuthenticator(new TextEncoder().encode(opts.nkeySeed));
  else {
    if (user !== undefined) conn.user = user;
    if (pass !== undefined) conn.pass = pass;
  }
  if (opts.inboxPrefix !== undefined) conn.inboxPrefix = opts.inboxPrefix;
  return connect(conn);
}
