/**
 * A create or update body checked against the attribute table (resources.ts) the way Neutron's API
 * layer checks it: unknown attributes, read-only ones, missing required ones and values that fail
 * their check are a 400; admin-only ones set by a member are a 403. Defaults are filled at create.
 */
import { ATTRIBUTE_CHECKS } from './attribute-checks.js';
import { badInput, forbiddenBy } from './errors.js';
import { KINDS, type NetKind } from './resources.js';

export type Attrs = Record<string, unknown>;

function checked(kind: NetKind, body: Attrs, isAdmin: boolean, op: 'create' | 'update'): Attrs {
  const spec = KINDS[kind].attributes;
  const out: Attrs = {};
  const unknown = Object.keys(body).filter((k) => !(k in spec) && k !== 'tenant_id' && k !== 'id');
  if (unknown.length > 0) throw badInput(`Unrecognized attribute(s) '${unknown.join(', ')}'`);
  for (const [k, v] of Object.entries(body)) {
    if (k === 'tenant_id' || k === 'id') continue;
    const a = spec[k]!;
    if (op === 'create' ? !a.post : !a.put) {
      throw badInput(op === 'create' ? `Attribute '${k}' not allowed in POST` : `Cannot update read-only attribute ${k}`);
    }
    if (a.admin && !isAdmin) throw forbiddenBy(`${op}_${kind}:${k}`);
    const r = ATTRIBUTE_CHECKS[a.check](v);
    if ('error' in r) throw badInput(`Invalid input for ${k}. Reason: ${r.error}.`);
    out[k] = r.ok;
  }
  return out;
}

/** A create body: checked, `tenant_id` folded into `project_id`, defaults filled. */
export function parseCreate(kind: NetKind, body: unknown, isAdmin: boolean): Attrs {
  const b = objectBody(body, kind);
  const tenant = b.tenant_id;
  const out = checked(kind, b, isAdmin, 'create');
  if (tenant !== undefined) {
    if (typeof tenant !== 'string' || tenant.length > 64) throw badInput(`Invalid input for tenant_id. Reason: ${JSON.stringify(tenant)} is not a valid string.`);
    if (out.project_id !== undefined && out.project_id !== tenant) throw badInput('project_id and tenant_id do not match');
    out.project_id = tenant;
  }
  for (const [k, a] of Object.entries(KINDS[kind].attributes)) {
    if (a.required && out[k] === undefined) throw badInput(`Failed to parse request. Required attribute '${k}' not specified`);
    if (out[k] === undefined && a.default !== undefined) out[k] = structuredClone(a.default);
  }
  return out;
}

export function parseUpdate(kind: NetKind, body: unknown, isAdmin: boolean): Attrs {
  return checked(kind, objectBody(body, kind), isAdmin, 'update');
}

function objectBody(body: unknown, kind: NetKind): Attrs {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badInput(`Invalid input for ${kind}: a dictionary is expected`);
  return body as Attrs;
}
