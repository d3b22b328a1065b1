/**
 * The libvirt host's disk work without libvirtd: an image fetched into the image cache from an
 * in-process fetcher (chunks of the host download's size, MD5 verified as the compute role's
 * fetcher does; raw, and qcow2 with its `qemu-img info` check), and config-drive builds (files +
 * xorriso). A fresh cache directory per round, so every round fetches. Prints one JSON line.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ImageFetcher } from '../hosts/driver.js';
import { buildConfigDrive } from '../hosts/libvirt/config-drive.js';
import { run } from '../hosts/libvirt/exec.js';
import { ImageCache } from '../hosts/libvirt/image-cache.js';
import { HOST_CHUNK_BYTES } from '../protocols/catalog/image-snapshot.js';
import type { GuestSpec } from '../protocols/host.js';
import { percentiles } from './percentiles.js';

export interface HostDisksBenchOptions {
  imageMb: number;
  rounds: number;
  drives: number;
}

function memFetcher(bytes: Buffer): ImageFetcher {
  return {
    async fetch(_id, onChunk, expected) {
      const md5 = createHash('md5');
      for (let off = 0; off < bytes.length; off += HOST_CHUNK_BYTES) {
        const chunk = bytes.subarray(off, off + HOST_CHUNK_BYTES);
        md5.update(chunk);
        await onChunk(chunk);
      }
      if (expected?.checksum && md5.digest('hex') !== expected.checksum) throw new Error('checksum mismatch');
      return { sizeBytes: bytes.length };
    },
  };
}

async function fetchRounds(root: string, bytes: Buffer, diskFormat: string, rounds: number): Promise<Record<string, number>> {
  const checksum = createHash('md5').update(bytes).digest('hex');
  const mbps: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const dir = join(root, `${diskFormat}-${r}`);
    const cache = new ImageCache({ dir, fetcher: memFetcher(bytes) });
    const t0 = performance.now();
    await cache.acquire({ id: 'bench', diskFormat, properties: {}, sizeBytes: bytes.length, checksum }, 'vm');
    mbps.push(bytes.length / 2 ** 20 / ((performance.now() - t0) / 1000));
    await rm(dir, { recursive: true, force: true });
  }
  return { ...percentiles(mbps, [50]), min: Math.round(Math.min(...mbps)), max: Math.round(Math.max(...mbps)) };
}

export async function hostDisksBench(o: HostDisksBenchOptions): Promise<Record<string, unknown>> {
  const root = await mkdtemp(join(tmpdir(), 'novact-bench-disks-'));
  try {
    const size = o.imageMb * 2 ** 20;
    // Non-zero, incompressible-looking bytes; the qcow2 image is a qcow2 whose data fills `size`.
    const raw = Buffer.alloc(size);
    for (let i = 0; i < size; i += 4) raw.writeUInt32LE((i * 2654435761) >>> 0, i);
    await writeFile(join(root, 'src.raw'), raw);
    await run('qemu-img', ['convert', '-q', '-f', 'raw', '-O', 'qcow2', join(root, 'src.raw'), join(root, 'src.qcow2')]);
    const qcow2 = await readFile(join(root, 'src.qcow2'));

    const spec: GuestSpec = {
      uuid: '00000000-0000-4000-8000-000000000001', name: 'bench', vcpus: 1, memoryMb: 64, diskGb: 1,
      image: { id: 'i', diskFormat: 'raw', properties: {} }, hostname: 'bench', projectId: 'p',
      keyPair: { name: 'k', publicKey: 'ssh-ed25519 AAAA bench', type: 'ssh' },
      userData: Buffer.alloc(16 * 1024, 'x').toString('base64'), metadata: { a: 'b' },
    };
    const driveMs: number[] = [];
    for (let i = 0; i < o.drives; i++) {
      const t0 = performance.now();
      await buildConfigDrive(spec, join(root, 'disk.config'));
      driveMs.push(performance.now() - t0);
    }
    return {
      bench: 'host-disks',
      imageMb: o.imageMb,
      rounds: o.rounds,
      fetchRawMBps: await fetchRounds(root, raw, 'raw', o.rounds),
      fetchQcow2MBps: await fetchRounds(root, qcow2, 'qcow2', o.rounds),
      configDriveMs: { drives: o.drives, ...percentiles(driveMs, [50, 95]) },
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
