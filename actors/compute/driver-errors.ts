/** Translates driver failures into novact's typed errors where they leave the host actor. */
import { BadRequestError, ConflictError, InternalError, NotFoundError, NovactError, TimeoutError, UnavailableError } from '../../protocols/errors.js';
import { DriverError } from '../../hosts/driver.js';

export function fromDriverError(err: unknown, host: string): NovactError {
  if (err instanceof NovactError) return err;
  if (!(err instanceof DriverError)) return new InternalError(`host ${host}: ${err instanceof Error ? err.message : String(err)}`, true);
  switch (err.kind) {
    case 'not-found':
      return new NotFoundError(`host ${host}: ${err.message}`);
    case 'invalid-state':
    case 'insufficient-resources':
      return new ConflictError(`host ${host}: ${err.message}`);
    case 'closed':
    case 'aborted':
      return new UnavailableError(`host ${host}: ${err.message}`);
    case 'timeout':
      return new TimeoutError(`host ${host}: ${err.message}`);
    case 'unsupported':
      return new BadRequestError(`host ${host}: ${err.message}`);
    default:
      return new InternalError(`host ${host}: ${err.message}`, err.retryable);
  }
}
