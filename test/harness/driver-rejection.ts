/** The DriverError a promise rejects with (anything else rethrown); throws when it resolves. */
import { DriverError } from '../../hosts/driver.js';

export async function rejection(p: Promise<unknown>): Promise<DriverError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof DriverError) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}
