/**
 * Puts novact's tiny test guest (runtime/services/test-image.ts) into the image service as Nova's
 * AMI triple: a kernel (aki), a ramdisk (ari) and a root disk (qcow2) whose `kernel_id`,
 * `ramdisk_id` and `os_command_line` properties make a libvirt host boot it directly. Idempotent by
 * name: active images of those names are reused, so a restarted `up` with a kept data dir uploads
 * nothing.
 */
import { readFile } from 'node:fs/promises';
import type { NovactClient } from './client.js';
import { testImage } from '../runtime/services/test-image.js';

export const TEST_IMAGE_NAME = 'novact-tiny';

type Image = Awaited<ReturnType<NovactClient['createImage']>>;

async function ensure(client: NovactClient, existing: Image[], name: string, path: string, format: string, container: string, properties: Record<string, string> = {}): Promise<Image> {
  const found = existing.find((i) => i.name === name && i.status === 'active');
  if (found) return found;
  const image = await client.createImage({ name, diskFormat: format, containerFormat: container, visibility: 'public', properties });
  return client.uploadImage(image.id, await readFile(path), { timeoutMs: 60_000 });
}

/** The root disk image to boot (`novact-tiny`), after its kernel and ramdisk. */
export async function seedTestImage(client: NovactClient): Promise<Image> {
  const built = await testImage();
  const files = built.manifest.files;
  const existing = await client.listImages();
  // The unpacked kernel boots ≈10 s sooner under TCG than the bzImage (no decompression in the guest).
  const kernel = await ensure(client, existing, `${TEST_IMAGE_NAME}-kernel`, built.pvhKernel, files.pvhKernel.diskFormat, files.pvhKernel.containerFormat);
  const ramdisk = await ensure(client, existing, `${TEST_IMAGE_NAME}-ramdisk`, built.ramdisk, files.ramdisk.diskFormat, files.ramdisk.containerFormat);
  return ensure(client, existing, TEST_IMAGE_NAME, built.disk, files.disk.diskFormat, files.disk.containerFormat, {
    kernel_id: kernel.id, ramdisk_id: ramdisk.id, os_command_line: built.manifest.osCommandLine,
  });
}
