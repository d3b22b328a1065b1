/**
 * The REST API load generator, run in its own process (forked by bench/api.ts) so the load does not
 * share an event loop with the server. Open loop: request i is due at start + i/rate whatever the
 * earlier ones are doing, and its latency counts from when it was due (so a stalled server cannot
 * hide its stall by slowing the generator down). Reports one JSON message to the parent.
 */
import { Agent, request } from 'node:http';
import { percentiles } from './percentiles.js';

export interface LoadSpec {
  url: string;
  method: 'GET' | 'POST';
  path: string;
  token: string;
  /** JSON body for POST; `{{i}}` in it is replaced by the request's number. */
  body?: string;
  rate: number;
  seconds: number;
}

export interface LoadResult {
  method: string;
  path: string;
  rate: number;
  seconds: number;
  sent: number;
  ok: number;
  errors: number;
  /** Status codes and network errors by count. */
  failures: Record<string, number>;
  achievedRate: number;
  latencyMs: Record<string, number>;
}

function run(spec: LoadSpec): Promise<LoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const target = new URL(spec.path, spec.url);
  const total = spec.rate * spec.seconds;
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let ok = 0;
  let done = 0;
  let sent = 0;
  const start = performance.now();

  return new Promise((resolve) => {
    const finish = () => {
      if (done < total) return;
      clearInterval(tick);
      agent.destroy();
      const elapsed = (performance.now() - start) / 1000;
      resolve({
        method: spec.method, path: spec.path, rate: spec.rate, seconds: spec.seconds, sent, ok, errors: total - ok, failures,
        achievedRate: Math.round((ok / elapsed) * 10) / 10, latencyMs: percentiles(latencies, [50, 90, 99, 100]),
      });
    };
    const fail = (why: string) => {
      failures[why] = (failures[why] ?? 0) + 1;
      done++;
      finish();
    };
    const fire = (i: number, due: number) => {
      sent++;
      const body = spec.body?.replace(/\{\{i\}\}/g, String(i));
      const req = request(target, {
        method: spec.method, agent,
        headers: { 'X-Auth-Token': spec.token, ...(body ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } : {}) },
      }, (res) => {
        res.resume();
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) {
            ok++;
            latencies.push(performance.now() - due);
            done++;
            finish();
          } else fail(String(status));
        });
      });
      req.on('error', (err) => fail((err as NodeJS.ErrnoException).code ?? err.message));
      req.end(body);
    };
    let next = 0;
    // Every millisecond, send whatever has fallen due.
    const tick = setInterval(() => {
      const now = performance.now();
      while (next < total && start + (next * 1000) / spec.rate <= now) {
        fire(next, start + (next * 1000) / spec.rate);
        next++;
      }
    }, 1);
  });
}

process.on('message', (spec: LoadSpec) => {
  void run(spec).then((r) => {
    process.send!(r);
    process.exit(0);
  });
});
