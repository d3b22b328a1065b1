/**
 * Neutron's errors: a status and a `type` (its exception class name) that clients read from the
 * `NeutronError` body. They cross NATS as novact errors with the type in `details.type`, so the
 * REST layer answers `{"NeutronError": {"type", "message", "detail"}}` exactly as Neutron would.
 */
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError, NovactError } from '../errors.js';
import type { NetKind } from './resources.js';

export const badInput = (message: string, type = 'HTTPBadRequest') => new BadRequestError(message, { type });
export const inConflict = (message: string, type: string) => new ConflictError(message, { type });
export const forbiddenBy = (rule: string) => Object.assign(new ForbiddenError(`(rule:${rule}) is disallowed by policy`), { details: { type: 'PolicyNotAuthorized' } });

const NOT_FOUND: Record<NetKind, [type: string, what: string]> = {
  network: ['NetworkNotFound', 'Network'],
  subnet: ['SubnetNotFound', 'Subnet'],
  port: ['PortNotFound', 'Port'],
  security_group: ['SecurityGroupNotFound', 'Security group'],
  security_group_rule: ['SecurityGroupRuleNotFound', 'Security group rule'],
  floatingip: ['FloatingIPNotFound', 'Floating IP'],
  router: ['RouterNotFound', 'Router'],
};

export function notFoundOf(kind: NetKind, id: string): NovactError {
  const [type, what] = NOT_FOUND[kind];
  const e = new NotFoundError(`${what} ${id} could not be found.`);
  return Object.assign(e, { details: { type } });
}

/** The Neutron type of an error, by its details or else by its status. */
export function neutronType(err: NovactError | { code: number; details?: Record<string, unknown> }): string {
  const t = err.details?.type;
  if (typeof t === 'string') return t;
  return ({ 400: 'HTTPBadRequest', 401: 'HTTPUnauthorized', 403: 'HTTPForbidden', 404: 'HTTPNotFound', 405: 'HTTPMethodNotAllowed', 409: 'HTTPConflict', 413: 'HTTPRequestEntityTooLarge', 415: 'HTTPUnsupportedMediaType' } as Record<number, string>)[err.code] ?? 'HTTPInternalServerError';
}
