/**
 * The scheduler's bus: its request endpoints (queue group `scheduler`: one replica answers each),
 * and the reports, deltas and catalog events every replica hears. Bodies are validated against the
 * catalog before these run (a 400, or dropped and counted for fire-and-forget messages: C3).
 */
import type { Static } from '@sinclair/typebox';
import type { ClaimReply, SelectBatchReply, SelectReply } from '../../protocols/messages.js';
import {
  Claim as ClaimDef, ConfirmMove, DeltaMsg, ForgetHost, MoveClaim, Release, RevertMove, SchedulerGet, Select, SelectBatch,
} from '../../protocols/catalog/scheduler.js';
import { CapacityReportMsg, HeartbeatMsg } from '../../protocols/catalog/reports.js';
import { AggregateEvent, ServerGroupEvent, ServiceDeleteEvent, ServiceEvent } from '../../protocols/catalog/events.js';
import type { ReplyTo } from '../../runtime/actors/reply.js';
import { errorFields } from '../../runtime/log/logger.js';
import type { RoleContext } from '../../runtime/role.js';
import type { Bridge } from '../../runtime/nats/bridge.js';
import { serveCatalog } from './catalog-endpoints.js';
import { normaliseBatch, normaliseSelect } from './select-request.js';
import type { Msg, SchedulerCore } from './scheduler-msg.js';

type Service = Awaited<ReturnType<Bridge['addService']>>;
export type Ask = <R>(make: (reply: ReplyTo<R>) => Msg) => Promise<R>;

export function serveScheduler(ctx: RoleContext, svc: Service, core: SchedulerCore, ask: Ask): void {
  const { bridge } = ctx;
  const opts = { queue: 'scheduler' };
  bridge.endpoint(svc, Select, (body, { envelope }) =>
    ask<SelectReply>((reply) => ({ kind: 'select', req: normaliseSelect(body), reply, tries: 0, deadline: envelope.deadline })), opts);
  bridge.endpoint(svc, SelectBatch, (body) => {
    const reqs = normaliseBatch(body);
    return ask<SelectBatchReply>((reply) => ({ kind: 'selectBatch', reqs, reply, tries: 0 }));
  }, opts);
  bridge.endpoint(svc, ClaimDef, (body) => {
    const req = { ...body, instanceUuid: body.instanceUuid.toLowerCase() };
    return ask<ClaimReply>((reply) => ({ kind: 'claim', req, reply }));
  }, opts);
  bridge.endpoint(svc, Release, (body) => {
    const consumer = body.instanceUuid.toLowerCase();
    return ask<{ released: number }>((reply) => ({ kind: 'release', consumer, reply }));
  }, opts);
  // Move allocations (moves.ts); confirming a move is releasing its migration consumer.
  bridge.endpoint(svc, MoveClaim, (body) => {
    const req = { ...body, instanceUuid: body.instanceUuid.toLowerCase(), migrationUuid: body.migrationUuid.toLowerCase(), ...(body.group ? { group: body.group.toLowerCase() } : {}) };
    return ask<{ host: string }>((reply) => ({ kind: 'run', fn: () => core.moves.claim(req, reply) }));
  }, opts);
  bridge.endpoint(svc, RevertMove, (body) => {
    const req = { instanceUuid: body.instanceUuid.toLowerCase(), migrationUuid: body.migrationUuid.toLowerCase() };
    return ask<{ host: string | null }>((reply) => ({ kind: 'run', fn: () => core.moves.revert(req, reply) }));
  }, opts);
  bridge.endpoint(svc, ConfirmMove, (body) => {
    const consumer = body.migrationUuid.toLowerCase();
    return ask<{ released: number }>((reply) => ({ kind: 'release', consumer, reply }));
  }, opts);
  bridge.endpoint(svc, SchedulerGet, () => ask<Static<typeof SchedulerGet.reply>>((reply) => ({ kind: 'get', reply })), opts);
  bridge.endpoint(svc, ForgetHost, (body) => ask<{ host: string }>((reply) => ({ kind: 'forget', host: body.host, reply })), opts);
  serveCatalog(ctx, svc, core.catalog, core.replica, (hosts) => core.tell({ kind: 'catalog', hosts }));
  hearBroadcasts(ctx, core);
}

/**
 * Every replica needs every report, delta and catalog change: no queue group here. A report's host
 * must be its subject's; what does not fit is dropped and counted by the bridge (C3).
 */
function hearBroadcasts(ctx: RoleContext, core: SchedulerCore): void {
  const { bridge, clock, log } = ctx;
  bridge.on(CapacityReportMsg, (report) => core.tell({ kind: 'report', report, at: clock.now() }));
  // Liveness is applied at once, not queued behind a backlog of selects: under overload a host must
  // not look dead just because the scheduler is busy (decisions are synchronous, so this is safe).
  // The receiver's clock decides liveness, never the sender's `sentAt` (C4).
  // A heartbeat sent as a request is answered with the host's lease (host-liveness.ts).
  bridge.on(HeartbeatMsg, (hb, _subject, reply) => core.liveness.heard(hb.host, reply));
  bridge.on(DeltaMsg, (delta) => {
    if (delta.replica !== core.replica) core.tell({ kind: 'delta', delta });
  });
  const onCatalogEvent = (e: { replica: string }) => {
    if (e.replica === core.replica) return;
    core.catalog.load().then(
      () => core.tell({ kind: 'catalog', hosts: undefined }),
      (err) => log.error('catalog reload failed', errorFields(err)),
    );
  };
  bridge.on(AggregateEvent, onCatalogEvent);
  bridge.on(ServerGroupEvent, onCatalogEvent);
  // os-services disable/enable/force-down, announced by the conductor: ComputeFilter follows.
  bridge.on(ServiceEvent, ({ service }) => {
    core.tell({ kind: 'service', host: service.host, enabled: service.status === 'enabled' && service.forcedDown !== true });
  });
  // A deleted compute service (os-services DELETE): the other replicas forget the host too.
  bridge.on(ServiceDeleteEvent, ({ service }) => core.tell({ kind: 'forget', host: service.host }));
}
