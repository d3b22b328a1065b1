/**
 * `npm run bench -- <name> [flags]`: benchmarks print one JSON line each; nothing here asserts time.
 *   boot    --hosts 1000 --instances 5000 --concurrency 64 [--flavor m1.tiny] [--delete]
 *   decide  --hosts 1000,10000,100000 --decisions 2000         (filter + weigh, in memory)
 *   reports --hosts 10000 --rounds 5                           (capacity-report ingestion)
 *   memory  --hosts 10000 [--wildcard]                         (heap per idle host actor)
 *   sim     --hosts 10000 --rate 500 --seconds 60 [--flavor m1.tiny] [--report-interval 10000] [--split] [--metrics off] [--tracing on]
 *   scrape  --hosts 10000 --instances 2000 --rounds 20          (/metrics scrape time and size at fleet size)
 *   api     --hosts 10 --rate 1000 --post-rate 100 --seconds 20 [--metrics off] [--tracing on]   (REST API latency, load from a second process)
 *   fuzz    --runs 10 [--seed 20261201]                         (the fuzz suites at a larger budget)
 *   actions --hosts 1000 --instances 5000 --seconds 30 --concurrency 64   (mixed server actions on ACTIVE servers)
 *   moves   --hosts 1000 --instances 200 --concurrency 16         (resize+confirm, cold migrate+confirm latency)
 *   live-migrate --hosts 1000 --instances 200 --concurrency 16 [--flavor m1.tiny]   (request → live_migration.end)
 *   host-disks --image-mb 100 --rounds 5 --drives 20   (libvirt host: image cache fetch MB/s, config-drive build ms)
 *   libvirt --boots 5 --concurrent 10 --memory-mb 128   (real TCG guests: request → ACTIVE / console ready, spawn, fetch MB/s)
 *   network --ports 5000 --concurrency 200              (network role: port creates/s, allocation on a nearly full subnet)
 *   boot … --nic                                        (each server with one NIC on a /16: compare with and without)
 *   liveness --hosts 1000 --seconds 10 [--fence off]    (1 s heartbeats: bus and CPU cost, host-down detection after a kill)
 */
import { parseArgs } from 'node:util';
import { actionsBench } from './actions.js';
import { apiBench } from './api.js';
import { bootBench } from './boot.js';
import { fuzzBench } from './fuzz.js';
import { hostDisksBench } from './host-disks.js';
import { libvirtBench } from './libvirt.js';
import { liveMigrateBench } from './live-migrate.js';
import { memoryBench } from './memory.js';
import { movesBench } from './moves.js';
import { reportsBench } from './reports.js';
import { decideBench } from './scheduler.js';
import { simBench } from './sim.js';
import { scrapeBench } from './scrape.js';
import { networkBench } from './network.js';
import { livenessBench } from './liveness.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    hosts: { type: 'string' },
    instances: { type: 'string', default: '5000' },
    concurrency: { type: 'string', default: '64' },
    flavor: { type: 'string', default: 'm1.tiny' },
    delete: { type: 'boolean', default: false },
    split: { type: 'boolean', default: false },
    decisions: { type: 'string', default: '2000' },
    rounds: { type: 'string', default: '5' },
    rate: { type: 'string', default: '500' },
    seconds: { type: 'string', default: '60' },
    'report-interval': { type: 'string', default: '10000' },
    'post-rate': { type: 'string', default: '100' },
    wildcard: { type: 'boolean', default: false },
    runs: { type: 'string', default: '10' },
    seed: { type: 'string', default: '20261201' },
    'image-mb': { type: 'string', default: '100' },
    drives: { type: 'string', default: '20' },
    boots: { type: 'string', default: '5' },
    concurrent: { type: 'string', default: '10' },
    'memory-mb': { type: 'string', default: '128' },
    metrics: { type: 'string', default: 'on' },
    tracing: { type: 'string', default: 'off' },
    ports: { type: 'string', default: '5000' },
    nic: { type: 'boolean', default: false },
    fence: { type: 'string', default: 'power-off' },
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
const hosts = (dflt: string) => num(values.hosts ?? dflt, 'hosts');

let result: Record<string, unknown>;
switch (name) {
  case 'boot':
    result = await bootBench({
      hosts: hosts('1000'),
      instances: num(values.instances!, 'instances'),
      concurrency: num(values.concurrency!, 'concurrency'),
      flavor: values.flavor!,
      deleteAfter: values.delete!,
      nic: values.nic!,
    });
    break;
  case 'liveness': {
    const fence = values.fence!;
    if (fence !== 'off' && fence !== 'power-off' && fence !== 'destroy') {
      process.stderr.write('bench: --fence must be off, power-off or destroy\n');
      process.exit(2);
    }
    result = await livenessBench({ hosts: hosts('1000'), seconds: num(values.seconds!, 'seconds'), fence });
    break;
  }
  case 'network':
    result = await networkBench({ ports: num(values.ports!, 'ports'), concurrency: num(values.concurrency!, 'concurrency') });
    break;
  case 'live-migrate':
    result = await liveMigrateBench({
      hosts: hosts('1000'),
      instances: num(values.instances!, 'instances'),
      concurrency: num(values.concurrency!, 'concurrency'),
      flavor: values.flavor!,
    });
    break;
  case 'decide':
    result = await decideBench({
      hosts: (values.hosts ?? '1000,10000,100000').split(',').map((h) => num(h.trim(), 'hosts')),
      decisions: num(values.decisions!, 'decisions'),
    });
    break;
  case 'reports':
    result = await reportsBench({ hosts: hosts('10000'), rounds: num(values.rounds!, 'rounds') });
    break;
  case 'memory':
    result = await memoryBench({ hosts: hosts('10000'), wildcard: values.wildcard! });
    break;
  case 'sim':
    result = await simBench({
      hosts: hosts('10000'),
      rate: num(values.rate!, 'rate'),
      seconds: num(values.seconds!, 'seconds'),
      flavor: values.flavor!,
      reportIntervalMs: num(values['report-interval']!, 'report-interval'),
      split: values.split!,
      metrics: values.metrics !== 'off',
      tracing: values.tracing === 'on',
    });
    break;
  case 'scrape':
    result = await scrapeBench({ hosts: hosts('10000'), instances: Number(values.instances!), rounds: num(values.rounds!, 'rounds') });
    break;
  case 'api':
    result = await apiBench({
      hosts: hosts('10'),
      getRate: num(values.rate!, 'rate'),
      postRate: num(values['post-rate']!, 'post-rate'),
      seconds: num(values.seconds!, 'seconds'),
      metrics: values.metrics !== 'off',
      tracing: values.tracing === 'on',
    });
    break;
  case 'actions':
    result = await actionsBench({
      hosts: hosts('1000'),
      servers: num(values.instances!, 'instances'),
      seconds: num(values.seconds!, 'seconds'),
      concurrency: num(values.concurrency!, 'concurrency'),
    });
    break;
  case 'fuzz':
    result = await fuzzBench({ runs: num(values.runs!, 'runs'), seed: num(values.seed!, 'seed') });
    break;
  case 'moves':
    result = await movesBench({ hosts: hosts('1000'), instances: num(values.instances!, 'instances'), concurrency: num(values.concurrency!, 'concurrency') });
    break;
  case 'host-disks':
    result = await hostDisksBench({ imageMb: num(values['image-mb']!, 'image-mb'), rounds: num(values.rounds!, 'rounds'), drives: num(values.drives!, 'drives') });
    break;
  case 'libvirt':
    result = await libvirtBench({ boots: num(values.boots!, 'boots'), concurrent: num(values.concurrent!, 'concurrent'), memoryMb: num(values['memory-mb']!, 'memory-mb') });
    break;
  default:
    process.stderr.write(`bench: unknown benchmark '${name}' (known: boot, decide, reports, memory, sim, scrape, api, fuzz, actions, moves, live-migrate, host-disks, libvirt)\n`);
    process.exit(2);
}
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
