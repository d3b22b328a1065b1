/** What each resource kind does beyond plain attributes: the table the role dispatches on. */
import type { NetCtx } from '../net-context.js';
import type { Attrs, NetRow } from '../net-state.js';

export interface KindOps {
  create(ctx: NetCtx, attrs: Attrs): NetRow;
  update(ctx: NetCtx, row: NetRow, attrs: Attrs): NetRow;
  remove(ctx: NetCtx, row: NetRow): void;
  /** Fields computed from other rows (a network's subnets, a group's rules), added to the stored ones. */
  computed?(ctx: NetCtx, row: NetRow): Attrs;
}
