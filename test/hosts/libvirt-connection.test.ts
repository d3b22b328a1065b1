/**
 * The libvirt connection holds each binding call's arguments until the call settles: the binding's
 * workers keep raw pointers to them, so a Domain collected meanwhile would be freed under its
 * worker (a segfault). Observed with the GC itself: a WeakRef to the argument, full collections.
 */
import t from 'tap';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { setImmediate as tick } from 'node:timers/promises';
import { pinning, type Hypervisor } from '../../hosts/libvirt/connection.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
// A WeakRef target is kept to the end of the job that made or read it: collect in a later one.
const collect = async () => { await tick(); gc(); await tick(); };

t.test('a domain given to a call stays reachable while the call runs, and is released after', async (t) => {
  let finish = () => {};
  // Like the binding's worker, the call itself keeps no reference to its argument.
  const binding = { domainCreate: (_d: object) => new Promise<void>((resolve) => { finish = resolve; }) } as unknown as Hypervisor;
  const h = pinning(binding);
  let ref: WeakRef<object> | undefined;
  const call = (() => {
    const dom = {};
    ref = new WeakRef(dom);
    return h.domainCreate(dom);
  })();
  await collect();
  t.ok(ref!.deref(), 'held while the call is pending');
  finish();
  await call;
  await collect();
  t.equal(ref!.deref(), undefined, 'released once it settled');
});

t.test('a rejected call releases its arguments too, and rejects as the binding did', async (t) => {
  const binding = { domainDestroy: async (_d: object) => { throw new Error('domain is not running'); } } as unknown as Hypervisor;
  const h = pinning(binding);
  let ref: WeakRef<object> | undefined;
  const call = (() => {
    const dom = {};
    ref = new WeakRef(dom);
    return h.domainDestroy(dom);
  })();
  await t.rejects(call, /domain is not running/);
  await collect();
  t.equal(ref!.deref(), undefined);
});
