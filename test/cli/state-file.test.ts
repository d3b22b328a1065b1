/**
 * Review L6: the state file tells clients and `--join` which NATS and database to trust, so a file or
 * directory another local user planted, or could swap, is refused; the temp file it is written through
 * has a random name and is opened O_EXCL|O_NOFOLLOW.
 */
import t from 'tap';
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readState, writeState, type ClusterState } from '../../cli/state-file.js';

const root = await mkdtemp(join(tmpdir(), 'novact-statefile-'));
t.teardown(() => rm(root, { recursive: true, force: true }));
const state: ClusterState = { natsUrl: 'nats://127.0.0.1:4222', subjectRoot: 'novact', pid: process.pid };
const uid = process.getuid!();
// Another user's uid: as root we give planted files to `nobody`; as anyone else, /etc is root's.
const other = uid === 0 ? 65534 : 0;
let n = 0;
/** A directory (with a cluster.json pointing elsewhere) that belongs to `other`. */
function plantedDir(): string {
  if (uid !== 0) return '/etc';
  const dir = fresh();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify({ ...state, natsUrl: 'nats://attacker:4222' }));
  chownSync(join(dir, 'cluster.json'), other, other);
  chownSync(dir, other, other);
  return dir;
}
const fresh = (name = 'novact') => join(root, `case-${++n}`, name);

t.test('writes into a new 0700 directory, file 0600, and reads it back', async (t) => {
  const dir = fresh();
  writeState(join(dir, 'cluster.json'), state);
  t.equal(statSync(dir).mode & 0o777, 0o700);
  t.equal(statSync(join(dir, 'cluster.json')).mode & 0o777, 0o600);
  t.same(readState(join(dir, 'cluster.json')), state);
  t.same(readdirSync(dir), ['cluster.json'], 'no temp file left behind');
});

t.test("novact's own directory, ours but too open, is made 0700", async (t) => {
  const dir = fresh();
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o777);
  writeState(join(dir, 'cluster.json'), state);
  t.equal(statSync(dir).mode & 0o777, 0o700);
});

t.test('a directory others may write (not named by novact) is refused, its mode left alone', async (t) => {
  const dir = fresh('elsewhere');
  mkdirSync(dir, { recursive: true });
  chmodSync(dir, 0o777);
  t.throws(() => writeState(join(dir, 'cluster.json'), state), /refusing the state file at .*others may write its directory/);
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify(state), { mode: 0o600 });
  t.throws(() => readState(join(dir, 'cluster.json')), /others may write its directory/);
  t.equal(statSync(dir).mode & 0o777, 0o777);
});

t.test('a planted directory owned by someone else is refused, for writing and for reading', async (t) => {
  const dir = plantedDir();
  const file = join(dir, uid === 0 ? 'cluster.json' : 'hostname');
  const before = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  t.throws(() => writeState(file, state), new RegExp(`its directory is owned by uid ${other}, not by you \\(uid ${uid}\\)`));
  t.throws(() => readState(file), new RegExp(`owned by uid ${other}`));
  t.equal(existsSync(file) ? readFileSync(file, 'utf8') : undefined, before, 'nothing written there');
});

t.test('a planted file owned by someone else in our directory is refused', async (t) => {
  // Without root a file cannot be given away (nor hard-linked, with protected_hardlinks): the case
  // needs root, which is how the suite runs; otherwise /etc/hostname is refused by its directory.
  let file = '/etc/hostname';
  if (uid === 0) {
    const dir = fresh();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    file = join(dir, 'cluster.json');
    writeFileSync(file, JSON.stringify(state));
    chownSync(file, other, other);
  }
  t.throws(() => readState(file), new RegExp(`owned by uid ${other}`));
});

t.test('a symlinked directory or file is never followed', async (t) => {
  const target = join(root, `target-${++n}`);
  mkdirSync(target, { mode: 0o700 });
  const link = fresh();
  mkdirSync(join(link, '..'), { recursive: true });
  symlinkSync(target, link);
  t.throws(() => writeState(join(link, 'cluster.json'), state), /directory is a symbolic link/);
  t.notOk(existsSync(join(target, 'cluster.json')), 'nothing written through the link');

  const dir = fresh();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const elsewhere = join(root, `victim-${n}.json`);
  writeFileSync(elsewhere, JSON.stringify(state));
  symlinkSync(elsewhere, join(dir, 'cluster.json'));
  t.throws(() => readState(join(dir, 'cluster.json')), /is a symbolic link/);
  writeState(join(dir, 'cluster.json'), { ...state, subjectRoot: 'mine' });
  t.ok(lstatSync(join(dir, 'cluster.json')).isFile(), 'writing replaces the link by a file (rename), not through it');
  t.same(JSON.parse(readFileSync(elsewhere, 'utf8')), state, 'the link target is untouched');
});

t.test('a file others may write is refused; a missing one is no state', async (t) => {
  const dir = fresh();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify(state));
  chmodSync(join(dir, 'cluster.json'), 0o666);
  t.throws(() => readState(join(dir, 'cluster.json')), /others may write it/);
  t.equal(readState(join(dir, 'missing.json')), undefined);
});
