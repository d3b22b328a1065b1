/**
 * The floors, made mechanical (docs/architecture.md "Layout"). Every import runs downward:
 *
 *   base       (primitives for running code: the clock; imports nothing of ours)
 *   protocols  (pure wire types, schemas, the lifecycle; no I/O; imports only protocols)
 *   hosts      (hypervisor drivers; see base and protocols only)
 *   runtime    (actor system, NATS, DB, clock, logging; never the roles)
 *   actors/<role>  (one folder per role; a role never imports another role)
 *   cluster    (the composition root; only cli, bench, test and index.ts import it)
 *   cli, bench, test, index.ts
 *
 * `npm run depcheck` runs this; scripts/test.sh fails the run when a rule breaks.
 * test/fixtures/layers/ breaks each rule once; test/layers/dependency-rules.test.ts expects each caught.
 */
const OURS = '^(base|protocols|hosts|runtime|actors|cluster|cli|bench|test|index\\.ts)';

module.exports = {
  forbidden: [
    {
      name: 'base-is-the-ground',
      comment: 'base/ holds primitives every floor may use; it imports nothing of ours but base/.',
      severity: 'error',
      from: { path: '^base/' },
      to: { path: OURS, pathNot: '^base/' },
    },
    {
      name: 'protocols-pure',
      comment: 'protocols/ is the bottom floor: it imports nothing of ours but protocols/.',
      severity: 'error',
      from: { path: '^protocols/' },
      to: { path: OURS, pathNot: '^protocols/' },
    },
    {
      name: 'hosts-see-protocols',
      comment: 'Drivers are plugins below the runtime: hosts/ imports only base/, protocols/ and hosts/.',
      severity: 'error',
      from: { path: '^hosts/' },
      to: { path: OURS, pathNot: '^(base|protocols|hosts)/' },
    },
    {
      name: 'runtime-below-roles',
      comment: 'runtime/ serves the roles; it never imports actors/, cluster/, cli/ or bench/.',
      severity: 'error',
      from: { path: '^runtime/' },
      to: { path: '^(actors|cluster|cli|bench|test)/|^index\\.ts$' },
    },
    {
      name: 'role-not-role',
      comment: 'A role talks to another role over NATS only; shared wire data lives in protocols/.',
      severity: 'error',
      from: { path: '^actors/([^/]+)/' },
      to: { path: '^actors/', pathNot: '^actors/$1/' },
    },
    {
      name: 'cluster-is-the-root',
      comment: 'The composition root is imported only from the top floor: cli/, bench/, test/, index.ts.',
      severity: 'error',
      from: { pathNot: '^(cluster|cli|bench|test)/|^index\\.ts$' },
      to: { path: '^cluster/' },
    },
    {
      name: 'no-circular',
      comment: 'Circles hide which file owns what.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that does not resolve is a broken arrow the other rules cannot see.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.cjs', '.mjs', '.json'],
    },
  },
};
