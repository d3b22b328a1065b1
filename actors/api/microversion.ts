/**
 * Compute API microversions. A request names one with `OpenStack-API-Version: compute 2.N` (or the
 * legacy `X-OpenStack-Nova-API-Version: 2.N`; `latest` means the maximum); without one it gets 2.1.
 * Responses echo both headers and `Vary` on them, so caches keep versions apart. A malformed version
 * is a 400, one outside [min, max] a 406 (Nova's InvalidAPIVersionString / InvalidGlobalAPIVersion).
 */
import { ApiError } from './faults.js';

export interface Microversion {
  readonly major: number;
  readonly minor: number;
}

export const MIN_VERSION: Microversion = { major: 2, minor: 1 };
export const MAX_VERSION: Microversion = { major: 2, minor: 90 };

export const VERSION_HEADER = 'openstack-api-version';
export const LEGACY_HEADER = 'x-openstack-nova-api-version';

export function formatVersion(v: Microversion): string {
  return `${v.major}.${v.minor}`;
}

function compare(a: Microversion, b: Microversion): number {
  return a.major - b.major || a.minor - b.minor;
}

/** True when `v` is at least `2.N` (the way Nova gates a change: `api_version_request >= '2.N'`). */
export function atLeast(v: Microversion, minor: number): boolean {
  return compare(v, { major: 2, minor }) >= 0;
}

function parse(text: string): Microversion {
  const s = text.trim();
  if (s.toLowerCase() === 'latest') return MAX_VERSION;
  const m = /^([1-9]\d{0,2})\.(0|[1-9]\d{0,3})$/.exec(s);
  if (!m) throw new ApiError(400, `API Version String ${s} is of invalid format. Must be of format MajorNum.MinorNum.`);
  const v = { major: Number(m[1]), minor: Number(m[2]) };
  if (compare(v, MIN_VERSION) < 0 || compare(v, MAX_VERSION) > 0) {
    throw new ApiError(406, `Version ${s} is not supported by the API. Minimum is ${formatVersion(MIN_VERSION)} and maximum is ${formatVersion(MAX_VERSION)}.`);
  }
  return v;
}

/** The compute version a request asks for. `headers` are Node's lower-cased request headers. */
export function requestedVersion(headers: Record<string, string | string[] | undefined>): Microversion {
  const one = (h: string | string[] | undefined) => (Array.isArray(h) ? h.join(',') : h);
  const modern = one(headers[VERSION_HEADER]);
  if (modern !== undefined) {
    // `compute 2.47, image 2.5`: only the compute entry matters here; none at all means the default.
    for (const part of modern.split(',')) {
      const [service, version, ...rest] = part.trim().split(/\s+/);
      if (service?.toLowerCase() !== 'compute') continue;
      if (version === undefined || rest.length > 0) throw new ApiError(400, `Invalid OpenStack-API-Version header: '${part.trim()}'`);
      return parse(version);
    }
    return MIN_VERSION;
  }
  const legacy = one(headers[LEGACY_HEADER]);
  return legacy !== undefined ? parse(legacy) : MIN_VERSION;
}

/** The headers every compute response carries. */
export function versionHeaders(v: Microversion): Record<string, string> {
  const s = formatVersion(v);
  return {
    'OpenStack-API-Version': `compute ${s}`,
    'X-OpenStack-Nova-API-Version': s,
    Vary: 'OpenStack-API-Version, X-OpenStack-Nova-API-Version',
  };
}
