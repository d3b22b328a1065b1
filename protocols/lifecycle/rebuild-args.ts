/**
 * Argument schemas of the rebuild / rescue / password / crash-dump / console rows (Nova's request
 * schemas: `servers.py` rebuild, `rescue.py`, `admin_password.py`, `console_output.py`). Unknown
 * fields are refused (Nova's additionalProperties: false).
 */
import { Type } from '@sinclair/typebox';
import { Closed, MetadataMap, Name, NonEmptyName, Opt, Uuid } from '../catalog/common.js';
import { MAX_USER_DATA_LENGTH } from '../user-data.js';

/** The image reference the API resolved to an image id (a URL's last segment). */
export const RebuildArgs = Closed({
  imageRef: NonEmptyName(512),
  name: Type.Optional(NonEmptyName(255)),
  metadata: Type.Optional(MetadataMap({ maxProperties: 1000 })),
  adminPass: Type.Optional(Name(255)),
  preserve_ephemeral: Type.Optional(Type.Boolean()),
  'OS-DCF:diskConfig': Type.Optional(Type.Union([Type.Literal('AUTO'), Type.Literal('MANUAL')])),
  accessIPv4: Type.Optional(Name(64)),
  accessIPv6: Type.Optional(Name(64)),
  // 2.19, 2.54, 2.57, 2.90 (the API refuses them below their microversion).
  description: Opt(Name(255)),
  key_name: Opt(NonEmptyName(255)),
  user_data: Opt(Type.String({ maxLength: MAX_USER_DATA_LENGTH })),
  hostname: Type.Optional(NonEmptyName(63)),
  /** Not a REST field: the API's copy of the caller's key pair named by a string `key_name` (Nova copies it at rebuild). */
  keyPair: Type.Optional(Closed({ publicKey: Type.String({ minLength: 1, maxLength: 16_384 }), type: Type.Union([Type.Literal('ssh'), Type.Literal('x509')]) })),
});

export const RescueArgs = Type.Union([
  Type.Null(),
  Closed({ adminPass: Type.Optional(Name(255)), rescue_image_ref: Type.Optional(Uuid) }),
]);

export const ChangePasswordArgs = Closed({ adminPass: NonEmptyName(255) });

/** Nova's `trigger_crash_dump` takes exactly null. */
export const CrashDumpArgs = Type.Null();

/** `length`: the last N lines (an integer or a string of one); null or negative: all of it. */
export const ConsoleOutputArgs = Closed({
  length: Opt(Type.Union([Type.Integer({ minimum: -1 }), Type.String({ pattern: '^-?[0-9]+$', maxLength: 20 })])),
});

/** The most lines a host returns (the host verb's bound); a longer tail is the whole log anyway. */
export const MAX_CONSOLE_LINES = 10_000;

/** The host `console` body for a console-output request. */
export function consoleLines(a: { length?: number | string | null }): Record<string, unknown> {
  if (a.length === undefined || a.length === null) return {};
  const n = typeof a.length === 'number' ? a.length : Number.parseInt(a.length, 10);
  return n < 0 ? {} : { lines: Math.min(n, MAX_CONSOLE_LINES) };
}
