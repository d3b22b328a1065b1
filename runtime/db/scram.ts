/**
 * A SCRAM-SHA-256 password verifier in PostgreSQL's stored form, computed here (as psql's
 * `\password` does) so `CREATE/ALTER ROLE … PASSWORD` never carries the password itself: a failed
 * statement is logged by the server with its text, and a verifier in a log is no login.
 */
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';

const ITERATIONS = 4096; // PostgreSQL's default scram_iterations

/** `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>` (base64), for an ASCII password. */
export function scramVerifier(password: string, salt: Buffer, iterations = ITERATIONS): string {
  const salted = pbkdf2Sync(password, salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}
