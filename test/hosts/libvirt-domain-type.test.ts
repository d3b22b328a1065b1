/**
 * The KVM run probe: under TCG the probe sector reaches protected mode and exits QEMU with its
 * code (so the probe is a real test of a guest running); an accelerator that cannot run it (KVM
 * here hangs or aborts; a missing QEMU) answers false within its bound.
 */
import t from 'tap';
import { acceleratorRuns } from '../../hosts/libvirt/domain-type.js';

t.test('TCG runs the probe sector to its exit code', async (t) => {
  t.equal(await acceleratorRuns('tcg'), true);
});

t.test('a QEMU that is not there, or cannot finish in time, is not an accelerator that runs', async (t) => {
  t.equal(await acceleratorRuns('tcg', '/nonexistent/qemu'), false);
  t.equal(await acceleratorRuns('tcg', 'qemu-system-x86_64', 1), false, 'killed at its bound');
});
