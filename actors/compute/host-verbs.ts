/**
 * The verbs a host answers, run against its driver: one row per verb (its catalog definition and
 * what it does), so adding an operation is adding a row. An operation is started here and not
 * awaited by the host actor: builds on one host run concurrently, as Nova's do. Bodies were checked
 * against the catalog by the router; the row's schema is checked again here, so a caller inside the
 * process cannot skip it.
 */
import type { Static, TSchema } from '@sinclair/typebox';
import { BadRequestError, NovactError, UnavailableError } from '../../protocols/errors.js';
import {
  HostAbortIncoming, HostAbortLiveMigration, HostConfirmMigration, HostConsole, HostCrashDump, HostDestroy, HostDiagnostics,
  HostFinishIncoming, HostFinishMigration, HostFinishRevert, HostGet, HostLiveMigrate, HostMigrateOut, HostPower,
  HostPrepareIncoming, HostRebuild, HostRescue, HostRevertMigration, HostSetPassword, HostSnapshot, HostSpawn, HostUnrescue,
  type GuestReply, type HostPowerOp, type HostView,
} from '../../protocols/catalog/host.js';
import { firstError, type RequestDef } from '../../protocols/catalog/define.js';
import { PowerState } from '../../protocols/states.js';
import { DriverError, type CallOptions, type GuestInfo, type GuestSpec, type HypervisorDriver, type ImageDataSink } from '../../hosts/driver.js';
import type { HostRecord } from './host-record.js';
import { traced } from '../../runtime/trace/tracing.js';

/** What a verb may need besides the host's record. */
export interface HostVerbDeps {
  /** Where a snapshot's bytes go: the image role's data for `imageId` (absent: snapshots are refused). */
  snapshotSink?: (imageId: string, host: string) => ImageDataSink;
}

interface Row<D extends RequestDef> {
  def: D;
  run(rec: HostRecord, body: Static<D['body']>, opts: CallOptions, deps: HostVerbDeps): Promise<unknown>;
}
const row = <B extends TSchema, R extends TSchema>(def: RequestDef<B, R>, run: Row<RequestDef<B, R>>['run']): Row<RequestDef> =>
  ({ def, run } as unknown as Row<RequestDef>);

type SpecBody = Static<typeof HostSpawn.body>['guest'];
const withoutNulls = <T extends object>(o: T): { [K in keyof T]: Exclude<T[K], null> } =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== null && v !== undefined)) as { [K in keyof T]: Exclude<T[K], null> };
/** The catalog lets callers omit or null optional fields; the driver gets them dropped, and the image's format and properties filled. */
const toSpec = (g: SpecBody): GuestSpec => {
  const image = withoutNulls(g.image);
  return { ...withoutNulls(g), image: { ...image, diskFormat: image.diskFormat ?? 'raw', properties: image.properties ?? {} } };
};
const guest = (p: Promise<GuestInfo>): Promise<GuestReply> => p.then((g) => ({ guest: g }));
const empty = (p: Promise<unknown>): Promise<Record<string, never>> => p.then(() => ({}));

/** Where each power op lands, and how the driver does it. Stop and start that already hold succeed (retries converge). */
const POWER: Record<HostPowerOp, { target?: PowerState; call(d: HypervisorDriver, uuid: string, o: CallOptions): Promise<GuestInfo> }> = {
  stop: { target: PowerState.SHUTDOWN, call: (d, u, o) => d.powerOff(u, o) },
  start: { target: PowerState.RUNNING, call: (d, u, o) => d.powerOn(u, o) },
  reboot_soft: { call: (d, u, o) => d.reboot(u, false, o) },
  reboot_hard: { call: (d, u, o) => d.reboot(u, true, o) },
  pause: { target: PowerState.PAUSED, call: (d, u, o) => d.pause(u, o) },
  unpause: { call: (d, u, o) => d.unpause(u, o) },
  suspend: { target: PowerState.SUSPENDED, call: (d, u, o) => d.suspend(u, o) },
  resume: { call: (d, u, o) => d.resume(u, o) },
};

async function power(d: HypervisorDriver, uuid: string, op: HostPowerOp, o: CallOptions): Promise<GuestInfo> {
  const p = POWER[op];
  const g = p.target === undefined ? undefined : await d.getGuest(uuid);
  if (g && g.powerState === p.target) return g;
  return p.call(d, uuid, o);
}

function spawn(rec: HostRecord, spec: GuestSpec, o: CallOptions): Promise<GuestReply> {
  (rec.spawning ??= new Set()).add(spec.uuid);
  return traced('driver spawn', () => ({ 'openstack.instance_uuid': spec.uuid, 'novact.host': rec.name }), () => rec.driver.spawn(spec, o)).then(
    (g): GuestReply => {
      rec.failedBuilds = 0;
      return { guest: g };
    },
    (err: unknown) => {
      rec.failedBuilds++;
      throw err;
    },
  ).finally(() => rec.spawning?.delete(spec.uuid));
}

const ROWS: readonly Row<RequestDef>[] = [
  row(HostGet, (rec) => Promise.all([rec.driver.hostInfo(), rec.driver.usage(), rec.driver.listGuests()]).then(
    ([info, usage, guests]): HostView => ({ host: rec.name, info, usage, guests, enabled: true, reportSeq: rec.seq }))),
  row(HostSpawn, (rec, b, o) => spawn(rec, toSpec(b.guest), o)),
  row(HostDestroy, (rec, b, o) => empty(rec.driver.destroy(b.uuid, o))),
  row(HostPower, (rec, b, o) => guest(power(rec.driver, b.uuid, b.op, o))),
  row(HostConsole, (rec, b, o) => rec.driver.consoleOutput(b.uuid, b.lines ?? undefined, o).then((output) => ({ output }))),
  row(HostDiagnostics, (rec, b, o) => rec.driver.diagnostics(b.uuid, o).then((diagnostics) => ({ diagnostics }))),
  row(HostCrashDump, (rec, b, o) => empty(rec.driver.triggerCrashDump(b.uuid, o))),
  row(HostSetPassword, (rec, b, o) => empty(rec.driver.setAdminPassword(b.uuid, b.password, o))),
  row(HostRescue, (rec, b, o) => guest(rec.driver.rescue(b.uuid, b.rescueImage, b.adminPass, o))),
  row(HostUnrescue, (rec, b, o) => guest(rec.driver.unrescue(b.uuid, o))),
  row(HostRebuild, (rec, b, o) => guest(rec.driver.rebuild(toSpec(b.guest), o))),
  row(HostMigrateOut, (rec, b, o) => guest(rec.driver.migrateOut(b.uuid, { host: b.dest.host, uri: b.dest.uri ?? undefined }, o))),
  row(HostFinishMigration, (rec, b, o) => guest(rec.driver.finishMigration(toSpec(b.guest), b.powerOn, o))),
  row(HostConfirmMigration, (rec, b, o) => empty(rec.driver.confirmMigration(b.uuid, o))),
  row(HostRevertMigration, (rec, b, o) => empty(rec.driver.revertMigration(b.uuid, o))),
  row(HostFinishRevert, (rec, b, o) => guest(rec.driver.finishRevertMigration(b.uuid, b.powerOn, o))),
  row(HostPrepareIncoming, (rec, b, o) => empty(rec.driver.prepareIncoming(toSpec(b.guest), o))),
  row(HostLiveMigrate, (rec, b, o) => empty(rec.driver.liveMigrate(b.uuid, { host: b.dest.host, uri: b.dest.uri ?? undefined }, o))),
  row(HostAbortLiveMigration, (rec, b, o) => empty(rec.driver.abortLiveMigration(b.uuid, o))),
  row(HostFinishIncoming, (rec, b, o) => guest(rec.driver.finishIncoming(b.uuid, o))),
  row(HostAbortIncoming, (rec, b, o) => empty(rec.driver.abortIncoming(b.uuid, o))),
  row(HostSnapshot, (rec, b, o, deps) => {
    if (!deps.snapshotSink) throw new UnavailableError(`host ${rec.name} has no image sink: snapshots are not served`);
    return empty(rec.driver.snapshot(b.uuid, deps.snapshotSink(b.imageId, rec.name), o));
  }),
];

/** The instance a host verb concerns: its `uuid`, or its guest spec's. */
export function instanceOf(body: Record<string, unknown>): string | undefined {
  const g = body.guest as { uuid?: unknown } | undefined;
  const id = body.uuid ?? g?.uuid;
  return typeof id === 'string' ? id : undefined;
}

const BY_VERB: ReadonlyMap<string, Row<RequestDef>> = new Map(ROWS.map((r) => [r.def.verb, r]));

/**
 * What a fenced host still does (host-fence.ts): look, and take guests down or away. Anything that
 * could start a guest waits until its lease is renewed and it has reconciled.
 */
const WHILE_FENCED: ReadonlySet<string> = new Set([HostGet, HostDestroy, HostConsole, HostDiagnostics, HostConfirmMigration, HostRevertMigration, HostAbortIncoming, HostAbortLiveMigration].map((d) => d.verb));
const refusedWhileFenced = (verb: string, body: Record<string, unknown>): boolean =>
  !WHILE_FENCED.has(verb) && !(verb === HostPower.verb && body.op === 'stop');

export const isMutatingHostVerb = (verb: string): boolean => BY_VERB.get(verb)?.def.mutating ?? true;

/**
 * Starts `verb`. Bad input and driver failures come back as a rejected promise (answered as typed
 * errors); anything else a driver throws synchronously is a bug and is rethrown, so that it crashes
 * the host actor, whose supervisor answers the request retryably and restarts it.
 */
export function startVerb(rec: HostRecord, verb: string, body: Record<string, unknown>, opts: CallOptions = {}, deps: HostVerbDeps = {}): Promise<unknown> {
  try {
    const r = BY_VERB.get(verb);
    if (!r) throw new BadRequestError(`host ${rec.name} has no verb '${verb}'`);
    if (!r.def.checkBody.Check(body)) throw new BadRequestError(`${verb}: ${firstError(r.def.checkBody, body)}`);
    if (rec.fenced && refusedWhileFenced(verb, body)) throw new UnavailableError(`host ${rec.name} is fenced (its liveness lease lapsed) until it has reconciled`);
    return r.run(rec, body, opts, deps);
  } catch (err) {
    if (err instanceof NovactError || err instanceof DriverError) return Promise.reject(err);
    throw err;
  }
}
