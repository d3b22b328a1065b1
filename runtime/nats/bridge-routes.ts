/**
 * How a served request's verb is checked, as data: whether it mutates (needs an idempotency key)
 * and its body schema. One route per serving style: legacy options, one catalog definition, a family.
 */
import type { TSchema } from '@sinclair/typebox';
import type { TypeCheck } from '@sinclair/typebox/compiler';
import type { RequestDef, RequestFamily } from '../../protocols/catalog/define.js';
import type { ServeOptions } from './bridge-types.js';

/** undefined: an unknown verb (answered 400). */
export type Route = (verb: string) => { mutating: boolean; body?: TypeCheck<TSchema> | undefined } | undefined;

export function legacyRoute(opts: ServeOptions): Route {
  const body = opts.body;
  return (verb) => ({ mutating: opts.isMutating(verb), body });
}

export function defRoute(def: RequestDef): Route {
  const r = { mutating: def.mutating, body: def.checkBody };
  return () => r;
}

export function familyRoute(family: RequestFamily): Route {
  const routes = new Map(Object.values(family.verbs).map((d) => [d.verb, { mutating: d.mutating, body: d.checkBody }]));
  return (verb) => routes.get(verb);
}
