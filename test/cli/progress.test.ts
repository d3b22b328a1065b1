/**
 * Progress for long commands: plain lines when stderr is not a terminal (a tenth of the work or a
 * new state per line), a bar redrawn in place on a terminal (run under `script`, a real pty),
 * nothing with `--progress off`; and the commands that show it: multi-create with `--wait`, image
 * upload and a verified download.
 */
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ServerView } from '../../protocols/messages.js';
import type { ImageMeta } from '../../protocols/resources.js';
import { progressMode, startProgress } from '../../cli/progress.js';
import { UsageError, type CommandSpec } from '../../cli/usage.js';
import { cliFixture, MAIN, ROOT } from './run-novact.js';

const spec = { path: ['x'], args: [], options: [], synopsis: '', summary: '', run: async () => 0 } satisfies CommandSpec;

t.test('plain lines: one per tenth of the work or per new detail, with the elapsed time', async (t) => {
  const lines: string[] = [];
  let now = 0;
  const p = startProgress('plain', { write: (s) => void lines.push(s) }, { label: 'create', total: 100, unit: 'items' }, () => now);
  for (let i = 0; i <= 100; i++) {
    now = i * 10;
    p.update(i, i < 52 ? 'building' : 'settling');
  }
  p.stop('done');
  t.equal(lines.length, 13, 'eleven tenths, one change of detail, the last word');
  t.equal(lines[0], 'create: 0/100 building (0.0s)\n');
  t.equal(lines[5], 'create: 50/100 building (0.5s)\n');
  t.equal(lines[6], 'create: 52/100 settling (0.5s)\n', 'a new detail is a line of its own');
  t.equal(lines[11], 'create: 100/100 settling (1.0s)\n');
  t.equal(lines[12], 'create: done\n');
  const bytes: string[] = [];
  const b = startProgress('plain', { write: (s) => void bytes.push(s) }, { label: 'upload', total: 3 * 1024 * 1024, unit: 'bytes' }, () => 0);
  b.update(1024 * 1024);
  t.same(bytes, ['upload: 1.0 MiB/3.0 MiB (0.0s)\n'], 'bytes in MiB');
});

t.test('the mode: auto asks the terminal, off is silent, anything else is a usage error', async (t) => {
  const tty = process.stderr as NodeJS.WriteStream;
  t.equal(progressMode({}, { write: () => undefined }, spec), 'plain');
  t.equal(progressMode({}, { write: () => undefined, tty }, spec), 'bar');
  t.equal(progressMode({ progress: 'plain' }, { write: () => undefined, tty }, spec), 'plain');
  t.throws(() => progressMode({ progress: 'fancy' }, { write: () => undefined }, spec), UsageError);
  const lines: string[] = [];
  const off = startProgress('off', { write: (s) => void lines.push(s) }, { label: 'x', total: 1, unit: 'items' });
  off.update(1, 'y');
  off.stop('z');
  t.same(lines, [], 'off writes nothing');
  const fallback = startProgress('bar', { write: (s) => void lines.push(s) }, { label: 'x', total: 1, unit: 'items' }, () => 0);
  fallback.update(1);
  t.same(lines, ['x: 1/1 (0.0s)\n'], 'a bar asked for where there is no terminal falls back to lines');
});

const { cluster, dir, imageName, novact } = await cliFixture(t);

t.test('multi-create with --wait: one progress line per tenth, every server ACTIVE on stdout', async (t) => {
  const r = await novact(['server', 'create', '--flavor', 'm1.tiny', '--image', imageName, '--name', 'many', '--count', '3', '--wait', '--json']);
  t.equal(r.code, 0, r.stderr);
  const servers = JSON.parse(r.stdout) as ServerView[];
  t.equal(servers.length, 3);
  t.ok(servers.every((s) => s.status === 'ACTIVE' && s.taskState === null), 'all ACTIVE');
  t.match(r.stderr, /^create: 0\/3 /m, 'the start');
  t.match(r.stderr, /^create: 3\/3 3 active, 0 error, 0 building \(\d+\.\ds\)$/m, 'the end');
  const quiet = await novact(['server', 'create', '--flavor', 'm1.tiny', '--image', imageName, '--count', '2', '--wait', '--progress', 'off', '--json']);
  t.equal(quiet.code, 0);
  t.equal(quiet.stderr, '', '--progress off says nothing');
  const tooMany = await novact(['server', 'create', '--flavor', 'm1.tiny', '--image', imageName, '--count', '101']);
  t.equal(tooMany.code, 2);
  t.match(tooMany.stderr, /--count is at most 100/);
  for (const s of [...servers, ...(JSON.parse(quiet.stdout) as ServerView[])]) await cluster.client.deleteServer(s.id);
});

t.test('a single --wait shows each state it passes through', async (t) => {
  const r = await novact(['server', 'create', '--flavor', 'm1.tiny', '--image', imageName, '--wait', '--json']);
  t.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout) as ServerView;
  t.match(r.stderr, new RegExp(`^server ${s.id}: 1/1 ACTIVE `, 'm'), 'the last state seen');
  const stopped = await novact(['server', 'stop', s.id, '--wait']);
  t.match(stopped.stderr, new RegExp(`^server ${s.id}: 1/1 SHUTOFF `, 'm'));
  await cluster.client.deleteServer(s.id);
});

t.test('image upload and download: bytes as they go, the same bytes back, verified', async (t) => {
  const file = join(dir, 'disk.raw');
  const data = Buffer.alloc(1536 * 1024 + 7);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 9)) & 0xff;
  writeFileSync(file, data);
  const up = await novact(['image', 'upload', file, '--name', 'uploaded', '--json']);
  t.equal(up.code, 0, up.stderr);
  const image = JSON.parse(up.stdout) as ImageMeta;
  t.match(image, { name: 'uploaded', status: 'active', sizeBytes: data.length, diskFormat: 'raw', containerFormat: 'bare' });
  t.match(up.stderr, /^upload disk\.raw: 0\.5 MiB\/1\.5 MiB /m, 'a line per chunk of this size');
  t.match(up.stderr, /^upload disk\.raw: 1\.5 MiB uploaded$/m);

  const out = join(dir, 'back.raw');
  const down = await novact(['image', 'download', image.id, '--file', out]);
  t.equal(down.code, 0, down.stderr);
  t.ok(readFileSync(out).equals(data), 'the same bytes');
  t.match(down.stdout, new RegExp(`back\\.raw: ${data.length} bytes of image ${image.id}, checksums verified`));
  t.match(down.stderr, /^download uploaded: 1\.5 MiB saved$/m);

  const queued = await cluster.client.createImage({ name: 'empty', diskFormat: 'raw', containerFormat: 'bare' });
  const none = join(dir, 'none.raw');
  const fail = await novact(['image', 'download', queued.id, '--file', none]);
  t.equal(fail.code, 1);
  t.match(fail.stderr, /has no data to download/);
  t.notOk(existsSync(none) || existsSync(`${none}.part`), 'no file is left behind');
  const missing = await novact(['image', 'upload', join(dir, 'absent.raw')]);
  t.equal(missing.code, 2);
  t.match(missing.stderr, /cannot read the file/);
});

t.test('on a terminal: a bar redrawn in place', async (t) => {
  // `script` gives the CLI a real pseudo-terminal for stderr, as a user's shell would.
  const cmd = [process.execPath, '--import', 'tsx', MAIN, 'server', 'create', '--flavor', 'm1.tiny', '--image', imageName, '--count', '2', '--wait', '--json']
    .map((a) => `'${a}'`).join(' ');
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn('script', ['-qefc', cmd, '/dev/null'], { cwd: ROOT, env: { ...process.env, NATS_URL: cluster.natsUrl, NOVACT_STATE_FILE: join(dir, 'absent.json'), COLUMNS: '120' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    child.stdout.on('data', (d: Buffer) => (text += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`exit ${code}: ${text}`))));
  });
  t.match(output, /create \[[\u2588\u2591]+\] 100% 2\/2 2 active/, 'the bar, full at the end');
  t.match(output, /\u001b\[\?25l/, 'the cursor is hidden while it draws');
  t.notMatch(output, /^create: 0\/2/m, 'no plain lines on a terminal');
});
