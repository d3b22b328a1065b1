/** A guest's network_data.json, as Nova's netutils.get_network_metadata writes it (pure). */
import t from 'tap';
import fc from 'fast-check';
import type { GuestNic } from '../../../protocols/host.js';
import { firstIpv4, networkData, type NetworkData } from '../../../protocols/network/network-data.js';
import { parseIp } from '../../../protocols/network/ip.js';
import { portDeviceName } from '../../../protocols/network/port-device.js';

const P1 = 'b1a2c3d4-5e6f-4a7b-8c9d-0e1f2a3b4c5d';
const P2 = 'c0ffee00-1111-4222-8333-444455556666';
const P3 = 'd00d0000-aaaa-4bbb-8ccc-dddddddddddd';
const N1 = '11111111-2222-4333-8444-555555555555';
const N3 = '99999999-8888-4777-8666-555555555555';

const nics: GuestNic[] = [
  {
    portId: P1, networkId: N1, mac: 'fa:16:3e:11:22:33', mtu: 1450,
    fixedIps: [
      { address: '10.0.0.5', version: 4, cidr: '10.0.0.0/24', gateway: '10.0.0.1', dns: ['8.8.8.8', '1.1.1.1'], routes: [{ destination: '172.16.0.0/12', nexthop: '10.0.0.254' }] },
      { address: '10.0.0.6', version: 4, cidr: '10.0.0.0/24', gateway: '10.0.0.1' },
      { address: '2001:db8::5', version: 6, cidr: '2001:db8::/64', gateway: '2001:db8::1', dns: ['2001:4860:4860::8888'], ipv6AddressMode: 'slaac' },
    ],
  },
  // No address: Nova skips the NIC (no link).
  { portId: P2, networkId: N1, mac: 'fa:16:3e:00:00:02', mtu: 1450, fixedIps: [] },
  { portId: P3, networkId: N3, mac: 'fa:16:3e:00:00:03', mtu: 9000, fixedIps: [{ address: 'fd00::9', version: 6, cidr: 'fd00::/48', gateway: null, dns: ['8.8.8.8'] }] },
];

t.test('Nova\'s keys, values and order for a port with IPv4 and IPv6, one without addresses, one IPv6 only', async (t) => {
  const data = networkData(nics);
  t.strictSame(data, {
    links: [
      { id: 'tapb1a2c3d4-5e', vif_id: P1, type: 'phy', mtu: 1450, ethernet_mac_address: 'fa:16:3e:11:22:33' },
      { id: 'tapd00d0000-aa', vif_id: P3, type: 'phy', mtu: 9000, ethernet_mac_address: 'fa:16:3e:00:00:03' },
    ],
    networks: [
      {
        id: 'network0', type: 'ipv4', link: 'tapb1a2c3d4-5e', ip_address: '10.0.0.5', netmask: '255.255.255.0',
        routes: [
          { network: '0.0.0.0', netmask: '0.0.0.0', gateway: '10.0.0.1' },
          { network: '172.16.0.0', netmask: '255.240.0.0', gateway: '10.0.0.254' },
        ],
        network_id: N1, services: [{ type: 'dns', address: '8.8.8.8' }, { type: 'dns', address: '1.1.1.1' }],
      },
      {
        id: 'network1', type: 'ipv6_slaac', link: 'tapb1a2c3d4-5e', ip_address: '2001:db8::5', netmask: 'ffff:ffff:ffff:ffff::',
        routes: [{ network: '::', netmask: '::', gateway: '2001:db8::1' }],
        network_id: N1, services: [{ type: 'dns', address: '2001:4860:4860::8888' }],
      },
      {
        id: 'network2', type: 'ipv6', link: 'tapd00d0000-aa', ip_address: 'fd00::9', netmask: 'ffff:ffff:ffff::',
        routes: [], network_id: N3, services: [{ type: 'dns', address: '8.8.8.8' }],
      },
    ],
    services: [
      { type: 'dns', address: '8.8.8.8' }, { type: 'dns', address: '1.1.1.1' }, { type: 'dns', address: '2001:4860:4860::8888' },
    ],
  });
  t.same(Object.keys((data as NetworkData).links[0]!), ['id', 'vif_id', 'type', 'mtu', 'ethernet_mac_address'], 'Nova\'s key order');
  t.same(Object.keys((data as NetworkData).networks[0]!), ['id', 'type', 'link', 'ip_address', 'netmask', 'routes', 'network_id', 'services']);
});

t.test('no NICs is {} (Nova: no network info); NICs without addresses are empty lists', async (t) => {
  t.strictSame(networkData(undefined), {});
  t.strictSame(networkData([]), {});
  t.strictSame(networkData([nics[1]!]), { links: [], networks: [], services: [] });
  t.equal(firstIpv4(nics), '10.0.0.5');
  t.equal(firstIpv4([nics[2]!]), undefined);
  t.equal(portDeviceName(P1), 'tapb1a2c3d4-5e', 'tap + 11 characters: 14, Nova\'s NIC_NAME_LEN');
});

t.test('an address mode on an IPv4 entry is ignored; a host route that is no CIDR is left out', async (t) => {
  const odd: GuestNic = {
    portId: P1, networkId: N1, mac: 'fa:16:3e:11:22:33', mtu: 1500,
    fixedIps: [{ address: '10.1.0.5', version: 4, cidr: '10.1.0.0/16', gateway: null, ipv6AddressMode: 'slaac', routes: [{ destination: 'nope', nexthop: '10.1.0.1' }] }],
  };
  const net = (networkData([odd]) as NetworkData).networks[0]!;
  t.equal(net.type, 'ipv4');
  t.equal(net.netmask, '255.255.0.0');
  t.same(net.routes, []);
});

/** The prefix length a netmask text spells (its bits are ones then zeros). */
const maskPrefix = (mask: string): number | undefined => {
  const ip = parseIp(mask);
  if (!ip) return undefined;
  const bits = ip.value.toString(2).padStart(ip.version === 4 ? 32 : 128, '0');
  return /^1*0*$/.test(bits) ? bits.indexOf('0') < 0 ? bits.length : bits.indexOf('0') : undefined;
};

const hex = (n: number) => fc.integer({ min: 0, max: 16 ** n - 1 }).map((v) => v.toString(16).padStart(n, '0'));
const uuid = fc.tuple(hex(8), hex(4), hex(4), hex(4), hex(12)).map((p) => p.join('-'));
const fixedIp = fc.oneof(
  fc.tuple(fc.integer({ min: 8, max: 30 }), fc.integer({ min: 1, max: 250 }), fc.option(fc.constant('10.9.0.1'), { nil: null }))
    .map(([prefix, host, gw]) => ({ address: `10.9.0.${host}`, version: 4, cidr: `10.9.0.0/${prefix}`, gateway: gw, dns: [`10.9.0.${host % 3}`] })),
  fc.tuple(fc.integer({ min: 48, max: 126 }), fc.integer({ min: 1, max: 0xffff }))
    .map(([prefix, host]) => ({ address: `fd00::${host.toString(16)}`, version: 6, cidr: `fd00::/${prefix}`, gateway: 'fd00::1' })),
);
const nic = fc.record({
  portId: uuid, networkId: uuid, mac: fc.constant('fa:16:3e:00:00:01'), mtu: fc.integer({ min: 68, max: 9000 }),
  fixedIps: fc.array(fixedIp, { maxLength: 4 }),
});

t.test('properties over random NICs', async (t) => {
  fc.assert(fc.property(fc.array(nic, { minLength: 1, maxLength: 6 }), (list) => {
    const data = networkData(list) as NetworkData;
    const addressed = list.filter((n) => n.fixedIps.length > 0);
    if (data.links.length !== addressed.length) return false;
    if (!data.links.every((l, i) => l.id === portDeviceName(addressed[i]!.portId) && l.vif_id === addressed[i]!.portId && l.mtu === addressed[i]!.mtu)) return false;
    // One entry per IP version a NIC has, numbered across NICs.
    const expected = addressed.reduce((n, x) => n + new Set(x.fixedIps.map((f) => f.version)).size, 0);
    if (data.networks.length !== expected) return false;
    if (!data.networks.every((n, i) => n.id === `network${i}` && data.links.some((l) => l.id === n.link))) return false;
    // Each entry's address is its NIC's first of that version, with its subnet's prefix as the netmask.
    for (const n of data.networks) {
      const owner = addressed[data.links.findIndex((l) => l.id === n.link)]!;
      const first = owner.fixedIps.find((f) => `ipv${f.version}` === n.type)!;
      if (n.ip_address !== first.address || maskPrefix(n.netmask) !== Number(first.cidr.split('/')[1])) return false;
      if ((n.routes.length > 0) !== (first.gateway !== null)) return false;
    }
    const addrs = data.services.map((s) => s.address);
    return new Set(addrs).size === addrs.length;
  }), { numRuns: 300 });
  t.pass('300 random NIC lists');
});
