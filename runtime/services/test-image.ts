/**
 * novact's tiny test guest (a Debian kernel, as a bzImage and unpacked, a busybox initramfs that prints the config drive to the
 * serial console, a blank qcow2 root disk), built by scripts/test-image.sh into
 * `$NOVACT_TEST_IMAGE_DIR` (default `~/.cache/novact/test-image-<recipe>`, the script's sha256 cut
 * to 12 digits: checkouts of different recipes never rebuild over each other). The script is idempotent and
 * returns at once when its own build is there, so it runs on every first call: a fresh machine, or
 * a changed recipe, gets a build.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { launch } from './child-process.js';

const ImageFile = Type.Object({
  name: Type.String(),
  size: Type.Integer({ minimum: 1 }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  md5: Type.String({ pattern: '^[0-9a-f]{32}$' }),
  /** Glance's disk_format / container_format for it (aki, ari; qcow2, bare). */
  diskFormat: Type.String(),
  containerFormat: Type.String(),
});

export const TestImageManifest = Type.Object({
  /** sha256 of the script that built it. */
  recipe: Type.String(),
  kernelVersion: Type.String(),
  kernelPackage: Type.String(),
  /** Glance's `os_command_line` for the disk image: the console is the serial port. */
  osCommandLine: Type.String(),
  /** Bytes. */
  diskVirtualSize: Type.Integer({ minimum: 1 }),
  /** The modules /init loads, in order. */
  modules: Type.Array(Type.String()),
  files: Type.Object({ kernel: ImageFile, pvhKernel: ImageFile, ramdisk: ImageFile, disk: ImageFile }),
});
export type TestImageManifest = Static<typeof TestImageManifest>;
const checkManifest = TypeCompiler.Compile(TestImageManifest);

export interface TestImage {
  dir: string;
  /** Absolute paths. `kernel` is Debian's bzImage (vmlinuz). */
  kernel: string;
  /**
   * The same kernel uncompressed (an ELF vmlinux, 8 times larger), which QEMU boots through its PVH
   * entry: under TCG it reaches its first line ~10 s sooner, skipping the bzImage's xz unpacking.
   */
  pvhKernel: string;
  ramdisk: string;
  disk: string;
  manifest: TestImageManifest;
}

const SCRIPT = fileURLToPath(new URL('../../scripts/test-image.sh', import.meta.url));
// A fresh build downloads a ~70 MB kernel package and runs depmod: about half a minute here.
const BUILD_TIMEOUT_MS = 10 * 60_000;

export function testImageDir(): string {
  const recipe = createHash('sha256').update(readFileSync(SCRIPT)).digest('hex').slice(0, 12);
  return process.env.NOVACT_TEST_IMAGE_DIR ?? join(homedir(), '.cache', 'novact', `test-image-${recipe}`);
}

async function build(dir: string): Promise<void> {
  const run = launch('bash', [SCRIPT], { env: { ...process.env, NOVACT_TEST_IMAGE_DIR: dir } });
  const timer = setTimeout(() => run.child.kill('SIGKILL'), BUILD_TIMEOUT_MS);
  await run.exited;
  clearTimeout(timer);
  if (run.child.exitCode !== 0) {
    const how = run.child.signalCode ? `was killed (${run.child.signalCode}; bound ${BUILD_TIMEOUT_MS} ms)` : `exited ${run.child.exitCode}`;
    throw new Error(`${SCRIPT} ${how}\n--- output ---\n${run.output()}`);
  }
}

async function load(dir: string): Promise<TestImage> {
  await build(dir);
  const path = join(dir, 'manifest.json');
  const manifest: unknown = JSON.parse(await readFile(path, 'utf8'));
  if (!checkManifest.Check(manifest)) {
    const first = [...checkManifest.Errors(manifest)][0];
    throw new Error(`${path}: not a test image manifest (${first?.path ?? ''} ${first?.message ?? ''})`);
  }
  const { kernel, pvhKernel, ramdisk, disk } = manifest.files;
  const at = (f: { name: string }): string => join(dir, f.name);
  return { dir, kernel: at(kernel), pvhKernel: at(pvhKernel), ramdisk: at(ramdisk), disk: at(disk), manifest };
}

const loaded = new Map<string, Promise<TestImage>>();

/** The built image, building it first when it is missing (one build per dir per process). */
export function testImage(): Promise<TestImage> {
  const dir = testImageDir();
  let image = loaded.get(dir);
  if (!image) {
    image = load(dir);
    loaded.set(dir, image);
    image.catch(() => loaded.delete(dir)); // A failed build may be retried.
  }
  return image;
}
