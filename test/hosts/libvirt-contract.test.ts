/**
 * The driver contract against libvirt's built-in test hypervisor (`test:///default`: no daemon, in
 * this process; its state is shared by every connection of the process, so each driver is its own
 * host name and the contract's deltas keep them apart). Disks are real: qemu-img in a temp dir,
 * from an in-memory image source serving one small qcow2 under every id.
 */
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { appendFile, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import * as libvirt from '@unraid/libvirt';
import fc from 'fast-check';
import { driverContract, guestSpec, rejectionKind } from '../../hosts/contract.js';
import type { ImageFetcher } from '../../hosts/driver.js';
import { LibvirtDriver, type LibvirtDriverOptions } from '../../hosts/libvirt/libvirt-driver.js';
import { LibvirtFabric } from '../../hosts/libvirt/fabric.js';
import { buildDomainXml } from '../../hosts/libvirt/domain-xml.js';
import { planDomain } from '../../hosts/libvirt/domain-plan.js';
import { instanceFiles } from '../../hosts/libvirt/layout.js';
import { parseMeta } from '../../hosts/libvirt/metadata.js';
import { PowerState } from '../../protocols/states.js';
import { hostileString } from '../fuzz/lib/hostile.js';
import { waitFor } from '../harness/poll.js';

const URI = 'test:///default';
const root = await mkdtemp(join(tmpdir(), 'novact-lv-contract-'));
t.teardown(() => rm(root, { recursive: true, force: true }));

// One small qcow2 serves every image id.
const imageFile = join(root, 'image.qcow2');
execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', imageFile, '16M']);
const imageBytes = await readFile(imageFile);
const fetched: string[] = [];
const images: ImageFetcher = {
  async fetch(imageId, onChunk) {
    fetched.push(imageId);
    for (let i = 0; i < imageBytes.length; i += 64 * 1024) await onChunk(imageBytes.subarray(i, i + 64 * 1024));
    return { sizeBytes: imageBytes.length };
  },
};

// "Someone else" on the same test hypervisor: a connection of its own.
const other = new libvirt.Hypervisor({ uri: URI });
await other.connectOpen();
t.teardown(() => other.connectClose());

let n = 0;
const paths = new Map<LibvirtDriver, string>();
async function driver(over: Partial<LibvirtDriverOptions> = {}): Promise<LibvirtDriver> {
  const host = `contract-${++n}`;
  const instancesPath = join(root, host);
  const d = new LibvirtDriver({ uri: URI, instancesPath, host, domainType: 'qemu', softShutdownMs: 200, pollMs: 50, ...over });
  d.attach({ images });
  await d.init();
  paths.set(d, instancesPath);
  return d;
}

driverContract(t, 'LibvirtDriver(test:///default)', () => driver(), {
  hang: (d, op) => d.faults.addRule({ op, action: 'hang', times: 1 }),
  failNext: (d, op) => d.faults.addRule({ op, action: 'fail', times: 1 }),
  externalStates: [PowerState.PAUSED, PowerState.SHUTDOWN],
  externalPower: async (_d, uuid, state) => {
    const dom = await other.domainLookupByUUIDString(uuid);
    if (state === PowerState.PAUSED) await other.domainSuspend(dom);
    else await other.domainDestroy(dom);
  },
  guestPrints: (d, uuid, line) => appendFile(join(paths.get(d)!, uuid, 'console.log'), `${line}\r\n`),
  pair: async () => {
    const fabric = new LibvirtFabric();
    const source = await driver({ fabric });
    const dest = await driver({ fabric });
    return { source, dest, target: { host: dest.host } };
  },
});

t.test('the instance directory holds Nova\'s layout, and destroy removes it', async (t) => {
  const d = await driver({ domainType: 'auto' });
  t.teardown(() => d.close());
  const spec = guestSpec({ diskGb: 3, rootGb: 2, ephemeralGb: 1, swapMb: 64, configDrive: true, name: 'a <b> & "c"' });
  await d.spawn(spec);
  const dir = join(paths.get(d)!, spec.uuid);
  t.same((await readdir(dir)).sort(), ['disk', 'disk.config', 'disk.eph0', 'disk.swap', 'libvirt.xml', 'plan.json']);
  const info = JSON.parse(execFileSync('qemu-img', ['info', '--output=json', '-U', join(dir, 'disk')], { encoding: 'utf8' })) as Record<string, unknown>;
  t.equal(info['virtual-size'], 2 * 1024 ** 3, 'the root overlay is grown to rootGb');
  t.match(info['backing-filename'], /_base\/cirros$/, 'on the cached base');
  t.equal((await d.getGuest(spec.uuid))?.name, spec.name, 'the display name round-trips through libvirt');
  t.match(await readFile(join(dir, 'libvirt.xml'), 'utf8'), /^<domain type='qemu'>/, 'auto-detection on the test driver: qemu');
  await d.destroy(spec.uuid);
  t.same(await readdir(paths.get(d)!).then((x) => x.filter((e) => e !== '_base')), [], 'nothing left but the cache');
});

t.test('a new driver on the same hypervisor and path finds the guests again', async (t) => {
  const d = await driver();
  const spec = guestSpec();
  await d.spawn(spec);
  await d.pause(spec.uuid);
  await d.close();
  const again = new LibvirtDriver({ uri: URI, instancesPath: paths.get(d)!, host: d.host, domainType: 'qemu', pollMs: 0 });
  again.attach({ images });
  t.teardown(() => again.close());
  t.match(await again.getGuest(spec.uuid), { uuid: spec.uuid, name: spec.name, powerState: PowerState.PAUSED }, 'found, still paused');
  const stranger = await driver();
  t.teardown(() => stranger.close());
  t.equal(await stranger.getGuest(spec.uuid), undefined, 'another host on the same daemon does not see it');
  t.equal(await rejectionKind(t, stranger.powerOff(spec.uuid)), 'not-found', 'nor touch it');
  t.ok((await other.connectListAllDomains()).length > 0, 'the daemon has domains of its own (libvirt\'s "test") that nobody lists');
  t.notOk((await again.listGuests()).some((g) => g.name === 'test'), 'foreign domains are ignored');
  await again.destroy(spec.uuid);
});

t.test('a missing binding is unsupported, health says why', async (t) => {
  const d = new LibvirtDriver({
    uri: URI, instancesPath: join(root, 'nobinding'), domainType: 'qemu',
    loadBinding: () => Promise.reject(new (class extends Error {})('Cannot find package')),
  });
  t.teardown(() => d.close());
  t.equal(await rejectionKind(t, d.init()), 'unsupported');
  t.match(await d.health(), { state: 'down', detail: /not available/ });
});

t.test('hostile metadata survives libvirt\'s own parser and printer', async (t) => {
  const hostile = hostileString.filter((x): x is string => typeof x === 'string');
  await fc.assert(fc.asyncProperty(hostile, hostile, async (name, project) => {
    const uuid = randomUUID();
    const plan = planDomain({
      spec: guestSpec({ uuid, name, projectId: project, flavor: { id: project, name } }), host: name, type: 'qemu',
      files: instanceFiles(join(root, 'xml', uuid)), created: name,
    });
    const dom = await other.domainDefineXML(buildDomainXml(plan));
    try {
      const back = parseMeta(await other.domainGetXMLDesc(dom));
      return JSON.stringify(back && Object.entries(back).sort()) === JSON.stringify(Object.entries(plan.meta).sort());
    } finally {
      await other.domainUndefine(dom);
    }
  }), { numRuns: 150 });
  t.pass('150 hostile metadata sets defined and read back');
});

t.test('a failed spawn removes its directory and its cache hold', async (t) => {
  const d = await driver();
  t.teardown(() => d.close());
  const spec = guestSpec({ configDrive: true });
  d.faults.addRule({ op: 'spawn', action: 'fail', times: 1 });
  t.equal(await rejectionKind(t, d.spawn(spec)), 'failed');
  t.same(await readdir(paths.get(d)!).then((x) => x.filter((e) => e !== '_base')), [], 'no instance directory');
  t.equal(await rejectionKind(t, d.spawn({ ...spec, image: { id: 'no/such', diskFormat: 'qcow2', properties: {} } })), 'failed', 'a bad image id fails');
  t.same(await readdir(paths.get(d)!).then((x) => x.filter((e) => e !== '_base')), [], 'and leaves nothing either');
});

/** The real binding with a switch: the next call of `method` fails as a dropped connection does, or never answers. */
function trapped() {
  const trap = { method: '', mode: 'lost' as 'lost' | 'hang', opened: 0 };
  const loadBinding = async () => ({
    Hypervisor: class {
      constructor(o: { uri: string }) {
        trap.opened++;
        const real = new libvirt.Hypervisor(o) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
        return new Proxy(real, {
          get(target, key: string) {
            const v = target[key];
            if (typeof v !== 'function') return v;
            if (key !== trap.method) return v.bind(target);
            return (...a: unknown[]) => {
              trap.method = '';
              return trap.mode === 'hang' ? new Promise(() => undefined) : Promise.reject(new Error('internal error: client socket is closed'));
            };
          },
        });
      }
    },
  }) as unknown as import('../../hosts/libvirt/connection.js').LibvirtBinding;
  return { trap, loadBinding };
}

t.test('a lost connection fails the call retryably, then the driver connects again', async (t) => {
  const { trap, loadBinding } = trapped();
  const d = await driver({ loadBinding });
  t.teardown(() => d.close());
  const { uuid } = await d.spawn(guestSpec());
  t.equal(trap.opened, 1);
  trap.method = 'connectListAllDomains';
  t.match(await d.listGuests().catch((e: unknown) => e), { kind: 'failed', retryable: true, message: /socket is closed/ });
  t.ok((await d.listGuests()).some((g) => g.uuid === uuid), 'the next call works');
  t.equal(trap.opened, 2, 'on a new connection');
  t.same(await d.health(), { state: 'up' });
});

t.test('a libvirt call that never answers ends at its deadline, its signal, or close', async (t) => {
  const { trap, loadBinding } = trapped();
  const d = await driver({ loadBinding });
  const { uuid } = await d.spawn(guestSpec());
  trap.mode = 'hang';
  trap.method = 'domainSuspend';
  t.equal(await rejectionKind(t, d.pause(uuid, { deadlineMs: 30 })), 'timeout');
  trap.method = 'domainSuspend';
  const ac = new AbortController();
  const aborted = rejectionKind(t, d.pause(uuid, { signal: ac.signal }));
  setTimeout(() => ac.abort(), 10);
  t.equal(await aborted, 'aborted');
  trap.method = 'domainSuspend';
  const pending = rejectionKind(t, d.pause(uuid));
  setTimeout(() => void d.close(), 10);
  t.equal(await pending, 'closed');
});

t.test('calls between an external change and the next poll do not swallow its event', async (t) => {
  const d = await driver();
  t.teardown(() => d.close());
  const { uuid } = await d.spawn(guestSpec());
  const seen: PowerState[] = [];
  d.onEvent((e) => { if (e.uuid === uuid) seen.push(e.powerState); });
  await other.domainSuspend(await other.domainLookupByUUIDString(uuid));
  await d.consoleOutput(uuid);
  await d.diagnostics(uuid);
  t.equal(await rejectionKind(t, d.suspend(uuid)), 'invalid-state', 'a refused call');
  await waitFor('the poller to see the pause', () => seen.length > 0, 10_000);
  t.same(seen, [PowerState.PAUSED]);
});
