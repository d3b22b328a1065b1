/**
 * The NATS subject grammar, in one place. Every token is validated so a name can never inject a
 * wildcard or an extra level: tokens may not be empty or contain `.`, `*`, `>` or whitespace.
 *
 *   <root>.instance.<uuid>.<verb>          instance actors (answered by the conductor)
 *   <root>.host.<host>.<verb>              host actors
 *   <root>.image.<uuid>.<verb>             image actors
 *   <root>.image.<verb>                    image role (list, create)
 *   <root>.flavor.<verb>                   flavors (conductor)
 *   <root>.scheduler.<verb>                scheduler (queue group; `delta` is replica-to-replica)
 *   <root>.aggregate.<verb>                host aggregates and zones (scheduler)
 *   <root>.servergroup.<verb>              server groups (scheduler)
 *   <root>.conductor.<verb>                conductor (queue group)
 *   <root>.network.<kind>.<op>             network role (queue group): Neutron resources, instance ports
 *   <root>.report.host.<host>.<kind>       capacity / heartbeat / power-sync reports published by hosts
 *   <root>.evt.<kind>.<id>.<event…>        notifications published by owners
 *   <root>.admin.<verb>                    operator calls (host registration), answered by the NATS config owner
 */
import { BadRequestError } from './errors.js';

export const DEFAULT_ROOT = 'novact';

const BAD_TOKEN = /[.*>\s]/;

export function isValidToken(token: string): boolean {
  return token.length > 0 && token.length <= 255 && !BAD_TOKEN.test(token);
}

export function token(value: string, what = 'token'): string {
  if (typeof value !== 'string' || !isValidToken(value)) {
    throw new BadRequestError(`invalid ${what} for a subject: ${JSON.stringify(value)}`);
  }
  return value;
}

export type ReportKind = 'capacity' | 'heartbeat' | 'power-sync';

/** Builds subjects under one root, so several clusters can share a NATS account. */
export class Subjects {
  readonly root: string;

  constructor(root: string = DEFAULT_ROOT) {
    // The root may have several levels (`acme.novact`); each must be a valid token.
    root.split('.').forEach((t) => token(t, 'subject root'));
    this.root = root;
  }

  instance(uuid: string, verb: string): string {
    return `${this.root}.instance.${token(uuid, 'instance id')}.${token(verb, 'verb')}`;
  }
  host(host: string, verb: string): string {
    return `${this.root}.host.${token(host, 'host name')}.${token(verb, 'verb')}`;
  }
  image(uuid: string, verb: string): string {
    return `${this.root}.image.${token(uuid, 'image id')}.${token(verb, 'verb')}`;
  }
  imageRole(verb: string): string {
    return `${this.root}.image.${token(verb, 'verb')}`;
  }
  flavor(verb: string): string {
    return `${this.root}.flavor.${token(verb, 'verb')}`;
  }
  scheduler(verb: string): string {
    return `${this.root}.scheduler.${token(verb, 'verb')}`;
  }
  /** Host aggregates and availability zones (answered by the scheduler role). */
  aggregate(verb: string): string {
    return `${this.root}.aggregate.${token(verb, 'verb')}`;
  }
  /** Server groups (answered by the scheduler role). */
  serverGroup(verb: string): string {
    return `${this.root}.servergroup.${token(verb, 'verb')}`;
  }
  conductor(verb: string): string {
    return `${this.root}.conductor.${token(verb, 'verb')}`;
  }
  /** The network role: `kind` a Neutron resource (`network`, `port`, …) or `instance`. */
  network(kind: string, op: string): string {
    return `${this.root}.network.${token(kind, 'kind')}.${token(op, 'verb')}`;
  }
  get networkAll(): string { return `${this.root}.network.*.*`; }
  /** Operator-only calls (nats.conf lets only the client user publish them). */
  admin(verb: string): string {
    return `${this.root}.admin.${token(verb, 'verb')}`;
  }
  report(host: string, kind: ReportKind): string {
    return `${this.root}.report.host.${token(host, 'host name')}.${kind}`;
  }
  event(kind: string, id: string, ...event: string[]): string {
    if (event.length === 0) throw new BadRequestError('an event subject needs an event name');
    return [this.root, 'evt', token(kind, 'event kind'), token(id, 'event id'), ...event.map((e) => token(e, 'event'))].join('.');
  }

  // Wildcard patterns for subscribers.
  get allInstances(): string { return `${this.root}.instance.*.*`; }
  allHostVerbs(host: string): string { return `${this.root}.host.${token(host, 'host name')}.*`; }
  get allImages(): string { return `${this.root}.image.*.*`; }
  allReports(kind: ReportKind): string { return `${this.root}.report.host.*.${kind}`; }
  get allEvents(): string { return `${this.root}.evt.>`; }
  entityEvents(kind: string, id: string): string { return `${this.root}.evt.${token(kind, 'event kind')}.${token(id, 'event id')}.>`; }

  /** Splits `<root>.<kind>.<id>.<verb>` into id and verb; undefined if the subject does not match. */
  parseEntity(subject: string, kind: 'instance' | 'host' | 'image'): { id: string; verb: string } | undefined {
    const prefix = `${this.root}.${kind}.`;
    if (!subject.startsWith(prefix)) return undefined;
    const rest = subject.slice(prefix.length).split('.');
    if (rest.length !== 2) return undefined;
    const [id, verb] = rest as [string, string];
    return isValidToken(id) && isValidToken(verb) ? { id, verb } : undefined;
  }

  /** The host name inside a report subject. */
  parseReportHost(subject: string): string | undefined {
    if (!subject.startsWith(`${this.root}.`)) return undefined;
    const parts = subject.slice(this.root.length + 1).split('.');
    const host = parts[2];
    return parts.length === 4 && parts[0] === 'report' && parts[1] === 'host' && host !== undefined && isValidToken(host) ? host : undefined;
  }
}
