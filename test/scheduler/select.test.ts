import t from 'tap';
import type { HostFilter, HostState } from '../../actors/scheduler/types.js';
import { selectHosts } from '../../actors/scheduler/select.js';
import { DEFAULT_FILTERS, filtersByName } from '../../actors/scheduler/filters/index.js';
import { RAMWeigher } from '../../actors/scheduler/weighers/RAMWeigher.js';
import { CTX, NOW, makeHost, makeSpec } from './host-fixture.js';

const DEFAULTS = filtersByName(DEFAULT_FILTERS);

/** Hosts h0..h(n-1), host i with i*1000 MB of RAM used, so h0 is the roomiest. */
function fleet(n: number): HostState[] {
  return Array.from({ length: n }, (_, i) => makeHost({ host: `h${i}`, used: { MEMORY_MB: i * 1000 } }));
}

t.test('orders by weight, returns count hosts, reports candidates', async (t) => {
  const hosts = fleet(6).reverse();
  const r = selectHosts(hosts, makeSpec(), DEFAULTS, [RAMWeigher()], CTX, { count: 3 });
  t.same(r.hosts.map((h) => h.host), ['h0', 'h1', 'h2'], 'chosen plus two alternates, best first');
  t.equal(r.candidates, 6);
  t.same(r.removedBy, Object.fromEntries(DEFAULT_FILTERS.map((n) => [n, 0])), 'every filter reported, no RetryFilter');
  const few = selectHosts(fleet(2), makeSpec(), DEFAULTS, [RAMWeigher()], CTX, { count: 3 });
  t.same(few.hosts.map((h) => h.host), ['h0', 'h1'], 'fewer candidates than count');
});

t.test('removedBy blames the first failing filter only', async (t) => {
  const hosts = [
    makeHost({ host: 'down', lastSeenAt: NOW - 1e9, used: { MEMORY_MB: 1e9 } }), // fails Compute and Ram: Compute counted
    makeHost({ host: 'disabled', enabled: false }),
    makeHost({ host: 'elsewhere', availabilityZone: 'az9' }),
    makeHost({ host: 'full', used: { MEMORY_MB: 65000 } }),
    makeHost({ host: 'cpu', used: { VCPU: 64 } }),
    makeHost({ host: 'ok' }),
  ];
  const r = selectHosts(hosts, makeSpec({ availabilityZone: 'nova' }), DEFAULTS, [], CTX, { count: 3 });
  t.same(r.hosts.map((h) => h.host), ['ok']);
  t.equal(r.candidates, 1);
  t.equal(r.removedBy['ComputeFilter'], 2);
  t.equal(r.removedBy['AvailabilityZoneFilter'], 1);
  t.equal(r.removedBy['RamFilter'], 1);
  t.equal(r.removedBy['CoreFilter'], 1);
  t.equal(r.removedBy['DiskFilter'], 0);
});

t.test('RetryFilter removes ignored hosts before any filter', async (t) => {
  const hosts = fleet(4);
  hosts[1]!.enabled = false;
  const r = selectHosts(hosts, makeSpec({ ignoreHosts: ['h0', 'h1'] }), DEFAULTS, [RAMWeigher()], CTX, { count: 3 });
  t.same(r.hosts.map((h) => h.host), ['h2', 'h3']);
  t.equal(r.removedBy['RetryFilter'], 2);
  t.equal(r.removedBy['ComputeFilter'], 0, 'h1 was already gone');
});

t.test('empty result', async (t) => {
  const r = selectHosts(fleet(3), makeSpec({ resources: { MEMORY_MB: 1e6 } }), DEFAULTS, [RAMWeigher()], CTX, { count: 3 });
  t.same(r.hosts, []);
  t.equal(r.candidates, 0);
  t.equal(r.removedBy['RamFilter'], 3);
  const none = selectHosts([], makeSpec(), DEFAULTS, [RAMWeigher()], CTX, { count: 3 });
  t.same(none, { hosts: [], removedBy: Object.fromEntries(DEFAULT_FILTERS.map((n) => [n, 0])), candidates: 0 });
  t.same(selectHosts(fleet(3), makeSpec(), DEFAULTS, [], CTX, { count: 0 }).hosts, [], 'count 0');
});

t.test('ties keep input order', async (t) => {
  const hosts = ['c', 'a', 'd', 'b'].map((host) => makeHost({ host }));
  const r = selectHosts(hosts, makeSpec(), DEFAULTS, [RAMWeigher()], CTX, { count: 4 });
  t.same(r.hosts.map((h) => h.host), ['c', 'a', 'd', 'b']);
  const mixed = [makeHost({ host: 'x', used: { MEMORY_MB: 5000 } }), ...hosts, makeHost({ host: 'y', used: { MEMORY_MB: 5000 } })];
  const m = selectHosts(mixed, makeSpec(), DEFAULTS, [RAMWeigher()], CTX, { count: 6 });
  t.same(m.hosts.map((h) => h.host), ['c', 'a', 'd', 'b', 'x', 'y']);
  const top2 = selectHosts(mixed, makeSpec(), DEFAULTS, [RAMWeigher()], CTX, { count: 2 });
  t.same(top2.hosts.map((h) => h.host), ['c', 'a'], 'the best-N array keeps the earliest of equals');
});

t.test('best-N matches a full stable sort on a larger fleet', async (t) => {
  // Deterministic pseudo-random usage with many ties.
  const hosts = Array.from({ length: 500 }, (_, i) => makeHost({ host: `h${i}`, used: { MEMORY_MB: ((i * 7919) % 37) * 1000 } }));
  const expected = [...hosts].sort((a, b) => a.used.MEMORY_MB - b.used.MEMORY_MB).slice(0, 10).map((h) => h.host);
  const r = selectHosts(hosts, makeSpec(), DEFAULTS, [RAMWeigher()], CTX, { count: 10 });
  t.same(r.hosts.map((h) => h.host), expected);
  // Buffers are reused across calls: a smaller call afterwards must not see stale weights.
  const small = selectHosts(fleet(3).reverse(), makeSpec(), DEFAULTS, [RAMWeigher()], CTX, { count: 3 });
  t.same(small.hosts.map((h) => h.host), ['h0', 'h1', 'h2']);
});

t.test('accepts any iterable', async (t) => {
  const byName = new Map(fleet(5).map((h) => [h.host, h] as const));
  const r = selectHosts(byName.values(), makeSpec(), DEFAULTS, [RAMWeigher(-1)], CTX, { count: 2 });
  t.same(r.hosts.map((h) => h.host), ['h4', 'h3']);
  // More candidates than the scratch buffers hold yet, discovered only while iterating.
  const many = new Set(Array.from({ length: 3000 }, (_, i) => makeHost({ host: `m${i}`, used: { MEMORY_MB: (i % 50) * 100 } })));
  const m = selectHosts(many, makeSpec(), DEFAULTS, [RAMWeigher(-1)], CTX, { count: 2 });
  t.same(m.hosts.map((h) => h.host), ['m49', 'm99']);
  t.equal(m.candidates, 3000);
});

t.test('host_subset_size draws the chosen host from the best N', async (t) => {
  const hosts = fleet(6);
  const pick = (random: number, hostSubsetSize: number, count = 3) =>
    selectHosts(hosts, makeSpec(), DEFAULTS, [RAMWeigher()], CTX, { count, hostSubsetSize, random: () => random }).hosts.map((h) => h.host);
  t.same(pick(0, 3), ['h0', 'h1', 'h2'], 'draw 0 keeps the best first');
  t.same(pick(0.5, 3), ['h1', 'h0', 'h2'], 'middle of three moves to the front, rest keep order');
  t.same(pick(0.99, 3), ['h2', 'h0', 'h1']);
  t.same(pick(0.99, 4, 1), ['h3'], 'subset larger than count');
  t.same(pick(0.99, 100, 2), ['h5', 'h0'], 'subset larger than the candidates');
  t.same(pick(0.99, 1), ['h0', 'h1', 'h2'], 'size 1 never draws');
  let calls = 0;
  selectHosts(hosts, makeSpec(), DEFAULTS, [RAMWeigher()], CTX, { count: 3, random: () => (calls++, 0.9) });
  t.equal(calls, 0, 'random is not consulted by default');
});

t.test('duplicate filter names sum; weighers with multiplier 0 are not called', async (t) => {
  const odd: HostFilter = { name: 'Odd', passes: (h) => Number(h.host.slice(1)) % 2 === 0 };
  const r = selectHosts(fleet(6), makeSpec(), [odd, odd], [], CTX, { count: 6 });
  t.same(r.removedBy, { Odd: 3 });
  let weighed = 0;
  const spy = { name: 'Spy', multiplier: 0, weigh: () => ++weighed };
  selectHosts(fleet(3), makeSpec(), DEFAULTS, [spy], CTX, { count: 1 });
  t.equal(weighed, 0);
});

t.test('filters that do not apply are not called but still reported', async (t) => {
  let calls = 0;
  const lazy: HostFilter = { name: 'Lazy', passes: () => (calls++, false), appliesTo: () => false };
  const r = selectHosts(fleet(4), makeSpec(), [lazy], [], CTX, { count: 4 });
  t.equal(calls, 0);
  t.equal(r.candidates, 4);
  t.same(r.removedBy, { Lazy: 0 });
  let weighed = 0;
  const flat = { name: 'Flat', multiplier: 1, weigh: () => ++weighed, appliesTo: () => false };
  selectHosts(fleet(4), makeSpec(), [], [flat], CTX, { count: 1 });
  t.equal(weighed, 0, 'weighers too');
});

t.test('long chains: filters past the 12th and weighers past the 8th count', async (t) => {
  const keep: HostFilter = { name: 'Keep', passes: () => true };
  const dropOdd: HostFilter = { name: 'DropOdd', passes: (h) => Number(h.host.slice(1)) % 2 === 0 };
  const dropH4: HostFilter = { name: 'DropH4', passes: (h) => h.host !== 'h4' };
  const chain = [...Array.from({ length: 12 }, () => keep), dropOdd, dropH4];
  const r = selectHosts(fleet(8), makeSpec(), chain, [], CTX, { count: 8 });
  t.same(r.hosts.map((h) => h.host), ['h0', 'h2', 'h6']);
  t.same(r.removedBy, { Keep: 0, DropOdd: 4, DropH4: 1 });
  // Eight flat weighers, then a ninth that decides: prefer the most used RAM.
  const flatW = { name: 'FlatW', multiplier: 1, weigh: () => 1 };
  const weighers = [...Array.from({ length: 8 }, () => flatW), RAMWeigher(-1)];
  const w = selectHosts(fleet(5), makeSpec(), [], weighers, CTX, { count: 2 });
  t.same(w.hosts.map((h) => h.host), ['h4', 'h3']);
  // A mix across the unrolled positions: the 2nd and 9th weighers both count.
  const mixed = [flatW, RAMWeigher(1), flatW, flatW, flatW, flatW, flatW, flatW, RAMWeigher(-3)];
  const m = selectHosts(fleet(5), makeSpec(), [], mixed, CTX, { count: 1 });
  t.same(m.hosts.map((h) => h.host), ['h4'], 'net multiplier -2 on RAM');
});
