/**
 * What a server's fault (and an instance action's message) may tell whom. Nova records a foreign
 * exception's class name rather than its text and shows a 500 fault's details only to admins; a
 * novact fault message may quote a driver, a NATS subject or a host name, so a non-admin sees a
 * 500 fault only as the scheduler's "no valid host" (which is theirs to know) or as a generic text.
 * Admins see the message as recorded.
 */
import type { AuthContext } from '../context.js';
import { UNEXPECTED_MESSAGE } from '../faults.js';

const NO_VALID_HOST = 'No valid host was found. There are not enough hosts available.';

export function visibleFaultMessage(auth: AuthContext, code: number, message: string): string {
  if (auth.isAdmin || code < 500) return message;
  return /No valid host was found/i.test(message) ? NO_VALID_HOST : UNEXPECTED_MESSAGE;
}
