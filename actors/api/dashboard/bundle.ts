/**
 * The dashboard's built front end (Vite's output, `npm run build:dashboard`), served from memory: the
 * files are read once at startup into a fixed table keyed by URL path, so a request can only ever
 * name one of them (no path is joined onto the filesystem, so `..` or an encoded slash finds nothing).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the build lands: next to this file from sources, or beside the repository's from dist/. */
export const DASHBOARD_DIST = ['./ui/dist', '../../../../actors/api/dashboard/ui/dist']
  .map((p) => fileURLToPath(new URL(p, import.meta.url)))
  .find((p) => existsSync(p)) ?? fileURLToPath(new URL('./ui/dist', import.meta.url));

/** Media types by extension; a file of any other kind is left out of the table. */
const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

export interface BundleFile {
  body: Buffer;
  type: string;
  etag: string;
  /** Vite's hashed assets never change under their name; index.html must be revalidated. */
  immutable: boolean;
}

/** URL path (`/dashboard/…`) to file. */
export type Bundle = ReadonlyMap<string, BundleFile>;

export const MOUNT = '/dashboard';

/** Reads every servable file under `dir`; undefined when the build is missing (no index.html). */
export function loadBundle(dir: string): Bundle | undefined {
  if (!existsSync(join(dir, 'index.html'))) return undefined;
  const files = new Map<string, BundleFile>();
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) { walk(p); continue; }
      const type = TYPES[extname(name).toLowerCase()];
      if (type === undefined) continue;
      const body = readFileSync(p);
      const rel = relative(dir, p).split(sep).join('/');
      files.set(`${MOUNT}/${rel}`, {
        body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`, immutable: rel.startsWith('assets/'),
      });
    }
  };
  walk(dir);
  const index = files.get(`${MOUNT}/index.html`)!;
  files.set(MOUNT, index);
  files.set(`${MOUNT}/`, index);
  return files;
}

/** The page answered (503) when the front end was never built, saying how to build it. */
export const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>novact dashboard unavailable</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto">
<h1>The dashboard is not built</h1>
<p>This API server has no dashboard bundle. Build it with <code>npm run build:dashboard</code>
(<code>scripts/setup.sh</code> does) and restart the server.</p>
<p>The OpenStack APIs on this port are unaffected.</p>
</body></html>
`;
