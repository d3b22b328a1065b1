/**
 * What every REST answer to hostile input must be, as one pure check: no 5xx but a deliberate 503
 * (and Nova's 501 for an unimplemented feature), every error an OpenStack fault body (JSON, one key,
 * `code` equal to the status, a `message`; or Neutron's `NeutronError` with a `type` and a
 * `message`, which carries no code), and no internal detail (SQL, stack traces, NATS
 * subjects, actor crashes) in what a tenant reads.
 */

export interface Reply {
  status: number;
  contentType: string;
  text: string;
}

const LEAKS: readonly [string, RegExp][] = [
  ['SQL text', /\b(?:insert\s+into|update\s+"?\w+"?\s+set\b|delete\s+from\b|select\s+(?:\*|"[\w.]+"|[\w".]+(?:\s*,\s*[\w".]+)+)\s+from\b|syntax error at or near|violates\s+\w+\s+constraint|invalid byte sequence for encoding|invalid input syntax for type|unsupported Unicode escape sequence|SQLSTATE|relation "[^"]+" does not exist|MikroORM|knex|PostgreSQL)/i],
  ['stack trace', /\n\s+at\s+\S|\bat\s+[^\s]+\s+\([^)]*:\d+:\d+\)|node:internal|\.ts:\d+:\d+/],
  ['internal subject', /\bnovact\.(instance|host|conductor|scheduler|image|flavor|report|evt|aggregate|servergroup|compute|network)\b|_INBOX\.|\$SRV\.|no service answers/],
  ['internal error', /crashed handling the request|\b(TypeError|ReferenceError|RangeError|SyntaxError):|Cannot read propert|Maximum call stack|is not a function|undefined is not|NatsError|MAX_PAYLOAD|BAD_HEADER/],
];

/** The leak classes a text shows (empty: none). */
export function leaks(text: string): string[] {
  return LEAKS.filter(([, re]) => re.test(text)).map(([name]) => name);
}

/** Why an answer is wrong (empty: it is fine). `tenant`: the caller is not an admin. */
export function problems(r: Reply, o: { method: string; tenant: boolean }): string[] {
  const out: string[] = [];
  const deliberate = r.status === 503 || r.status === 501;
  if (r.status >= 500 && !deliberate) out.push(`status ${r.status}`);
  if (r.status >= 400 && o.method !== 'HEAD') {
    let body: unknown;
    try {
      body = JSON.parse(r.text);
    } catch {
      body = undefined;
    }
    const entries = body !== null && typeof body === 'object' && !Array.isArray(body) ? Object.entries(body) : [];
    const [, v] = entries[0] ?? [];
    const f = v as { code?: unknown; message?: unknown; type?: unknown } | undefined;
    if (!r.contentType.startsWith('application/json')) out.push(`content-type ${r.contentType || 'none'}`);
    const neutron = entries.length === 1 && entries[0]![0] === 'NeutronError';
    if (neutron) {
      if (typeof f !== 'object' || f === null || typeof f.type !== 'string' || typeof f.message !== 'string') out.push('not a fault body');
    } else if (entries.length !== 1 || typeof f !== 'object' || f === null || typeof f.code !== 'number' || typeof f.message !== 'string') out.push('not a fault body');
    else if (f.code !== r.status) out.push(`fault code ${f.code} ≠ status ${r.status}`);
    if (deliberate && r.status === 501 && entries[0]?.[0] !== 'notImplemented' && !neutron) out.push(`status 501 is not notImplemented`);
  }
  // Admins may see host names in views; nobody should see SQL, stacks or subjects in an error, and
  // a tenant not even in a successful view (a server's fault message).
  if (r.status >= 400 || o.tenant) for (const l of leaks(r.text)) out.push(`leaks ${l}`);
  return out;
}
