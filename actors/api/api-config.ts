/**
 * The api role's options as an embedder gives them (`ClusterOptions.api`), resolved into a full
 * configuration. The bootstrap admin's password comes from the options, else `NOVACT_ADMIN_PASSWORD`,
 * else it is generated (and reported, so `novact up` can print it once).
 */
import { randomBytes } from 'node:crypto';
import { DEFAULT_API_CONFIG, type ApiConfig } from './api-role.js';
import type { HttpTimeouts } from './app.js';
import type { QuotaLimits } from './compute/quota-store.js';
import type { BucketConfig } from './identity/login-limiter.js';
import type { ScryptParams } from './identity/passwords.js';
import type { PasswordPolicy } from './identity/password-policy.js';
import type { ImageQuotas } from './deps.js';
import type { TokenConfig } from './identity/tokens.js';
import type { FeedOptions } from './dashboard/event-feed.js';

export interface ApiOptions {
  host?: string;
  /** 0 (the default) picks a free port; `novact up` asks for 8774. */
  port?: number;
  publicUrl?: string;
  adminPassword?: string;
  bodyLimitBytes?: number;
  imageSizeCapBytes?: number;
  /** Per-project image quotas (defaults: 100 images, 100 GiB). */
  imageQuotas?: Partial<ImageQuotas>;
  token?: Partial<TokenConfig>;
  quotaDefaults?: Partial<QuotaLimits>;
  /** HTTP request, header, connection and keep-alive timeouts. */
  http?: Partial<HttpTimeouts>;
  /** Login rate limits per source address and per user (token buckets). */
  loginLimits?: { perSource?: Partial<BucketConfig>; perUser?: Partial<BucketConfig>; maxKeys?: number };
  /** Rules new passwords must meet (minimum length). */
  passwordPolicy?: Partial<PasswordPolicy>;
  /** scrypt cost for new password hashes (default OWASP's N=2^17, r=8, p=1); old hashes keep theirs. */
  passwordHash?: Partial<ScryptParams>;
  /** The dashboard: its built front end's folder (default: the package's) and the live feed's limits. */
  dashboard?: { dir?: string; feed?: Partial<FeedOptions> };
  /** Glance's `property_protection_file`: the rules file (property-protections-roles.conf syntax); none: no protections. */
  imagePropertyProtections?: string;
}

export function resolveApiConfig(o: ApiOptions = {}, env: NodeJS.ProcessEnv = process.env): { config: ApiConfig; passwordGenerated: boolean } {
  const given = o.adminPassword ?? (env.NOVACT_ADMIN_PASSWORD || undefined);
  const config: ApiConfig = {
    ...DEFAULT_API_CONFIG,
    adminPassword: given ?? randomBytes(12).toString('base64url'),
    token: { ...DEFAULT_API_CONFIG.token, ...o.token },
    imageQuotas: { ...DEFAULT_API_CONFIG.imageQuotas, ...o.imageQuotas },
    quotaDefaults: { ...DEFAULT_API_CONFIG.quotaDefaults, ...o.quotaDefaults },
    http: { ...DEFAULT_API_CONFIG.http, ...o.http },
    loginLimits: {
      perSource: { ...DEFAULT_API_CONFIG.loginLimits.perSource, ...o.loginLimits?.perSource },
      perUser: { ...DEFAULT_API_CONFIG.loginLimits.perUser, ...o.loginLimits?.perUser },
      maxKeys: o.loginLimits?.maxKeys ?? DEFAULT_API_CONFIG.loginLimits.maxKeys,
    },
    passwordPolicy: { ...DEFAULT_API_CONFIG.passwordPolicy, ...o.passwordPolicy },
    passwordHash: { ...DEFAULT_API_CONFIG.passwordHash, ...o.passwordHash },
    dashboard: { dir: o.dashboard?.dir ?? DEFAULT_API_CONFIG.dashboard.dir, feed: { ...DEFAULT_API_CONFIG.dashboard.feed, ...o.dashboard?.feed } },
  };
  for (const k of ['host', 'port', 'publicUrl', 'bodyLimitBytes', 'imageSizeCapBytes', 'imagePropertyProtections'] as const) {
    if (o[k] !== undefined) Object.assign(config, { [k]: o[k] });
  }
  return { config, passwordGenerated: given === undefined };
}
