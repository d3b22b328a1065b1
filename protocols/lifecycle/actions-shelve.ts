/**
 * The shelve family's rows of the action table (Nova's `shelve`, `shelve_offload`, `unshelve`;
 * guards from `@check_instance_state` in nova/compute/api.py, AZ 2.77 and host 2.91 on unshelve).
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Closed, Name, SubjectToken } from '../catalog/common.js';
import type { VmState } from '../states.js';
import type { ActionSpec } from './action-spec.js';
import { IDLE, type Guard } from './kit.js';

const NoArgs = Type.Union([Type.Null(), Closed({})]);
/** `{"unshelve": null}`, or a zone (null: any zone, 2.91) and, for admins, a host (2.91). */
export const UnshelveArgs = Type.Union([
  Type.Null(),
  Closed({ availability_zone: Type.Optional(Type.Union([Name(255), Type.Null()])), host: Type.Optional(SubjectToken) }),
]);
export type UnshelveArgs = Static<typeof UnshelveArgs>;

const define = <A extends TSchema>(spec: ActionSpec<A>): ActionSpec<A> => spec;
const idle = (...vm: VmState[]): Guard => ({ vm, task: IDLE });
/** Nova: a zone or host can only be given to a shelved-offloaded server (it is scheduled again). */
const placed = (a: UnshelveArgs) => a !== null && (a.host !== undefined || a.availability_zone !== undefined);

export const SHELVE_ACTIONS = {
  shelve: define({
    api: 'shelve', nova: 'shelve', record: 'shelve', event: 'shelve', args: NoArgs, status: 202,
    guard: idle('active', 'stopped', 'paused', 'suspended'), begins: 'shelving',
  }),
  shelveOffload: define({
    api: 'shelveOffload', nova: 'shelve_offload', record: 'shelveOffload', event: 'shelve_offload', args: NoArgs, status: 202,
    guard: idle('shelved'), begins: 'shelving_offloading',
  }),
  unshelve: define({
    api: 'unshelve', nova: 'unshelve', record: 'unshelve', event: 'unshelve', args: UnshelveArgs, status: 202,
    guard: (a) => (placed(a) ? idle('shelved_offloaded') : idle('shelved', 'shelved_offloaded')),
    adminIf: (a) => a !== null && a.host !== undefined,
    argsMinVersion: (a) => (a === null ? undefined : a.host !== undefined || a.availability_zone === null ? 91 : a.availability_zone !== undefined ? 77 : undefined),
    begins: 'unshelving', hostless: true,
    // Where to place it (zone, host) is read by the unshelving step.
    context: (a) => (a ? { args: a } : {}),
  }),
};
