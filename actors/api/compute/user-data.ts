/**
 * Nova's checks of `user_data` (create, and rebuild from 2.57) and `config_drive`, with Nova's
 * wording: its jsonschema `base64` format (Python's lenient `b64decode`, protocols/user-data.ts)
 * and `maxLength` 65535, whose errors echo the value.
 */
import { decodeBase64, MAX_USER_DATA_LENGTH } from '../../../protocols/user-data.js';
import { badRequest } from '../faults.js';

const ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** Python's `repr` of a str, as jsonschema's messages print it (quotes chosen as Python does). */
export function pyRepr(s: string): string {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = '';
  for (const c of s) {
    const code = c.codePointAt(0)!;
    if (ESCAPES[c]) out += ESCAPES[c];
    else if (c === q) out += `\\${q}`;
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0)) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += c;
  }
  return `${q}${out}${q}`;
}

/** A 400 unless `value` is what Nova's schema accepts for `user_data` (the format is checked first, as jsonschema reports it). */
export function checkUserData(value: string): void {
  const fail = (why: string) => badRequest(`Invalid input for field/attribute user_data. Value: ${value}. ${pyRepr(value)} ${why}`);
  if (decodeBase64(value) === undefined) throw fail("is not a 'base64'");
  if (value.length > MAX_USER_DATA_LENGTH) throw fail('is too long');
}

/** Nova's `parameter_types.boolean` strings (the schema admits only these) and what they mean. */
const TRUE = ['True', 'TRUE', 'true', '1', 'ON', 'On', 'on', 'YES', 'Yes', 'yes'];
const FALSE = ['False', 'FALSE', 'false', '0', 'OFF', 'Off', 'off', 'NO', 'No', 'no'];
export const BOOLEAN_SCHEMA = { type: ['boolean', 'string'], enum: [true, ...TRUE, false, ...FALSE] } as const;

/** `config_drive` as Nova's `_check_config_drive` reads it (`strutils.bool_from_string`, strict). */
export const configDriveOf = (v: boolean | string | undefined): boolean => v === true || (typeof v === 'string' && TRUE.includes(v));
