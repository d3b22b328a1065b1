import t from 'tap';
import fc from 'fast-check';
import { IpAllocator, mergeRanges } from '../../../protocols/network/ip-allocator.js';
import { defaultPools, type IpRange } from '../../../protocols/network/ip-pools.js';
import { parseCidr } from '../../../protocols/network/ip.js';

t.test('allocates the lowest free address, pool by pool', async (t) => {
  const a = new IpAllocator([{ start: 20n, end: 21n }, { start: 10n, end: 11n }]);
  t.equal(a.freeCount(), 4n);
  t.same([a.allocate(), a.allocate(), a.allocate(), a.allocate(), a.allocate()], [10n, 11n, 20n, 21n, undefined]);
  t.equal(a.freeCount(), 0n);
  t.equal(a.usedCount(), 4);
  a.release(11n);
  t.equal(a.allocate(), 11n, 'a released address is handed out again');
});

t.test('take, release and isUsed, in and out of the pools', async (t) => {
  const a = new IpAllocator([{ start: 10n, end: 20n }], [12n, 5n]);
  t.ok(a.isUsed(12n), 'used from the constructor');
  t.ok(a.isUsed(5n), 'outside the pools, still used');
  t.notOk(a.isUsed(13n));
  t.equal(a.usedCount(), 2);
  t.equal(a.freeCount(), 10n, 'only the pool address counts against the pools');
  t.notOk(a.take(12n), 'already used');
  t.notOk(a.take(5n), 'already used outside');
  t.ok(a.take(15n), 'a free address in the middle');
  t.ok(a.take(99n), 'an address outside the pools');
  t.same(a.freeRanges(), [{ start: 10n, end: 11n }, { start: 13n, end: 14n }, { start: 16n, end: 20n }]);
  t.same([a.allocate(), a.allocate(), a.allocate()], [10n, 11n, 13n]);
  a.release(99n);
  t.notOk(a.isUsed(99n));
  t.equal(a.allocate(), 14n, 'releasing an outside address gives the pools nothing');
  a.release(15n);
  a.release(12n);
  t.same(a.freeRanges(), [{ start: 12n, end: 12n }, { start: 15n, end: 20n }]);
  a.release(13n);
  a.release(14n);
  t.same(a.freeRanges(), [{ start: 12n, end: 20n }], 'neighbours merge back');
  a.release(14n);
  a.release(1000n);
  t.equal(a.freeCount(), 11n - 2n, 'releasing what is free, or unknown, changes nothing');
  t.ok(a.inPools(20n));
  t.notOk(a.inPools(21n));
});

t.test('overlapping and adjacent pools are one', async (t) => {
  t.same(mergeRanges([{ start: 5n, end: 9n }, { start: 1n, end: 3n }, { start: 4n, end: 4n }, { start: 8n, end: 12n }, { start: 20n, end: 19n }]),
    [{ start: 1n, end: 12n }]);
  const a = new IpAllocator([{ start: 1n, end: 5n }, { start: 3n, end: 8n }]);
  t.equal(a.freeCount(), 8n);
  const empty = new IpAllocator([]);
  t.equal(empty.allocate(), undefined);
  t.equal(empty.freeCount(), 0n);
  t.ok(empty.take(7n), 'outside-only addresses still tracked');
  t.equal(empty.usedCount(), 1);
});

t.test('an IPv6 /64 and an IPv4 /8', async (t) => {
  const c6 = parseCidr('2001:db8::/64')!.cidr;
  const v6 = new IpAllocator(defaultPools(c6, c6.network));
  t.equal(v6.freeCount(), (1n << 64n) - 1n);
  let inOrder = true;
  for (let i = 1n; i <= 5000n; i++) if (v6.allocate() !== c6.network + i) inOrder = false;
  t.ok(inOrder, 'the first 5,000 addresses in order');
  // scattered takes split the free space; it stays intervals, not addresses
  let x = 0x9e3779b97f4a7c15n;
  for (let i = 0; i < 5000; i++) {
    x = (x * 6364136223846793005n + 1442695040888963407n) & ((1n << 64n) - 1n);
    v6.take(c6.network + x);
  }
  t.ok(v6.freeRanges().length <= 5001);
  t.equal(v6.freeCount(), (1n << 64n) - 1n - BigInt(v6.usedCount()));
  t.ok(v6.isUsed(c6.network + 5000n));
  t.notOk(v6.isUsed(c6.network + 5001n));

  const c4 = parseCidr('10.0.0.0/8')!.cidr;
  const v4 = new IpAllocator(defaultPools(c4, c4.network + 1n));
  t.equal(v4.freeCount(), (1n << 24n) - 3n);
  t.equal(v4.allocate(), c4.network + 2n);
  t.ok(v4.take(c4.network + 0xfffffen));
  t.equal(v4.freeCount(), (1n << 24n) - 5n);
});

t.test('allocateWithin picks among the first free addresses', async (t) => {
  const a = new IpAllocator([{ start: 10n, end: 12n }, { start: 20n, end: 30n }], [11n]);
  t.equal(a.allocateWithin(1000, (n) => n - 1), 30n, 'the window is all that is free');
  t.equal(a.allocateWithin(3, (n) => n - 1), 20n, 'the third free address (10, 12, 20)');
  t.equal(a.allocateWithin(3, () => 0), 10n);
  t.equal(a.allocateWithin(3, () => 99), 22n, 'an index past the window is held to its end');
  const full = new IpAllocator([{ start: 1n, end: 1n }], [1n]);
  t.equal(full.allocateWithin(10, () => 0), undefined);
});

/** A naive model: the set of used addresses, over a small space. */
class Model {
  readonly used = new Set<bigint>();
  readonly pool = new Set<bigint>();
  constructor(pools: IpRange[], used: bigint[]) {
    for (const p of pools) for (let ip = p.start; ip <= p.end; ip++) this.pool.add(ip);
    for (const ip of used) this.used.add(ip);
  }
  allocate(): bigint | undefined {
    const free = [...this.pool].filter((ip) => !this.used.has(ip)).sort((a, b) => (a < b ? -1 : 1));
    if (free.length === 0) return undefined;
    this.used.add(free[0]!);
    return free[0];
  }
  take(ip: bigint): boolean {
    if (this.used.has(ip)) return false;
    this.used.add(ip);
    return true;
  }
  release(ip: bigint): void {
    this.used.delete(ip);
  }
  freeCount(): bigint {
    return BigInt([...this.pool].filter((ip) => !this.used.has(ip)).length);
  }
}

const addr = fc.bigInt({ min: 0n, max: 63n });
const poolsArb = fc.array(fc.tuple(addr, addr).map(([a, b]): IpRange => (a <= b ? { start: a, end: b } : { start: b, end: a })), { maxLength: 4 });
const op = fc.oneof(
  fc.constant({ kind: 'allocate' as const }),
  addr.map((ip) => ({ kind: 'take' as const, ip })),
  addr.map((ip) => ({ kind: 'release' as const, ip })),
);

t.test('any sequence of operations keeps the allocator equal to the model', async (t) => {
  fc.assert(fc.property(poolsArb, fc.array(addr, { maxLength: 8 }), fc.array(op, { maxLength: 120 }), (pools, used, ops) => {
    const a = new IpAllocator(pools, used);
    const m = new Model(pools, used);
    const handedOut = new Set<bigint>();
    for (const o of ops) {
      if (o.kind === 'allocate') {
        const got = a.allocate();
        if (got !== m.allocate()) return false;
        if (got !== undefined) {
          if (handedOut.has(got)) return false; // handed out twice without a release
          handedOut.add(got);
        }
      } else if (o.kind === 'take') {
        if (a.take(o.ip) !== m.take(o.ip)) return false;
        handedOut.add(o.ip);
      } else {
        a.release(o.ip);
        m.release(o.ip);
        handedOut.delete(o.ip);
      }
      if (a.freeCount() !== m.freeCount() || a.usedCount() !== m.used.size) return false;
    }
    for (let ip = 0n; ip <= 64n; ip++) if (a.isUsed(ip) !== m.used.has(ip)) return false;
    // the free intervals stay sorted, disjoint and not adjacent
    const free = a.freeRanges();
    return free.every((r, i) => r.start <= r.end && (i === 0 || free[i - 1]!.end + 1n < r.start));
  }), { numRuns: 2000 });
  t.pass('allocator and model agree');
});

t.test('every released address can be allocated again', async (t) => {
  fc.assert(fc.property(fc.uniqueArray(addr, { maxLength: 20 }), (toRelease) => {
    const a = new IpAllocator([{ start: 0n, end: 63n }]);
    while (a.allocate() !== undefined);
    for (const ip of toRelease) a.release(ip);
    const again: bigint[] = [];
    for (let ip = a.allocate(); ip !== undefined; ip = a.allocate()) again.push(ip);
    const want = [...toRelease].sort((x, y) => (x < y ? -1 : 1));
    return JSON.stringify(again.map(String)) === JSON.stringify(want.map(String));
  }));
  t.pass('released addresses come back in order');
});
