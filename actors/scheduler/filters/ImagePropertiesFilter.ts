import type { HostFilter, HostState } from '../types.js';
import { stringAt } from './extra-spec-match.js';

/** Nova's canonical names (nova/objects/fields.py Architecture, HVType, VMMode). */
const ARCH_ALIASES: Record<string, string> = { i386: 'i686', i486: 'i686', i586: 'i686', x86_32: 'i686', x86_32p: 'i686', amd64: 'x86_64' };
const HV_ALIASES: Record<string, string> = { xapi: 'xen' };
const VM_MODE_ALIASES: Record<string, string> = { pv: 'xen', hv: 'hvm', baremetal: 'hvm' };

function canon(v: string, aliases: Record<string, string>): string {
  const l = v.toLowerCase();
  return stringAt(aliases, l) ?? l;
}

interface Wanted { arch: string | null; hvType: string | null; vmMode: string | null }

// Parsed once per image-properties object, so the per-host check allocates nothing. The last entry
// is kept aside: the runner asks about one request for thousands of hosts in a row.
const cache = new WeakMap<object, Wanted>();
let lastProps: object | null = null;
let lastWanted: Wanted | null = null;

function wanted(props: Record<string, string>): Wanted {
  if (props === lastProps && lastWanted !== null) return lastWanted;
  let w = cache.get(props);
  if (w === undefined) {
    const arch = stringAt(props, 'hw_architecture') ?? stringAt(props, 'architecture');
    const hv = stringAt(props, 'img_hv_type') ?? stringAt(props, 'hypervisor_type');
    const vm = stringAt(props, 'hw_vm_mode') ?? stringAt(props, 'vm_mode');
    w = {
      arch: arch === undefined ? null : canon(arch, ARCH_ALIASES),
      hvType: hv === undefined ? null : canon(hv, HV_ALIASES),
      vmMode: vm === undefined ? null : canon(vm, VM_MODE_ALIASES),
    };
    cache.set(props, w);
  }
  lastProps = props;
  lastWanted = w;
  return w;
}

interface Vocabulary {
  readonly aliases: Record<string, string>;
  /**
   * Canonical form of each host-reported value. Hosts report a handful of values ('QEMU',
   * 'x86_64', …), so the per-host check neither lowercases nor allocates. Bounded against garbage.
   */
  readonly memo: Map<string, string>;
}

const ARCH: Vocabulary = { aliases: ARCH_ALIASES, memo: new Map() };
const HV_TYPE: Vocabulary = { aliases: HV_ALIASES, memo: new Map() };
const VM_MODE: Vocabulary = { aliases: VM_MODE_ALIASES, memo: new Map() };

function same(hostValue: string, want: string, vocab: Vocabulary): boolean {
  if (hostValue === want) return true;
  let c = vocab.memo.get(hostValue);
  if (c === undefined) {
    if (vocab.memo.size >= 256) vocab.memo.clear();
    c = canon(hostValue, vocab.aliases);
    vocab.memo.set(hostValue, c);
  }
  return c === want;
}

function hostVmMode(host: HostState): string {
  const v: unknown = host.capabilities['vm_mode'];
  return typeof v === 'string' ? v : 'hvm';
}

function matches(cpuArch: string, hypervisorType: string, vmMode: string, w: Wanted): boolean {
  if (w.arch !== null && !same(cpuArch, w.arch, ARCH)) return false;
  if (w.hvType !== null && !same(hypervisorType, w.hvType, HV_TYPE)) return false;
  if (w.vmMode !== null && !same(vmMode, w.vmMode, VM_MODE)) return false;
  return true;
}

/** Image `hw_architecture`, `img_hv_type`, `hw_vm_mode` against the host; an absent property passes. */
export const ImagePropertiesFilter: HostFilter = {
  name: 'ImagePropertiesFilter',
  passes: (host, spec) => matches(host.cpuArch, host.hypervisorType, hostVmMode(host), wanted(spec.image.properties)),
  // Each platform in the fleet is decided once; the hosts are then a lookup by their platform id.
  narrow: (cols, slots, n, spec) => {
    const w = wanted(spec.image.properties);
    const verdict = new Uint8Array(cols.platforms.length);
    cols.platforms.forEach((p, id) => (verdict[id] = matches(p.cpuArch, p.hypervisorType, p.vmMode, w) ? 1 : 0));
    const platform = cols.platform;
    let m = 0;
    for (let k = 0; k < n; k++) {
      const i = slots[k]!;
      if (verdict[platform[i]!] === 1) slots[m++] = i;
    }
    return m;
  },
  appliesTo: (spec) => {
    const w = wanted(spec.image.properties);
    return w.arch !== null || w.hvType !== null || w.vmMode !== null;
  },
};
