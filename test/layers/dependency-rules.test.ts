/**
 * The layer rules (.dependency-cruiser.cjs) must catch what they forbid: a fixture tree under
 * test/fixtures/layers/ breaks each rule exactly once, next to allowed imports that must pass.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const fixture = join(root, 'test', 'fixtures', 'layers');
const depcruise = join(root, 'node_modules', '.bin', 'depcruise');
const run = promisify(execFile);

interface Violation { from: string; to: string; rule: { name: string } }

/** Exit status of a run, with the `err` output that `npm run depcheck` uses (it exits non-zero only on violations). */
async function exitCode(cwd: string, args: string[]): Promise<number> {
  try {
    await run(depcruise, ['--config', join(root, '.dependency-cruiser.cjs'), '--output-type', 'err', ...args], { cwd });
    return 0;
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    if (typeof code !== 'number') throw err;
    return code;
  }
}

/** The violations a run finds (json output, which always exits 0). */
async function violations(cwd: string, args: string[]): Promise<Violation[]> {
  const argv = ['--config', join(root, '.dependency-cruiser.cjs'), '--output-type', 'json', ...args];
  const { stdout } = await run(depcruise, argv, { cwd, maxBuffer: 64 * 1024 * 1024 });
  return JSON.parse(stdout).summary.violations;
}

const FLOORS = ['base', 'protocols', 'hosts', 'runtime', 'actors', 'cluster', 'cli'];

// The fixture's allowed arrows (a role to protocols and to itself, hosts to protocols, the root to a
// role, cli to the root) must not be reported: the list below is exact.
t.test('every rule catches its violation in the fixture, and only those', async (t) => {
  t.not(await exitCode(fixture, FLOORS), 0, 'a broken rule fails the run');
  const found = (await violations(fixture, FLOORS)).map((v) => `${v.rule.name}: ${v.from} -> ${v.to}`).sort();
  t.same(found, [
    'base-is-the-ground: base/clock.ts -> protocols/wire.ts',
    'cluster-is-the-root: actors/b/b.ts -> cluster/root.ts',
    'hosts-see-protocols: hosts/driver.ts -> runtime/bus.ts',
    'no-circular: actors/b/c1.ts -> actors/b/c2.ts',
    'not-to-unresolvable: cluster/root.ts -> ./gone.js',
    'protocols-pure: protocols/wire.ts -> hosts/driver.ts',
    'role-not-role: actors/a/a.ts -> actors/b/b.ts',
    'runtime-below-roles: runtime/bus.ts -> actors/a/a.ts',
  ]);
});
