/**
 * The closed error hierarchy of novact. Every failure that crosses a boundary (NATS reply, CLI exit,
 * library call) is one of these, carrying an HTTP status, the OpenStack fault name used in REST bodies
 * (`{"itemNotFound": {"code": 404, "message": …}}`) and whether a retry may succeed.
 * Foreign errors (nact timeouts, SQLSTATEs, driver failures) are translated where they enter.
 */

export type FaultName =
  | 'badRequest'
  | 'unauthorized'
  | 'forbidden'
  | 'itemNotFound'
  | 'conflictingRequest'
  | 'overLimit'
  | 'noValidHost'
  | 'computeFault'
  | 'serviceUnavailable'
  | 'timeout';

/** The wire form of an error, inside a NATS error reply. */
export interface WireError {
  fault: FaultName;
  code: number;
  message: string;
  retryable: boolean;
  details?: Record<string, unknown>;
}

export class NovactError extends Error {
  readonly fault: FaultName;
  readonly code: number;
  readonly retryable: boolean;
  readonly details?: Record<string, unknown>;

  constructor(fault: FaultName, code: number, message: string, retryable = false, details?: Record<string, unknown>) {
    super(message);
    this.name = new.target.name;
    this.fault = fault;
    this.code = code;
    this.retryable = retryable;
    if (details !== undefined) this.details = details;
  }

  toWire(): WireError {
    const w: WireError = { fault: this.fault, code: this.code, message: this.message, retryable: this.retryable };
    if (this.details !== undefined) w.details = this.details;
    return w;
  }

  /** The OpenStack fault body for REST answers. */
  toFaultBody(): Record<string, { code: number; message: string }> {
    return { [this.fault === 'timeout' || this.fault === 'noValidHost' ? 'computeFault' : this.fault]: { code: this.code, message: this.message } };
  }
}

export class BadRequestError extends NovactError {
  constructor(message: string, details?: Record<string, unknown>) { super('badRequest', 400, message, false, details); }
}
export class ForbiddenError extends NovactError {
  constructor(message: string) { super('forbidden', 403, message); }
}
export class NotFoundError extends NovactError {
  constructor(message: string) { super('itemNotFound', 404, message); }
}
export class ConflictError extends NovactError {
  constructor(message: string, details?: Record<string, unknown>) { super('conflictingRequest', 409, message, false, details); }
}
export class OverLimitError extends NovactError {
  constructor(message: string) { super('overLimit', 413, message); }
}
/** The scheduler found no host; `details.filters` says which filter removed how many hosts. */
export class NoValidHostError extends NovactError {
  constructor(message: string, details?: Record<string, unknown>) { super('noValidHost', 500, message, false, details); }
}
export class InternalError extends NovactError {
  constructor(message: string, retryable = false) { super('computeFault', 500, message, retryable); }
}
export class UnavailableError extends NovactError {
  constructor(message: string) { super('serviceUnavailable', 503, message, true); }
}
export class TimeoutError extends NovactError {
  constructor(message: string) { super('timeout', 504, message, true); }
}

const byFault: Record<FaultName, (m: string, d?: Record<string, unknown>, retryable?: boolean) => NovactError> = {
  badRequest: (m, d) => new BadRequestError(m, d),
  unauthorized: (m) => new NovactError('unauthorized', 401, m),
  forbidden: (m) => new ForbiddenError(m),
  itemNotFound: (m) => new NotFoundError(m),
  conflictingRequest: (m, d) => new ConflictError(m, d),
  overLimit: (m) => new OverLimitError(m),
  noValidHost: (m, d) => new NoValidHostError(m, d),
  computeFault: (m, _d, retryable) => new InternalError(m, retryable),
  serviceUnavailable: (m) => new UnavailableError(m),
  timeout: (m) => new TimeoutError(m),
};

/** Rebuild a typed error from its wire form; unknown faults become `InternalError`. */
export function fromWire(w: WireError): NovactError {
  // Own keys only: a fault named e.g. 'toString' must not reach Object.prototype.
  const make = Object.hasOwn(byFault, w.fault) ? byFault[w.fault] : undefined;
  if (!make) return new InternalError(w.message ?? 'unknown error');
  const e = make(w.message, w.details, w.retryable);
  if (e.retryable !== w.retryable) return new NovactError(e.fault, e.code, e.message, w.retryable, w.details);
  // Classes whose constructor takes no details (not found, forbidden, over limit) still carry the
  // sender's: Neutron's exception type rides in them (protocols/network/errors.ts).
  return w.details !== undefined && e.details === undefined ? Object.assign(e, { details: w.details }) : e;
}

/** Anything thrown, as a NovactError (foreign errors become a non-retryable computeFault). */
export function asNovactError(err: unknown): NovactError {
  if (err instanceof NovactError) return err;
  const db = databaseLimitError(err);
  if (db) return db;
  const message = err instanceof Error ? err.message : String(err);
  return isTransientIoError(err) ? new UnavailableError(message) : new InternalError(message);
}

/**
 * The database's own limits, answered without the statement's text: SQLSTATE 57014 (query_canceled:
 * `statement_timeout` cut it off) and a full connection pool. Both are load, so a later retry may pass.
 */
function databaseLimitError(err: unknown): NovactError | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  if ((err as { code?: unknown }).code === '57014') return new UnavailableError('A database statement took too long and was cancelled; try again later.');
  const message = (err as { message?: unknown }).message;
  if (typeof message === 'string' && message.startsWith('Knex: Timeout acquiring a connection')) return new UnavailableError('The database is busy; try again later.');
  return undefined;
}

/** Socket errors that a reconnect cures. */
const TRANSIENT_NET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTCONN']);

/**
 * A dependency that is down or restarting (the database, a socket), as opposed to a bug: callers may
 * retry. SQLSTATE class 08 is "connection exception"; 57P01–57P03 are a server shutting down,
 * crashing or still starting ("the database system is not yet accepting connections").
 */
export function isTransientIoError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (TRANSIENT_NET_CODES.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code))) return true;
  const message = (err as { message?: unknown }).message;
  return typeof message === 'string' && /^Connection terminated|Connection ended unexpectedly/.test(message);
}
