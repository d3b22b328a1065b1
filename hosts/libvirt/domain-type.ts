/**
 * Which libvirt domain type a host runs guests with: `kvm` needs a usable `/dev/kvm`, a daemon
 * that offers it, and KVM that actually runs a guest; anything else is `qemu` (TCG, slow but
 * everywhere). Detection is the default and a setting overrides it. The run test matters: some
 * machines (nested sandboxes, this one) open /dev/kvm and list kvm in libvirt's capabilities, yet
 * hang their guests entering protected mode or abort QEMU setting MSRs.
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bound } from './bound.js';
import type { Connection } from './connection.js';
import type { DomainType } from './domain-xml.js';

export type DomainTypeSetting = DomainType | 'auto';

/**
 * A boot sector that loads a flat GDT, enters 32-bit protected mode and writes 0x2a to QEMU's
 * isa-debug-exit port, so QEMU exits with (0x2a << 1) | 1 = 85 (assembled here from 30 lines of
 * GNU as; the 76 bytes before the padding and the 0x55aa signature).
 */
const PROBE_SECTOR = Buffer.concat([
  Buffer.from('fa31c08ed80f0116487c0f20c06683c8010f22c066ea1c7c0000080066b810008ed8b02ae6f4f4ebfd8db426000000000000000000000000ffff0000009acf00ffff00000092cf001700307c', 'hex'),
  Buffer.alloc(510 - 76),
  Buffer.from([0x55, 0xaa]),
]);
const PROBE_EXIT = 85;
const PROBE_TIMEOUT_MS = 10_000;

/** Whether QEMU under `accel` boots the probe sector into protected mode and out again. */
export async function acceleratorRuns(accel: 'kvm' | 'tcg', qemu = 'qemu-system-x86_64', timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  const dir = await mkdtemp(join(tmpdir(), 'novact-kvm-probe-'));
  try {
    const sector = join(dir, 'probe.img');
    await writeFile(sector, PROBE_SECTOR);
    // `-cpu host` under KVM, as the guests get (`host-model`): setting its MSRs is what fails here.
    const args = ['-accel', accel, ...(accel === 'kvm' ? ['-cpu', 'host'] : []), '-machine', 'pc', '-nodefaults', '-display', 'none', '-m', '16', '-no-reboot',
      '-device', 'isa-debug-exit,iobase=0xf4,iosize=4', '-drive', `file=${sector},format=raw,if=floppy`];
    const code = await new Promise<number | null>((resolve) => {
      execFile(qemu, args, { timeout: timeoutMs, killSignal: 'SIGKILL' }, (err) => resolve(err ? ((err as { code?: unknown }).code as number | null) ?? null : 0));
    });
    return code === PROBE_EXIT;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export async function detectDomainType(conn: Connection, b: Bound, kvmDevice = '/dev/kvm'): Promise<DomainType> {
  if (!conn.virshReachesDomains) return 'qemu'; // libvirt's test driver
  const usable = await access(kvmDevice, constants.R_OK | constants.W_OK).then(() => true, () => false);
  if (!usable) return 'qemu';
  const caps = await conn.virsh(b, ['capabilities']).catch(() => '');
  if (!/<domain\s+type=['"]kvm['"]/.test(caps)) return 'qemu';
  return (await acceleratorRuns('kvm')) ? 'kvm' : 'qemu';
}
