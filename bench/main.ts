/**
 * `npm run bench -- <name> [flags]`: benchmarks print one JSON line each; nothing here asserts time.
 *   boot   --hosts 1000 --instances 5000 --concurrency 64 [--flavor m1.tiny] [--delete]
 */
import { parseArgs } from 'node:util';
import { bootBench } from './boot.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    hosts: { type: 'string', default: '1000' },
    instances: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '64' },
    flavor: { type: 'string', default: 'm1.tiny' },
    delete: { type: 'boolean', default: false },
  },
});
const name = positionals[0] ?? 'boot';
const num = (s: string, what: string) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 1) {
    process.stderr.write(`bench: --${what} must be a positive integer\n`);
    process.exit(2);
  }
  return n;
};

if (name !== 'boot') {
  process.stderr.write(`bench: unknown benchmark '${name}' (known: boot)\n`);
  process.exit(2);
}
const result = await bootBench({
  hosts: num(values.hosts!, 'hosts'),
  instances: num(values.instances!, 'instances'),
  concurrency: num(values.concurrency!, 'concurrency'),
  flavor: values.flavor!,
  deleteAfter: values.delete!,
});
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
