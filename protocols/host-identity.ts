/**
 * Who may be a host on the bus, as pure data: the shape of a host name and of a registration, the
 * inbox prefix of every NATS identity, and the exact subjects a host identity is allowed. The server
 * config (runtime/nats/nats-conf.ts) and the registrar (runtime/nats/host-registrar.ts) are built on these.
 */
import { Type, type Static } from '@sinclair/typebox';

/**
 * A host name: a subject token, and safe to write into a nats-server config without escaping (no
 * quotes, `$`, `#`, braces or spaces). DNS-label-like, as Nova's host names are.
 */
export const HOST_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$';
const HOST_NAME = new RegExp(HOST_NAME_PATTERN);
export const isValidHostName = (name: unknown): name is string => typeof name === 'string' && HOST_NAME.test(name);

/** An nkey user's public key ('U' and 55 base32 characters): all the server ever holds of a host. */
export const USER_PUBLIC_KEY_PATTERN = '^U[A-Z2-7]{55}$';

/** One registration carries at most this many hosts (a 10,000-host fleet is ~150 KB, well under max_payload). */
export const MAX_HOSTS_PER_REGISTRATION = 50_000;

export const HostRegistration = Type.Object(
  {
    publicKey: Type.String({ pattern: USER_PUBLIC_KEY_PATTERN }),
    hosts: Type.Array(Type.String({ pattern: HOST_NAME_PATTERN }), { minItems: 1, maxItems: MAX_HOSTS_PER_REGISTRATION }),
  },
  { additionalProperties: false },
);
export type HostRegistration = Static<typeof HostRegistration>;

/** The registrar's verb, on `<root>.admin.<verb>` (operators only: the `client` user). */
export const REGISTER_HOSTS_VERB = 'register-hosts';

/**
 * Each identity's private reply space: it may subscribe only below its own prefix, so nobody reads
 * another role's (or tenant's) replies. nats.js takes it as the `inboxPrefix` connection option.
 */
export const roleInboxPrefix = (role: string): string => `_INBOX_${role}`;
export const hostInboxPrefix = (publicKey: string): string => `_INBOX_${publicKey}`;

/** `any`: a fleet simulator trusted with every host name (tests and benchmarks only, never registered). */
export type HostSet = readonly string[] | 'any';

export interface Permissions {
  publish: string[];
  subscribe: string[];
}

/**
 * The image-data forms a host may publish, each ending in its own name: download any active image,
 * and upload a snapshot (begin, chunks, abort) that the image role checks was asked of this host.
 */
export function hostImageSubjects(root: string, host: string): string[] {
  return [
    `${root}.image.*.host-download.${host}`,
    `${root}.image.*.snapshot-begin.${host}`,
    `${root}.image.*.snapshot-abort.${host}`,
    `${root}.image.*.snapshot-chunk.*.${host}`,
  ];
}

/**
 * What a host identity may do: serve its hosts' requests and the compute role's `hosts` listing,
 * answer what it receives (allow_responses, set by the config), publish its hosts' reports and image-data
 * requests (hostImageSubjects), ask which of its own hosts' guests are live
 * (`conductor.host-guests.<host>`), and take part in the micro-service protocol as `novact-compute`
 * without being able to ask it (`$SRV` reflection).
 */
export function hostPermissions(root: string, hosts: HostSet, publicKey: string): Permissions {
  const names = hosts === 'any' ? ['*'] : hosts;
  return {
    // host-guests.<host>: the reaper's reconcile (which of its guests still have a live instance
    // there), for its own hosts only: the subject is what tells the conductor who asks. Reports (`*`) include power-sync.
    publish: names.flatMap((h) => [`${root}.report.host.${h}.*`, ...hostImageSubjects(root, h), `${root}.conductor.host-guests.${h}`]),
    subscribe: [
      ...names.map((h) => `${root}.host.${h}.*`),
      `${root}.compute.hosts`,
      '$SRV.*', '$SRV.*.novact-compute', '$SRV.*.novact-compute.*',
      `${hostInboxPrefix(publicKey)}.>`,
    ],
  };
}
