/**
 * Progress for long commands (multi-create, `--wait`, image upload and download): a bar redrawn in
 * place when stderr is a terminal, plain lines otherwise (a log or a pipe should get a few readable
 * lines, not carriage returns). It writes to stderr only, so `--json` output on stdout stays clean.
 * `--progress bar|plain|off` overrides the choice (`auto`, the default, asks the terminal).
 */
import cliProgress from 'cli-progress';
import type { Output } from './format.js';
import { UsageError, strOption, type CommandSpec, type Values } from './usage.js';

export type ProgressMode = 'bar' | 'plain' | 'off';
const MODES = ['auto', 'bar', 'plain', 'off'] as const;

export interface Progress {
  /** `done` of the total so far; `detail` says what is happening (`3 building`, a task state). */
  update(done: number, detail?: string): void;
  /** Ends the display; `line` is the last thing said (plain mode and after the bar). */
  stop(line?: string): void;
}

export interface ProgressSpec {
  /** What is being done: `create`, `upload cirros.img`. */
  label: string;
  total: number;
  unit: 'items' | 'bytes';
}

export function progressMode(values: Values, err: Output, spec: CommandSpec): ProgressMode {
  const v = strOption(values, 'progress') ?? 'auto';
  if (!(MODES as readonly string[]).includes(v)) throw new UsageError(`--progress must be one of ${MODES.join('|')}, got '${v}'`, spec);
  if (v !== 'auto') return v as ProgressMode;
  return err.tty ? 'bar' : 'plain';
}

export const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
const amount = (n: number, unit: ProgressSpec['unit']) => (unit === 'bytes' ? mib(n) : String(n));

/** Plain lines: one when the detail changes or another tenth of the work is done, so long runs stay short. */
function plainProgress(err: Output, p: ProgressSpec, now: () => number): Progress {
  const started = now();
  let lastTenth = -1;
  let lastDetail: string | undefined;
  const line = (done: number, detail?: string) => {
    const secs = ((now() - started) / 1000).toFixed(1);
    err.write(`${p.label}: ${amount(done, p.unit)}/${amount(p.total, p.unit)}${detail ? ` ${detail}` : ''} (${secs}s)\n`);
  };
  return {
    update(done, detail) {
      const tenth = p.total > 0 ? Math.floor((done / p.total) * 10) : 10;
      if (tenth === lastTenth && detail === lastDetail) return;
      lastTenth = tenth;
      lastDetail = detail;
      line(done, detail);
    },
    stop(last) {
      if (last !== undefined) err.write(`${p.label}: ${last}\n`);
    },
  };
}

function barProgress(tty: NodeJS.WriteStream, p: ProgressSpec): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream: tty,
      format: `${p.label} [{bar}] {percentage}% {shown} {detail}`,
      hideCursor: true,
      clearOnComplete: false,
      // Redraws at most 10 times a second however often chunks arrive.
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  const shown = (done: number) => `${amount(done, p.unit)}/${amount(p.total, p.unit)}`;
  bar.start(p.total, 0, { shown: shown(0), detail: '' });
  return {
    update(done, detail) {
      bar.update(done, { shown: shown(done), detail: detail ?? '' });
    },
    stop(last) {
      bar.stop();
      if (last !== undefined) tty.write(`${p.label}: ${last}\n`);
    },
  };
}

const silent: Progress = { update: () => undefined, stop: () => undefined };

export function startProgress(mode: ProgressMode, err: Output, p: ProgressSpec, now: () => number = Date.now): Progress {
  if (mode === 'off') return silent;
  // `--progress bar` where stderr is no terminal falls back to lines: a bar needs a cursor.
  if (mode === 'bar' && err.tty) return barProgress(err.tty, p);
  return plainProgress(err, p, now);
}
