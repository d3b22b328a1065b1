import t from 'tap';
import type { HostFilter, HostState, RequestSpec } from '../../actors/scheduler/types.js';
import { AggregateInstanceExtraSpecsFilter } from '../../actors/scheduler/filters/AggregateInstanceExtraSpecsFilter.js';
import { AggregateMultiTenancyIsolation } from '../../actors/scheduler/filters/AggregateMultiTenancyIsolation.js';
import { AllHostsFilter } from '../../actors/scheduler/filters/AllHostsFilter.js';
import { AvailabilityZoneFilter } from '../../actors/scheduler/filters/AvailabilityZoneFilter.js';
import { ComputeCapabilitiesFilter } from '../../actors/scheduler/filters/ComputeCapabilitiesFilter.js';
import { ComputeFilter } from '../../actors/scheduler/filters/ComputeFilter.js';
import { CoreFilter } from '../../actors/scheduler/filters/CoreFilter.js';
import { DifferentHostFilter } from '../../actors/scheduler/filters/DifferentHostFilter.js';
import { DiskFilter } from '../../actors/scheduler/filters/DiskFilter.js';
import { ImagePropertiesFilter } from '../../actors/scheduler/filters/ImagePropertiesFilter.js';
import { NumInstancesFilter } from '../../actors/scheduler/filters/NumInstancesFilter.js';
import { RamFilter } from '../../actors/scheduler/filters/RamFilter.js';
import { SameHostFilter } from '../../actors/scheduler/filters/SameHostFilter.js';
import { ServerGroupAffinityFilter } from '../../actors/scheduler/filters/ServerGroupAffinityFilter.js';
import { ServerGroupAntiAffinityFilter } from '../../actors/scheduler/filters/ServerGroupAntiAffinityFilter.js';
import { matches, parseRequirement, toFloat } from '../../actors/scheduler/filters/extra-spec-match.js';
import { DEFAULT_FILTERS, builtinFilters, filtersByName } from '../../actors/scheduler/filters/index.js';
import { CTX, NOW, inv, makeHost, makeSpec } from './host-fixture.js';

const pass = (f: HostFilter, host: HostState, spec: RequestSpec = makeSpec(), ctx = CTX): boolean => f.passes(host, spec, ctx);

t.test('registry', async (t) => {
  for (const [key, f] of Object.entries(builtinFilters)) t.equal(f.name, key, `${key} is registered under its Nova name`);
  for (const name of DEFAULT_FILTERS) t.ok(builtinFilters[name], `default ${name} exists`);
  t.same(filtersByName(['RamFilter', 'CoreFilter']).map((f) => f.name), ['RamFilter', 'CoreFilter']);
  t.throws(() => filtersByName(['NoSuchFilter']), /unknown scheduler filter/);
  t.throws(() => filtersByName(['toString']), /unknown scheduler filter/);
});

t.test('AllHostsFilter passes even a dead, full host', async (t) => {
  t.ok(pass(AllHostsFilter, makeHost({ enabled: false, lastSeenAt: 0, used: { MEMORY_MB: 1e9 } })));
});

t.test('ComputeFilter', async (t) => {
  t.ok(pass(ComputeFilter, makeHost()), 'enabled and just seen');
  t.ok(pass(ComputeFilter, makeHost({ lastSeenAt: NOW - 60_000 })), 'exactly service_down_time old is still up');
  t.notOk(pass(ComputeFilter, makeHost({ lastSeenAt: NOW - 60_001 })), 'service down');
  t.notOk(pass(ComputeFilter, makeHost({ enabled: false })), 'service disabled');
});

t.test('RamFilter', async (t) => {
  // 65536 - 512 reserved = 65024 usable at ratio 1
  t.ok(pass(RamFilter, makeHost({ used: { MEMORY_MB: 65024 - 4096 } })), 'exactly fits');
  t.notOk(pass(RamFilter, makeHost({ used: { MEMORY_MB: 65024 - 4095 } })), 'reserved memory is not usable');
  const over = makeHost({ inventory: { MEMORY_MB: inv(8192, { allocationRatio: 1.5 }) }, used: { MEMORY_MB: 8192 } });
  t.ok(pass(RamFilter, over), 'allocation ratio 1.5 leaves 4096 beyond the physical total');
  t.notOk(pass(RamFilter, over, makeSpec({ resources: { MEMORY_MB: 4097 } })), 'but not 4097');
  t.notOk(pass(RamFilter, makeHost({ inventory: { MEMORY_MB: inv(65536, { maxUnit: 2048 }) } })), 'above max_unit');
  t.notOk(pass(RamFilter, makeHost({ inventory: { MEMORY_MB: inv(65536, { minUnit: 8192 }) } })), 'below min_unit');
  t.notOk(pass(RamFilter, makeHost({ inventory: { MEMORY_MB: inv(65536, { stepSize: 3000 }) } })), 'not a step_size multiple');
  t.ok(pass(RamFilter, makeHost({ inventory: { MEMORY_MB: inv(65536, { stepSize: 1024 }) } })), 'a step_size multiple');
});

t.test('DiskFilter', async (t) => {
  t.ok(pass(DiskFilter, makeHost({ used: { DISK_GB: 980 } })));
  t.notOk(pass(DiskFilter, makeHost({ used: { DISK_GB: 981 } })));
  t.notOk(pass(DiskFilter, makeHost({ inventory: { DISK_GB: inv(1000, { reserved: 990 }) } })), 'reserved disk');
  t.ok(pass(DiskFilter, makeHost({ inventory: { DISK_GB: inv(100, { allocationRatio: 2 }) }, used: { DISK_GB: 180 } })), 'ratio 2');
  t.notOk(pass(DiskFilter, makeHost({ inventory: { DISK_GB: inv(1000, { maxUnit: 10 }) } })), 'max_unit');
  const overcommitted = makeHost({ used: { DISK_GB: 2000 } });
  t.ok(pass(DiskFilter, overcommitted, makeSpec({ resources: { DISK_GB: 0 } })), 'a zero request (boot from volume) is never blocked');
  t.notOk(pass(DiskFilter, overcommitted), 'a real request is');
});

t.test('CoreFilter', async (t) => {
  // 16 cores at ratio 4 = 64 usable
  t.ok(pass(CoreFilter, makeHost({ used: { VCPU: 62 } })), 'overcommit via allocation ratio');
  t.notOk(pass(CoreFilter, makeHost({ used: { VCPU: 63 } })));
  t.notOk(pass(CoreFilter, makeHost({ inventory: { VCPU: inv(16, { allocationRatio: 4, reserved: 16 }) } })), 'all cores reserved');
  t.notOk(pass(CoreFilter, makeHost({ inventory: { VCPU: inv(16, { allocationRatio: 4, maxUnit: 1 }) } })), 'max_unit');
  t.notOk(pass(CoreFilter, makeHost({ inventory: { VCPU: inv(16, { allocationRatio: 4, minUnit: 4 }) } })), 'min_unit');
  const noVcpu = makeHost();
  delete (noVcpu.inventory as Partial<HostState['inventory']>).VCPU;
  t.notOk(pass(CoreFilter, noVcpu), 'no inventory of the class');
});

t.test('AvailabilityZoneFilter', async (t) => {
  t.ok(pass(AvailabilityZoneFilter, makeHost({ availabilityZone: 'az2' })), 'no zone requested');
  t.ok(pass(AvailabilityZoneFilter, makeHost({ availabilityZone: 'az2' }), makeSpec({ availabilityZone: 'az2' })));
  t.notOk(pass(AvailabilityZoneFilter, makeHost({ availabilityZone: 'az1' }), makeSpec({ availabilityZone: 'az2' })));
  t.notOk(pass(AvailabilityZoneFilter, makeHost({ availabilityZone: null }), makeSpec({ availabilityZone: 'az2' })));
});

t.test('NumInstancesFilter', async (t) => {
  t.ok(pass(NumInstancesFilter, makeHost({ numInstances: 49 })));
  t.notOk(pass(NumInstancesFilter, makeHost({ numInstances: 50 })));
  t.notOk(pass(NumInstancesFilter, makeHost({ numInstances: 3 }), makeSpec(), { ...CTX, maxInstancesPerHost: 3 }));
});

t.test('SameHostFilter / DifferentHostFilter', async (t) => {
  const host = makeHost({ instances: new Set(['i1', 'i2']) });
  const other = makeHost({ host: 'compute-2' });
  t.ok(pass(SameHostFilter, other), 'no hint');
  t.ok(pass(SameHostFilter, other, makeSpec({ schedulerHints: { same_host: [] } })), 'empty hint');
  t.ok(pass(SameHostFilter, host, makeSpec({ schedulerHints: { same_host: 'i2' } })), 'single uuid');
  t.ok(pass(SameHostFilter, host, makeSpec({ schedulerHints: { same_host: ['x', 'i1'] } })), 'any of a list');
  t.notOk(pass(SameHostFilter, other, makeSpec({ schedulerHints: { same_host: ['i1'] } })));
  t.ok(pass(DifferentHostFilter, host), 'no hint');
  t.ok(pass(DifferentHostFilter, other, makeSpec({ schedulerHints: { different_host: ['i1', 'i2'] } })));
  t.notOk(pass(DifferentHostFilter, host, makeSpec({ schedulerHints: { different_host: 'i1' } })));
  t.notOk(pass(DifferentHostFilter, host, makeSpec({ schedulerHints: { different_host: ['x', 'i2'] } })));
});

t.test('ServerGroupAffinityFilter', async (t) => {
  const group = (hosts: string[], policy: NonNullable<RequestSpec['group']>['policy'] = 'affinity') =>
    makeSpec({ group: { id: 'g', policy, hosts } });
  t.ok(pass(ServerGroupAffinityFilter, makeHost()), 'no group');
  t.ok(pass(ServerGroupAffinityFilter, makeHost(), group([])), 'first member goes anywhere');
  t.ok(pass(ServerGroupAffinityFilter, makeHost(), group(['compute-1'])));
  t.notOk(pass(ServerGroupAffinityFilter, makeHost(), group(['compute-2'])));
  t.ok(pass(ServerGroupAffinityFilter, makeHost(), group(['compute-2'], 'soft-affinity')), 'soft policy is for the weigher');
  t.ok(pass(ServerGroupAffinityFilter, makeHost(), group(['compute-2'], 'anti-affinity')), 'other policy');
});

t.test('ServerGroupAntiAffinityFilter', async (t) => {
  const group = (hosts: string[], maxServerPerHost?: number, policy: NonNullable<RequestSpec['group']>['policy'] = 'anti-affinity') =>
    makeSpec({ group: { id: 'g', policy, hosts, ...(maxServerPerHost === undefined ? {} : { maxServerPerHost }) } });
  t.ok(pass(ServerGroupAntiAffinityFilter, makeHost()), 'no group');
  t.ok(pass(ServerGroupAntiAffinityFilter, makeHost(), group(['compute-2', 'compute-3'])));
  t.notOk(pass(ServerGroupAntiAffinityFilter, makeHost(), group(['compute-2', 'compute-1'])), 'a member already here');
  t.ok(pass(ServerGroupAntiAffinityFilter, makeHost(), group(['compute-1'], 2)), 'max_server_per_host 2, one here');
  t.notOk(pass(ServerGroupAntiAffinityFilter, makeHost(), group(['compute-1', 'compute-1'], 2)), 'two here');
  t.ok(pass(ServerGroupAntiAffinityFilter, makeHost(), group(['compute-1'], undefined, 'soft-anti-affinity')), 'soft policy');
  const moving = makeHost({ instances: new Set(['inst-new']) });
  t.ok(pass(ServerGroupAntiAffinityFilter, moving, group(['compute-1'])), 'a move may stay on its own host');
});

t.test('extra-spec operators', async (t) => {
  const m = (value: string | undefined, req: string) => matches(value, parseRequirement(req));
  const cases: [string | undefined, string, boolean][] = [
    ['1024', '= 512', true], ['512', '= 512', true], ['256', '= 512', false], ['abc', '= 1', false],
    ['2', '== 2.0', true], ['3', '== 2', false],
    ['3', '!= 2', true], ['2', '!= 2.0', false], ['x', '!= 2', false],
    ['4', '>= 4', true], ['3.9', '>= 4', false],
    ['4', '<= 4', true], ['4.1', '<= 4', false],
    ['kvm', 's== kvm', true], ['KVM', 's== kvm', false],
    ['qemu', 's!= kvm', true], ['kvm', 's!= kvm', false],
    ['abc', 's< abd', true], ['abd', 's< abd', false],
    ['abd', 's<= abd', true], ['abe', 's<= abd', false],
    ['b', 's> a', true], ['a', 's> a', false],
    ['a', 's>= a', true], ['0', 's>= a', false],
    ['avx avx2 sse', '<in> avx2', true], ['sse', '<in> avx', false],
    ['avx avx2 sse', '<all-in> sse avx', true], ['avx sse', '<all-in> sse avx2', false],
    ['b', '<or> a <or> b <or> c', true], ['d', '<or> a <or> b <or> c', false], ['a', '<or>', false],
    ['true', 'true', true], ['True', 'true', false], ['x86_64', 'x86_64', true],
    [undefined, '= 1', false], [undefined, 'x', false],
    ['1', '>=', false], ['1e3', '>= 999', true], [' 7 ', '== 7', true], ['0x10', '== 16', false], ['', '== 0', false],
    ['inf', '>= 1e308', true], ['-inf', '<= -1e308', true],
  ];
  for (const [value, req, want] of cases) t.equal(m(value, req), want, `${String(value)} vs '${req}'`);
  t.ok(Number.isNaN(toFloat('nan')));
  t.equal(toFloat('+1.5E2'), 150);
});

t.test('ComputeCapabilitiesFilter', async (t) => {
  const host = makeHost({ capabilities: { hypervisor_type: 'QEMU', cpu_arch: 'x86_64', 'cpu_info:vendor': 'Intel', vcpus: '16' } });
  const f = (extraSpecs: Record<string, string>) => pass(ComputeCapabilitiesFilter, host, makeSpec({ extraSpecs }));
  t.ok(f({}), 'no extra specs');
  t.ok(f({ 'capabilities:hypervisor_type': 's== QEMU' }), 'scoped match');
  t.notOk(f({ 'capabilities:hypervisor_type': 's== xen' }), 'scoped mismatch');
  t.notOk(f({ 'capabilities:gpu': 'true' }), 'scoped key the host lacks');
  t.ok(f({ 'capabilities:cpu_info:vendor': 'Intel' }), 'nested key');
  t.ok(f({ vcpus: '>= 8' }), 'unscoped, host has it, matches');
  t.notOk(f({ vcpus: '>= 32' }), 'unscoped, host has it, fails');
  t.ok(f({ gpu: 'true' }), 'unscoped key the host lacks is ignored');
  t.ok(f({ 'hw:cpu_policy': 'dedicated', 'quota:cpu_shares': '1' }), 'other scopes are ignored');
  t.ok(f({ toString: 'x' }), 'prototype names are not capabilities');
  t.notOk(f({ 'capabilities:cpu_arch': 'x86_64', 'capabilities:hypervisor_type': '<or> xen <or> hyperv' }), 'all specs must hold');
  const spec = makeSpec({ extraSpecs: { 'capabilities:vcpus': '>= 8' } });
  t.ok(pass(ComputeCapabilitiesFilter, host, spec));
  t.notOk(pass(ComputeCapabilitiesFilter, makeHost({ capabilities: { vcpus: '4' } }), spec), 'same spec, another host');
});

t.test('ImagePropertiesFilter', async (t) => {
  const host = makeHost({ cpuArch: 'x86_64', hypervisorType: 'QEMU' });
  const f = (imageProperties: Record<string, string>, h: HostState = host) => pass(ImagePropertiesFilter, h, makeSpec({ imageProperties }));
  t.ok(f({}), 'no properties');
  t.ok(f({ hw_architecture: 'x86_64' }));
  t.ok(f({ hw_architecture: 'AMD64' }), 'canonical architecture names');
  t.notOk(f({ hw_architecture: 'aarch64' }));
  t.notOk(f({ architecture: 'aarch64' }), 'legacy key');
  t.ok(f({ img_hv_type: 'qemu' }), 'hypervisor type is case-insensitive');
  t.notOk(f({ img_hv_type: 'xen' }));
  t.notOk(f({ hypervisor_type: 'xen' }), 'legacy key');
  t.ok(f({ hw_vm_mode: 'hvm' }), 'host vm_mode defaults to hvm');
  t.notOk(f({ hw_vm_mode: 'xen' }));
  t.ok(f({ vm_mode: 'pv' }, makeHost({ capabilities: { vm_mode: 'xen' } })), 'pv is xen');
  t.notOk(f({ hw_architecture: 'x86_64', img_hv_type: 'xen' }), 'every given property must match');
});

t.test('AggregateInstanceExtraSpecsFilter', async (t) => {
  const ssd = { id: 'a1', metadata: { ssd: 'true', tier: 'gold, silver' } };
  const big = { id: 'a2', metadata: { ram_gb: '512' } };
  const host = makeHost({ aggregates: [ssd, big] });
  const bare = makeHost();
  const f = (extraSpecs: Record<string, string>, h: HostState = host) => pass(AggregateInstanceExtraSpecsFilter, h, makeSpec({ extraSpecs }));
  t.ok(f({}), 'no specs');
  t.ok(f({}, bare), 'no specs, no aggregates');
  t.ok(f({ 'aggregate_instance_extra_specs:ssd': 'true' }));
  t.ok(f({ ssd: 'true' }), 'unscoped keys count too');
  t.notOk(f({ ssd: 'true' }, bare), 'a host outside aggregates fails any such spec');
  t.notOk(f({ 'aggregate_instance_extra_specs:ssd': 'false' }));
  t.notOk(f({ 'aggregate_instance_extra_specs:gpu': 'true' }), 'no aggregate sets the key');
  t.ok(f({ 'aggregate_instance_extra_specs:ram_gb': '>= 256' }), 'operators, across the union of aggregates');
  t.ok(f({ tier: 'silver' }), 'comma-separated metadata values are split and stripped');
  t.ok(f({ tier: '<or> bronze <or> gold' }));
  t.ok(f({ 'hw:cpu_policy': 'dedicated', 'capabilities:x': 'y' }), 'other scopes are ignored');
  t.notOk(f({ ssd: 'true', ram_gb: '>= 1024' }), 'every spec must hold');
});

t.test('AggregateMultiTenancyIsolation', async (t) => {
  const f = (aggregates: HostState['aggregates'], projectId = 'proj-a') =>
    pass(AggregateMultiTenancyIsolation, makeHost({ aggregates }), makeSpec({ projectId }));
  t.ok(f([]), 'no aggregates: open to all');
  t.ok(f([{ id: 'a', metadata: { ssd: 'true' } }]), 'aggregate without the key: open');
  t.ok(f([{ id: 'a', metadata: { filter_tenant_id: 'proj-a' } }]));
  t.notOk(f([{ id: 'a', metadata: { filter_tenant_id: 'proj-b' } }]));
  t.ok(f([{ id: 'a', metadata: { filter_tenant_id: 'proj-b, proj-a ,proj-c' } }]), 'comma separated, spaces stripped');
  t.notOk(f([{ id: 'a', metadata: { filter_tenant_id: 'proj-ab,xproj-a' } }]), 'no substring matches');
  t.ok(f([{ id: 'a', metadata: { filter_tenant_id: 'proj-b', filter_tenant_id2: 'proj-a' } }]), 'prefixed keys');
  t.ok(f([{ id: 'a', metadata: { filter_tenant_id: 'proj-b' } }, { id: 'b', metadata: { filter_tenant_id: 'proj-a' } }]), 'projects of all aggregates pooled');
  t.notOk(f([{ id: 'a', metadata: { filter_tenant_id: 'proj-b' } }, { id: 'b', metadata: {} }]), 'one restricting aggregate is enough');
});

t.test('appliesTo never hides a host the filter would reject', async (t) => {
  // Whenever a filter says it does not apply to a request, it must pass every host for it.
  const hosts = [
    makeHost(),
    makeHost({ host: 'compute-2', availabilityZone: 'az9', instances: new Set(['i1']), used: { VCPU: 1e6, MEMORY_MB: 1e9, DISK_GB: 1e6 } }),
    makeHost({ host: 'compute-3', availabilityZone: null, cpuArch: 'aarch64', hypervisorType: 'xen', capabilities: { vm_mode: 'xen', gpu: 'false' } }),
  ];
  const specs = [
    makeSpec(),
    makeSpec({ resources: { VCPU: 0, MEMORY_MB: 0, DISK_GB: 0 } }),
    makeSpec({ extraSpecs: { 'hw:cpu_policy': 'dedicated' }, schedulerHints: { same_host: [], different_host: '' } }),
    makeSpec({ group: { id: 'g', policy: 'affinity', hosts: [] } }),
    makeSpec({ group: { id: 'g', policy: 'soft-anti-affinity', hosts: ['compute-1', 'compute-1'] } }),
  ];
  for (const f of Object.values(builtinFilters)) {
    for (const spec of specs) {
      if (f.appliesTo === undefined || f.appliesTo(spec, CTX)) continue;
      for (const h of hosts) t.ok(f.passes(h, spec, CTX), `${f.name} skipped but passes ${h.host}`);
    }
  }
  const applies = (f: HostFilter, spec: RequestSpec) => f.appliesTo === undefined || f.appliesTo(spec, CTX);
  t.notOk(applies(AllHostsFilter, makeSpec()));
  t.ok(applies(AvailabilityZoneFilter, makeSpec({ availabilityZone: 'az1' })));
  t.notOk(applies(AvailabilityZoneFilter, makeSpec()));
  t.ok(applies(RamFilter, makeSpec()));
  t.notOk(applies(DiskFilter, makeSpec({ resources: { DISK_GB: 0 } })));
  t.ok(applies(SameHostFilter, makeSpec({ schedulerHints: { same_host: 'i1' } })));
  t.ok(applies(DifferentHostFilter, makeSpec({ schedulerHints: { different_host: ['i1'] } })));
  t.notOk(applies(SameHostFilter, makeSpec({ schedulerHints: { different_host: ['i1'] } })));
  t.ok(applies(ServerGroupAffinityFilter, makeSpec({ group: { id: 'g', policy: 'affinity', hosts: ['x'] } })));
  t.ok(applies(ServerGroupAntiAffinityFilter, makeSpec({ group: { id: 'g', policy: 'anti-affinity', hosts: [] } })));
  t.ok(applies(ComputeCapabilitiesFilter, makeSpec({ extraSpecs: { gpu: 'true' } })));
  t.notOk(applies(ComputeCapabilitiesFilter, makeSpec({ extraSpecs: { 'aggregate_instance_extra_specs:ssd': 'true' } })));
  t.ok(applies(AggregateInstanceExtraSpecsFilter, makeSpec({ extraSpecs: { 'aggregate_instance_extra_specs:ssd': 'true' } })));
  t.notOk(applies(AggregateInstanceExtraSpecsFilter, makeSpec({ extraSpecs: { 'capabilities:x': 'y' } })));
  t.ok(applies(ImagePropertiesFilter, makeSpec({ imageProperties: { hw_vm_mode: 'hvm' } })));
  t.notOk(applies(ImagePropertiesFilter, makeSpec({ imageProperties: { os_distro: 'ubuntu' } })));
  t.ok(applies(ComputeFilter, makeSpec()), 'no hook: always applies');
  t.ok(applies(AggregateMultiTenancyIsolation, makeSpec()));
});

t.test('parsed requirements are cached per extra-specs object, not per content', async (t) => {
  // Two flavors in a row with different specs: the one-entry cache must not mix them up.
  const host = makeHost({ capabilities: { vcpus: '16' } });
  const a = makeSpec({ extraSpecs: { 'capabilities:vcpus': '>= 8' } });
  const b = makeSpec({ extraSpecs: { 'capabilities:vcpus': '>= 32' } });
  for (let i = 0; i < 3; i++) {
    t.ok(ComputeCapabilitiesFilter.passes(host, a, CTX));
    t.notOk(ComputeCapabilitiesFilter.passes(host, b, CTX));
  }
  const x = makeSpec({ imageProperties: { hw_architecture: 'x86_64' } });
  const y = makeSpec({ imageProperties: { hw_architecture: 'aarch64' } });
  for (let i = 0; i < 3; i++) {
    t.ok(ImagePropertiesFilter.passes(host, x, CTX));
    t.notOk(ImagePropertiesFilter.passes(host, y, CTX));
  }
});
