/**
 * Security groups applied for real: a port's nftables rule set loaded by the kernel inside network
 * namespaces this test makes (and deletes), and proved with TCP traffic that never leaves them.
 *
 *   remote ns (10.1.0.2, fd01::2) ── rem0 ┐
 *                                         host ns (routes; the port's table) ─ tap<port> ── eth0 guest ns (10.0.0.5, fd00::5)
 *
 * The host namespace is the port's host: the guest's end is a veth named as Nova names the tap, so
 * the rule set is exactly what a host would load. A dropped SYN gets no answer; the client gives up
 * after DROP_MS, the only way to see a drop from outside (counters confirm it was the rule set).
 */
import t from 'tap';
import fc from 'fast-check';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { run } from '../../hosts/libvirt/exec.js';
import { applyPortFirewall, listPortFirewalls, removePortFirewall, showPortFirewall } from '../../hosts/libvirt/port-firewall.js';
import { linkLocal, renderPortRuleset, type PortFirewall, type PortRule } from '../../protocols/network/nftables.js';
import { portDeviceName } from '../../protocols/network/port-device.js';
import { defaultSecurityGroupRules, normalizeRule } from '../../protocols/network/security-group-rules.js';

const DROP_MS = 1_500;
const PORT = '0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d';
const MAC = 'fa:16:3e:0a:1b:2c';
const TAP = portDeviceName(PORT);
const OWN_GROUP = '6a5b4c3d-2e1f-4a0b-9c8d-7e6f5a4b3c2d';
const WEB_GROUP = '1e2d3c4b-5a69-4788-8796-a5b4c3d2e1f0';
const FAR_GROUP = '2f3e4d5c-6b7a-4899-8a0b-c1d2e3f4a5b6';

const tag = randomBytes(4).toString('hex');
const NS = { host: `novact-test-${tag}-h`, guest: `novact-test-${tag}-g`, remote: `novact-test-${tag}-r`, scratch: `novact-test-${tag}-s` };
const ip = (...args: string[]) => run('ip', args);
const inNs = (ns: string, ...cmd: string[]) => ip('netns', 'exec', ns, ...cmd);

const children: ChildProcess[] = [];
t.teardown(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const ns of Object.values(NS)) await ip('netns', 'del', ns).catch(() => undefined);
});

for (const ns of Object.values(NS)) {
  await ip('netns', 'add', ns);
  await ip('-n', ns, 'link', 'set', 'lo', 'up');
  // No duplicate address detection: addresses are usable at once (no waiting for DAD to end).
  await inNs(ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0');
}
await inNs(NS.host, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1');
await ip('-n', NS.host, 'link', 'add', TAP, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS.guest);
await ip('-n', NS.host, 'link', 'add', 'rem0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS.remote);
await ip('-n', NS.guest, 'link', 'set', 'eth0', 'address', MAC);
const addrs: [string, string, string][] = [
  [NS.host, TAP, '10.0.0.1/24'], [NS.host, TAP, 'fd00::1/64'], [NS.host, 'rem0', '10.1.0.1/24'], [NS.host, 'rem0', 'fd01::1/64'],
  [NS.guest, 'eth0', '10.0.0.5/24'], [NS.guest, 'eth0', 'fd00::5/64'], [NS.guest, 'eth0', '10.0.0.99/32'],
  [NS.remote, 'eth0', '10.1.0.2/24'], [NS.remote, 'eth0', 'fd01::2/64'],
];
for (const [ns, dev, a] of addrs) await ip('-n', ns, 'addr', 'add', a, 'dev', dev, 'nodad');
for (const [ns, dev] of [[NS.host, TAP], [NS.host, 'rem0'], [NS.guest, 'eth0'], [NS.remote, 'eth0']] as const) await ip('-n', ns, 'link', 'set', dev, 'up');
await ip('-n', NS.guest, 'route', 'add', 'default', 'via', '10.0.0.1');
await ip('-n', NS.guest, '-6', 'route', 'add', 'default', 'via', 'fd00::1');
await ip('-n', NS.remote, 'route', 'add', 'default', 'via', '10.1.0.1');
await ip('-n', NS.remote, '-6', 'route', 'add', 'default', 'via', 'fd01::1');

// A TCP server on every address of its namespace: it answers each connection with the port and the peer's address.
const SERVER = `
const net = require('node:net');
const ports = process.argv.slice(1).map(Number);
let up = 0;
for (const port of ports) {
  net.createServer((s) => { s.end(port + ' ' + s.remoteAddress.replace(/^::ffff:/, '') + '\\n'); s.on('error', () => {}); })
    .listen({ port, host: '::', ipv6Only: false }, () => { if (++up === ports.length) console.log('ready'); });
}`;
// Connects to every target at once; a target that does not answer within the bound is 'dropped'.
const CLIENT = `
const net = require('node:net');
const targets = JSON.parse(process.argv[1]);
Promise.all(targets.map((x) => new Promise((resolve) => {
  const s = net.connect({ host: x.host, port: x.port, ...(x.from ? { localAddress: x.from } : {}) });
  let reply = '';
  const timer = setTimeout(() => { s.destroy(); resolve('dropped'); }, ${DROP_MS});
  s.on('data', (d) => { reply += d; });
  s.on('end', () => { clearTimeout(timer); resolve(reply.trim()); });
  s.on('error', (e) => { clearTimeout(timer); resolve(e.code); });
}))).then((r) => console.log(JSON.stringify(r)));`;

async function server(ns: string, ports: number[]): Promise<void> {
  const child = spawn('ip', ['netns', 'exec', ns, 'node', '-e', SERVER, ...ports.map(String)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (d: string) => { out += d; });
  while (!out.includes('ready')) {
    const [code] = await Promise.race([once(child.stdout, 'data'), once(child, 'exit')]) as unknown[];
    if (typeof code === 'number' || code === null) throw new Error(`server in ${ns} exited`);
  }
}

interface Target { host: string; port: number; from?: string }
async function connect(ns: string, targets: Target[]): Promise<string[]> {
  const out = await inNs(ns, 'node', '-e', CLIENT, JSON.stringify(targets));
  return JSON.parse(out) as string[];
}

await server(NS.guest, [22, 23, 8080, 9090]);
await server(NS.remote, [80]);

const tcp = (port: number, ethertype: 'IPv4' | 'IPv6' = 'IPv4', extra: Partial<PortRule> = {}): PortRule => ({
  direction: 'ingress', ethertype, protocol: 'tcp', port_range_min: port, port_range_max: port, remote_ip_prefix: null, ...extra,
});
const base: PortFirewall = {
  portId: PORT, mac: MAC, fixedIps: ['10.0.0.5', 'fd00::5'], portSecurityEnabled: true,
  rules: [
    ...defaultSecurityGroupRules(OWN_GROUP),
    tcp(22), tcp(22, 'IPv6'),
    tcp(8080, 'IPv4', { remote_group_id: WEB_GROUP }),
    tcp(9090, 'IPv4', { remote_group_id: FAR_GROUP }),
  ],
  remoteGroups: { [OWN_GROUP]: ['10.0.0.5', 'fd00::5'], [WEB_GROUP]: ['10.1.0.2'], [FAR_GROUP]: ['10.1.0.77'] },
};

/** What the remote, the guest and the host itself get through, in one go each. */
async function traffic() {
  const [remote, guest, host] = await Promise.all([
    connect(NS.remote, [
      { host: '10.0.0.5', port: 22 }, { host: '10.0.0.5', port: 23 }, { host: 'fd00::5', port: 22 }, { host: 'fd00::5', port: 23 },
      { host: '10.0.0.5', port: 8080 }, { host: '10.0.0.5', port: 9090 },
    ]),
    connect(NS.guest, [{ host: '10.1.0.2', port: 80 }, { host: 'fd01::2', port: 80 }, { host: '10.1.0.2', port: 80, from: '10.0.0.99' }]),
    connect(NS.host, [{ host: '10.0.0.5', port: 22 }, { host: '10.0.0.5', port: 23 }]),
  ]);
  return {
    remote: { ssh4: remote[0], telnet4: remote[1], ssh6: remote[2], telnet6: remote[3], web: remote[4], far: remote[5] },
    guest: { out4: guest[0], out6: guest[1], spoofed: guest[2] },
    host: { ssh: host[0], telnet: host[1] },
  };
}
/** The packet counts of a chain's counted drops, in order (sg-egress: spoofed IPv4, spoofed IPv6, the rest; sg-ingress: the rest). */
const drops = async (chain: string): Promise<number[]> => {
  const listed = await showPortFirewall(PORT, { netns: NS.host });
  const block = listed.split(`chain ${chain} {`)[1]!.split('\n\t}')[0]!;
  return [...block.matchAll(/counter packets (\d+) bytes \d+ drop/g)].map((m) => Number(m[1]));
};

const ALL_OPEN = {
  remote: { ssh4: '22 10.1.0.2', telnet4: '23 10.1.0.2', ssh6: '22 fd01::2', telnet6: '23 fd01::2', web: '8080 10.1.0.2', far: '9090 10.1.0.2' },
  guest: { out4: '80 10.0.0.5', out6: '80 fd00::5', spoofed: '80 10.0.0.99' },
  host: { ssh: '22 10.0.0.1', telnet: '23 10.0.0.1' },
};

t.test('without a rule set everything gets through (the baseline)', async (t) => {
  t.same(await listPortFirewalls({ netns: NS.host }), []);
  t.match(await ip('-n', NS.guest, '-6', 'addr', 'show', 'dev', 'eth0', 'scope', 'link'), `inet6 ${linkLocal(MAC)}/64`,
    'the kernel\'s link-local address of the port\'s MAC is the one the rule set lets out');
  t.same(await traffic(), ALL_OPEN);
});

t.test('the port\'s rule set: allowed ports answer, others are dropped, spoofed sources too', async (t) => {
  await applyPortFirewall(base, { netns: NS.host });
  t.same(await listPortFirewalls({ netns: NS.host }), [PORT]);
  t.same(await traffic(), {
    remote: { ssh4: '22 10.1.0.2', telnet4: 'dropped', ssh6: '22 fd01::2', telnet6: 'dropped', web: '8080 10.1.0.2', far: 'dropped' },
    guest: { out4: '80 10.0.0.5', out6: '80 fd00::5', spoofed: 'dropped' },
    host: { ssh: '22 10.0.0.1', telnet: 'dropped' },
  }, 'tcp/22 from anywhere (v4 and v6, neighbour discovery passing both ways); a remote group\'s member on 8080, not a stranger on 9090; the guest goes out, its replies come back; not from an address it does not own');
  const [ingressDrops] = await drops('sg-ingress');
  t.ok(ingressDrops! >= 4, `the ingress drop counted the SYNs to 23 (v4, v6, from the host) and 9090 (${ingressDrops})`);
  const [spoof4, spoof6, egressRest] = await drops('sg-egress');
  t.ok(spoof4! >= 1, `the spoofed SYN met the IPv4 anti-spoofing rule (${spoof4})`);
  t.same([spoof6, egressRest], [0, 0], 'nothing else from the guest was dropped (neighbour discovery included)');
});

t.test('a new rule set replaces the old one atomically', async (t) => {
  await applyPortFirewall({ ...base, rules: [...base.rules, tcp(23), tcp(23, 'IPv6')] }, { netns: NS.host });
  t.same(await listPortFirewalls({ netns: NS.host }), [PORT], 'still one table');
  const now = await traffic();
  t.same([now.remote.telnet4, now.remote.telnet6, now.host.telnet], ['23 10.1.0.2', '23 fd01::2', '23 10.0.0.1']);
  t.same([now.remote.far, now.guest.spoofed], ['dropped', 'dropped'], 'the rest as before');
  t.match(await showPortFirewall(PORT, { netns: NS.host }), /meta nfproto ipv4 tcp dport 23 accept[\s\S]*meta nfproto ipv6 tcp dport 23 accept/, 'the kernel holds the new rules');
});

t.test('egress rules limit what the guest may open, not the replies it sends', async (t) => {
  await applyPortFirewall({
    ...base,
    rules: [tcp(22), { direction: 'egress', ethertype: 'IPv4', protocol: 'tcp', port_range_min: 80, port_range_max: 80, remote_ip_prefix: '10.1.0.0/24' }],
  }, { netns: NS.host });
  const now = await traffic();
  t.same([now.guest.out4, now.guest.out6], ['80 10.0.0.5', 'dropped'], 'out to 10.1.0.0/24:80 only');
  t.equal(now.remote.ssh4, '22 10.1.0.2', 'the answer to an allowed ingress connection goes out (conntrack)');
  const rest = (await drops('sg-egress'))[2]!;
  t.ok(rest >= 1, `the IPv6 SYN (and its retransmissions) met the egress drop (${rest})`);
});

t.test('an allowed address pair lets the guest use another address', async (t) => {
  await applyPortFirewall({ ...base, allowedAddressPairs: [{ ip_address: '10.0.0.96/30' }] }, { netns: NS.host });
  t.equal((await traffic()).guest.spoofed, '80 10.0.0.99', '10.0.0.99 is inside 10.0.0.96/30');
  await applyPortFirewall({ ...base, allowedAddressPairs: [{ ip_address: '10.0.0.99', mac_address: 'fa:16:3e:ff:ff:ff' }] }, { netns: NS.host });
  t.equal((await traffic()).guest.spoofed, 'dropped', 'the pair names another MAC');
});

t.test('port security off: no filtering; removal: no table, idempotent', async (t) => {
  await applyPortFirewall({ ...base, portSecurityEnabled: false, rules: [] }, { netns: NS.host });
  t.same(await traffic(), ALL_OPEN);
  await applyPortFirewall(base, { netns: NS.host });
  await removePortFirewall(PORT, { netns: NS.host });
  t.same(await listPortFirewalls({ netns: NS.host }), []);
  t.same(await traffic(), ALL_OPEN);
  await removePortFirewall(PORT, { netns: NS.host });
  t.pass('removing twice is fine');
});

t.test('refusals: a bad namespace name, a value the renderer will not print', async (t) => {
  await t.rejects(applyPortFirewall(base, { netns: '-x' }), { kind: 'failed', message: /network namespace/ });
  await t.rejects(applyPortFirewall({ ...base, mac: 'fa:16:3e:0a:1b:2c" accept' }, { netns: NS.scratch }), { kind: 'failed', message: /not a MAC/ });
  await t.rejects(applyPortFirewall({ ...base, portId: 'x; flush ruleset' }, { netns: NS.scratch }), { kind: 'failed', message: /not a port id/ });
});

// Any rule Neutron accepts, any mix of address pairs and group members: the kernel loads it all.
const hex = (n: number) => fc.integer({ min: 0, max: 16 ** n - 1 }).map((v) => v.toString(16).padStart(n, '0'));
const uuid = fc.tuple(hex(8), hex(4), hex(4), hex(4), hex(12)).map((p) => p.join('-'));
const v4 = fc.tuple(fc.integer({ min: 1, max: 223 }), fc.nat(255), fc.nat(255), fc.nat(255)).map((o) => o.join('.'));
const v6 = fc.array(hex(4), { minLength: 8, maxLength: 8 }).map((g) => g.join(':'));
const prefix = fc.oneof(
  fc.tuple(v4, fc.integer({ min: 0, max: 32 })).map(([a, p]) => `${a}/${p}`),
  fc.tuple(v6, fc.integer({ min: 0, max: 128 })).map(([a, p]) => `${a}/${p}`), v4, v6,
);
const ruleBody = fc.record({
  direction: fc.constantFrom('ingress', 'egress'),
  ethertype: fc.constantFrom('IPv4', 'IPv6'),
  protocol: fc.option(fc.oneof(fc.constantFrom('tcp', 'udp', 'icmp', 'ipv6-icmp', 'sctp', 'dccp', 'udplite', 'gre', 'esp', 'ah', 'ip', 'hopopt', 'vrrp'), fc.integer({ min: 0, max: 255 })), { nil: null }),
  port_range_min: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: null }),
  port_range_max: fc.option(fc.integer({ min: 0, max: 65535 }), { nil: null }),
  remote_ip_prefix: fc.option(prefix, { nil: null }),
  remote_group_id: fc.option(fc.constantFrom(OWN_GROUP, WEB_GROUP, FAR_GROUP), { nil: null }),
}, { requiredKeys: ['direction'] });
const accepted = fc.array(ruleBody, { maxLength: 12 }).map((bodies) => bodies.flatMap((b) => {
  const r = normalizeRule(b);
  return 'rule' in r ? [r.rule] : [];
}));
const firewall = fc.record({
  portId: uuid,
  mac: fc.array(fc.nat(255), { minLength: 6, maxLength: 6 }).map((o) => o.map((x) => x.toString(16).padStart(2, '0')).join(':')),
  fixedIps: fc.array(fc.oneof(v4, v6), { maxLength: 3 }),
  allowedAddressPairs: fc.array(fc.record({ ip_address: prefix, mac_address: fc.option(fc.constant('fa:16:3e:12:34:56'), { nil: null }) }), { maxLength: 3 }),
  portSecurityEnabled: fc.boolean(),
  rules: accepted,
  remoteGroups: fc.record({ [OWN_GROUP]: fc.array(fc.oneof(v4, v6), { maxLength: 3 }), [WEB_GROUP]: fc.array(v4, { maxLength: 2 }) }),
});

/** The rules of a chain, one a line: as rendered, and as the kernel lists what it holds. */
const chainRules = (text: string, chain: string): number =>
  (text.split(`chain ${chain} {`)[1]?.split('\n\t}')[0] ?? '').split('\n')
    // A rule starts two tabs in; nft continues a long set on lines indented further.
    .filter((l) => /^\t\t\S/.test(l) && !l.trim().startsWith('type ')).length;

t.test('the kernel loads every rendered rule set, and holds each of its rules', async (t) => {
  let loaded = 0;
  await fc.assert(fc.asyncProperty(firewall, async (f) => {
    await applyPortFirewall(f, { netns: NS.scratch });
    const listed = await showPortFirewall(f.portId, { netns: NS.scratch });
    const text = renderPortRuleset(f);
    for (const chain of ['forward', 'input', 'output', 'sg-ingress', 'sg-egress']) {
      const want = chainRules(text, chain);
      const have = chainRules(listed, chain);
      if (want !== have) throw new Error(`${chain}: rendered ${want} rules, the kernel lists ${have}\n${text}\n---\n${listed}`);
    }
    await removePortFirewall(f.portId, { netns: NS.scratch });
    loaded++;
  }), { numRuns: 60 });
  t.equal(loaded, 60, '60 random ports\' rule sets loaded, listed and removed');
  t.same(await listPortFirewalls({ netns: NS.scratch }), []);
});
