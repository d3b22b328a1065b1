/**
 * The floor under a libvirt spawn: a minimal domain (no disk, no kernel, no network: SeaBIOS finds
 * nothing to boot and idles) defined and started straight through `@unraid/libvirt` on a daemon,
 * timed per call, then destroyed and undefined. What is left is libvirt's bookkeeping and QEMU's
 * process start, without novact's disks, plan or image cache.
 */
import * as libvirt from '@unraid/libvirt';
import { msSummary as ms } from './percentiles.js';

const minimalDomain = (name: string, memoryMb: number) => `<domain type='qemu'>
  <name>${name}</name>
  <memory unit='MiB'>${memoryMb}</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices><memballoon model='none'/></devices>
</domain>`;


export async function bareDefineStart(uri: string, rounds: number, memoryMb: number) {
  const h = new libvirt.Hypervisor({ uri });
  await h.connectOpen();
  const define: number[] = [];
  const start: number[] = [];
  try {
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      const dom = await h.domainDefineXML(minimalDomain(`bench-bare-${i}`, memoryMb));
      const t1 = performance.now();
      try {
        await h.domainCreate(dom);
        start.push(performance.now() - t1);
        define.push(t1 - t0);
      } finally {
        await h.domainDestroy(dom).catch(() => undefined);
        await h.domainUndefine(dom);
      }
    }
  } finally {
    await h.connectClose();
  }
  return { memoryMb, defineMs: ms(define), startMs: ms(start), defineStartMs: ms(define.map((d, i) => d + start[i]!)) };
}
