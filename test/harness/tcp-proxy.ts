/**
 * A TCP proxy in front of a server (nats-server here) that a test can cut and restore: `cut()`
 * drops every open connection and refuses new ones until `restore()`, as a network partition does
 * to the client side. Chaos tests put one in front of whichever role they mean to isolate.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** `nats://127.0.0.1:<port>` style address of the proxy (same scheme as the target's). */
  readonly url: string;
  readonly isCut: boolean;
  /** Connections accepted so far (a client that reconnected shows here). */
  readonly accepted: number;
  cut(): void;
  restore(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const pairs = new Set<[Socket, Socket]>();
  let isCut = false;
  let accepted = 0;
  const server: Server = createServer((client) => {
    if (isCut) {
      client.destroy();
      return;
    }
    accepted++;
    const upstream = connect(Number(target.port), target.hostname);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of pair) {
      s.on('error', end);
      s.on('close', end);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  const cut = () => {
    isCut = true;
    for (const [a, b] of pairs) {
      a.destroy();
      b.destroy();
    }
    pairs.clear();
  };
  return {
    url: `${target.protocol}//127.0.0.1:${port}`,
    get isCut() {
      return isCut;
    },
    get accepted() {
      return accepted;
    },
    cut,
    restore() {
      isCut = false;
    },
    close: () => {
      cut();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
