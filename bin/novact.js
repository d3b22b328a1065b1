#!/usr/bin/env node
// Runs cli/main.ts through tsx, so `npx novact` works from a checkout without a build.
// Signals are relayed to the child; the child's exit code (or signal) becomes ours.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const main = fileURLToPath(new URL('../cli/main.ts', import.meta.url));
// tsx as resolved from this package (a bare `--import tsx` resolves from the working directory).
const tsx = import.meta.resolve('tsx');
const child = spawn(process.execPath, ['--import', tsx, main, ...process.argv.slice(2)], { stdio: 'inherit' });

const relay = (signal) => {
  if (child.exitCode === null && child.signalCode === null) child.kill(signal);
};
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, relay);

child.on('error', (err) => {
  process.stderr.write(`novact: cannot start node: ${err.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  if (signal) {
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.off(s, relay);
    process.kill(process.pid, signal);
  } else {
    process.exit(code ?? 1);
  }
});
