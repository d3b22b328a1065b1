/**
 * Image commands: list, upload a file as a new image, download an image's data to a file. Upload and
 * download read and write a chunk at a time (an image need not fit in memory) and show their bytes
 * as they go; a download is verified against the image's checksums before it is kept.
 */
import { open, rename, rm, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { CLIENT_OPTIONS, print, withClient } from './commands.js';
import * as fmt from './format.js';
import { mib, progressMode, startProgress } from './progress.js';
import { UsageError, strOption, type CommandSpec, type RunContext } from './usage.js';

function command(action: string, args: string[], options: string[], synopsis: string, summary: string, run: (ctx: RunContext, spec: CommandSpec) => Promise<number>): CommandSpec {
  const spec: CommandSpec = { path: ['image', action], args, options: [...CLIENT_OPTIONS, ...options], synopsis, summary, run: (ctx) => run(ctx, spec) };
  return spec;
}

const list = command('list', [], [], '', 'list images', (ctx) => withClient(ctx, async (client) => {
  const images = await client.listImages();
  print(ctx, images, () => fmt.imageList(images));
  return 0;
}));

const upload = command('upload', ['FILE'], ['name', 'disk-format', 'container-format', 'progress'],
  'FILE [--name N] [--disk-format F] [--container-format C]', 'create an image from a file (raw/bare unless told)',
  async (ctx, spec) => {
    const path = ctx.args[0]!;
    const size = await stat(path).then((s) => (s.isFile() ? s.size : -1), () => -1);
    if (size < 0) throw new UsageError(`cannot read the file '${path}'`, spec);
    return withClient(ctx, async (client) => {
      const image = await client.createImage({
        name: strOption(ctx.values, 'name') ?? basename(path),
        diskFormat: strOption(ctx.values, 'disk-format') ?? 'raw',
        containerFormat: strOption(ctx.values, 'container-format') ?? 'bare',
      });
      const fh = await open(path, 'r');
      const bar = startProgress(progressMode(ctx.values, ctx.err, spec), ctx.err, { label: `upload ${basename(path)}`, total: size, unit: 'bytes' });
      try {
        const done = await client.uploadImageFrom(image.id, size, async (offset, length) => {
          const buf = Buffer.alloc(length);
          const { bytesRead } = await fh.read(buf, 0, length, offset);
          return buf.subarray(0, bytesRead);
        }, { onProgress: (bytes) => bar.update(bytes) });
        bar.stop(`${mib(size)} uploaded`);
        print(ctx, done, () => fmt.imageList([done]));
        return 0;
      } catch (err) {
        bar.stop();
        // Glance leaves a failed upload's image queued; a CLI user asked for an image, not a husk.
        await client.deleteImage(image.id).catch(() => undefined);
        throw err;
      } finally {
        await fh.close();
      }
    });
  });

const download = command('download', ['ID'], ['file', 'progress'], 'ID --file PATH', "save an image's data to a file, verified against its checksums",
  (ctx, spec) => {
    const path = strOption(ctx.values, 'file');
    if (!path) throw new UsageError('image download needs --file PATH', spec);
    return withClient(ctx, async (client) => {
      const id = ctx.args[0]!;
      // Written beside the target and renamed once verified: a failed download leaves no file that looks whole.
      const part = `${path}.part`;
      const fh = await open(part, 'w');
      let bar = startProgress('off', ctx.err, { label: '', total: 0, unit: 'bytes' });
      try {
        const image = await client.downloadImage(id, async (chunk) => {
          await fh.write(chunk);
        }, {
          onStart: (meta) => (bar = startProgress(progressMode(ctx.values, ctx.err, spec), ctx.err, { label: `download ${meta.name}`, total: meta.sizeBytes, unit: 'bytes' })),
          onProgress: (bytes) => bar.update(bytes),
        });
        await fh.close();
        await rename(part, path);
        bar.stop(`${mib(image.sizeBytes)} saved`);
        const saved = { id: image.id, file: path, sizeBytes: image.sizeBytes, checksum: image.checksum, osHashValue: image.osHashValue };
        print(ctx, saved, () => `${path}: ${image.sizeBytes} bytes of image ${image.id}, checksums verified\n`);
        return 0;
      } catch (err) {
        bar.stop();
        await fh.close().catch(() => undefined);
        await rm(part, { force: true });
        throw err;
      }
    });
  });

export const IMAGE_COMMANDS: CommandSpec[] = [list, upload, download];
