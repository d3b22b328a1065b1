/**
 * The real `openstack` CLI (Debian's python3-openstackclient, installed by scripts/setup.sh) against
 * a test cluster's API: each command run as a user of a project, with a private HOME, and helpers
 * for a command that must succeed (`ok`) or answer `-f json` (`json`).
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Test } from 'tap';
import { ADMIN_PASSWORD } from './api-http.js';

const OPENSTACK = '/usr/bin/openstack';
// The python3 first on PATH may be another interpreter without Debian's modules.
const PYTHON = '/usr/bin/python3';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliUser {
  name: string;
  password: string;
  project: string;
}

const ADMIN: CliUser = { name: 'admin', password: ADMIN_PASSWORD, project: 'admin' };

export function openstackCli(t: Test, apiUrl: string) {
  if (!existsSync(OPENSTACK)) throw new Error(`${OPENSTACK} is missing: run scripts/setup.sh (it installs python3-openstackclient)`);
  const home = mkdtempSync(join(tmpdir(), 'novact-osc-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));

  const osc = (args: string[], user: CliUser = ADMIN): Promise<Run> => {
    const env = {
      PATH: '/usr/bin:/bin', HOME: home, OS_AUTH_URL: `${apiUrl}/v3`,
      OS_USERNAME: user.name, OS_PASSWORD: user.password, OS_PROJECT_NAME: user.project,
      OS_USER_DOMAIN_NAME: 'Default', OS_PROJECT_DOMAIN_NAME: 'Default', OS_IDENTITY_API_VERSION: '3',
    };
    return new Promise((resolve) => {
      execFile(PYTHON, [OPENSTACK, ...args], { env, timeout: 120_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  };
  const said = (args: string[], r: Run) => `openstack ${args.join(' ')}${r.code ? `: ${r.stderr.trim().split('\n').pop()}` : ''}`;
  return {
    /** The CLI's HOME: a private directory for files the commands read. */
    dir: home,
    osc,
    /** Runs a command that must succeed with `-f json` and answers its parsed output. */
    async json(t: Test, args: string[], user?: CliUser): Promise<any> {
      const r = await osc([...args, '-f', 'json'], user);
      t.equal(r.code, 0, said(args, r));
      return r.code === 0 ? JSON.parse(r.stdout) : undefined;
    },
    async ok(t: Test, args: string[], user?: CliUser): Promise<void> {
      const r = await osc(args, user);
      t.equal(r.code, 0, said(args, r));
    },
  };
}
