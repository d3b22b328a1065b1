/**
 * What a guest is built with besides its flavor and image, on the row: user data, config drive and
 * the key pair's copy (Nova's `user_data`, `config_drive`, `key_name`/`key_data` and the key's type
 * from instance_extra). Set by a build; a rebuild may replace the user data (2.57) and the key (2.54).
 */
import { BadRequestError } from '../../protocols/errors.js';
import type { BuildRequest } from '../../protocols/messages.js';
import { decodeBase64, MAX_USER_DATA_LENGTH } from '../../protocols/user-data.js';
import { oneOf, optBool, optStr } from '../../protocols/validate.js';
import type { InstanceRow } from '../../runtime/db/entities/index.js';

/** The row's guest-data columns (written together: a rebuild computes all four from the row). */
export type GuestFields = Pick<InstanceRow, 'userData' | 'keyName' | 'keyData' | 'keyType'>;

const KEY_TYPES = ['ssh', 'x509'] as const;
const MAX_KEY = 16_384;

function userData(o: Record<string, unknown>, key: string): string | undefined {
  const v = optStr(o, key, { min: 0, max: MAX_USER_DATA_LENGTH });
  if (v !== undefined && decodeBase64(v) === undefined) throw new BadRequestError(`'${key}' is not base64`);
  return v;
}

/** The build's guest data: a key's copy only with its name. */
export function parseGuestData(o: Record<string, unknown>): Partial<BuildRequest> {
  const out: Partial<BuildRequest> = {};
  const data = userData(o, 'userData');
  if (data !== undefined) out.userData = data;
  const configDrive = optBool(o, 'configDrive');
  if (configDrive !== undefined) out.configDrive = configDrive;
  const keyData = optStr(o, 'keyData', { max: MAX_KEY });
  if (keyData !== undefined) {
    if (o.keyName === undefined || o.keyName === null) throw new BadRequestError("'keyData' needs 'keyName'");
    out.keyData = keyData;
    out.keyType = oneOf(o, 'keyType', KEY_TYPES, 'ssh');
  }
  return out;
}

/**
 * A rebuild's guest data, or undefined when it changes none: `user_data` replaces the user data
 * (null clears it); `key_name` replaces the key with `keyPair` (the API's copy of the caller's key
 * pair of that name), null removes it (Nova's `compute.api.rebuild`).
 */
export function rebuildGuestData(row: InstanceRow, args: Record<string, unknown> | null): GuestFields | undefined {
  if (!args || (!('user_data' in args) && !('key_name' in args))) return undefined;
  const out: GuestFields = { userData: row.userData ?? null, keyName: row.keyName, keyData: row.keyData ?? null, keyType: row.keyType ?? null };
  if ('user_data' in args) out.userData = userData(args, 'user_data') ?? null;
  if ('key_name' in args) {
    const name = optStr(args, 'key_name');
    if (name === undefined) Object.assign(out, { keyName: null, keyData: null, keyType: null });
    else {
      const k = args.keyPair as { publicKey?: unknown; type?: unknown } | undefined;
      if (!k) throw new BadRequestError("'key_name' needs 'keyPair' (the key pair's public key and type)");
      Object.assign(out, { keyName: name, keyData: str(k.publicKey, 'keyPair.publicKey'), keyType: oneOf({ t: k.type }, 't', KEY_TYPES) });
    }
  }
  return out;
}

function str(v: unknown, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > MAX_KEY) throw new BadRequestError(`'${what}' must be 1-${MAX_KEY} characters`);
  return v;
}
