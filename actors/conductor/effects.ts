/**
 * Runs the effects the lifecycle asks for and turns their results into outcome events. Every effect
 * is idempotent (keyed by instance and attempt), so re-running one after a crash is safe. Calls that
 * must converge (destroy, release) retry with backoff; build steps fail over to the next alternate.
 */
import { NetInstanceAllocate } from '../../protocols/catalog/network.js';
import { bindPorts, deallocatePorts, guestNic } from './instance-ports.js';
import type { TaskContext } from '../../protocols/lifecycle/state.js';
import { NoValidHostError, NotFoundError, NovactError, TimeoutError, UnavailableError } from '../../protocols/errors.js';
import type { CallBudget, Effect, GuestOverride, HostQuery, ImageOrigin, Outcome, Token } from '../../protocols/lifecycle.js';
import type { GuestSpec } from '../../protocols/host.js';
import type { ClaimReply, GuestReply, SelectReply, SelectRequest, ServerView } from '../../protocols/messages.js';
import type { MoveSpec } from '../../protocols/catalog/scheduler.js';
import { flavorResources } from '../../protocols/resources.js';
import type { Subjects } from '../../protocols/subjects.js';
import type { InstanceRow } from '../../runtime/db/entities/index.js';
import type { Bridge } from '../../runtime/nats/bridge.js';
import type { Clock } from '../../runtime/clock.js';
import type { Logger } from '../../runtime/log/logger.js';
import { errorFields } from '../../runtime/log/logger.js';
import { withSubject } from '../../runtime/trace/scope.js';
import { endSpan, inSpan, startSpan } from '../../runtime/trace/tracing.js';
import type { ImageCache } from './image-cache.js';
import { guestSpecOf, rowFlavor } from './guest-spec.js';
import { backoff, imageOwnerFields, jitteredBackoff, moveOf, resourcesOf, selectRequestFor, SELECT_TIMEOUT_RETRIES } from './effect-requests.js';

export { jitteredBackoff, selectRequestFor };

export interface EffectTimeouts {
  requestTimeoutMs: number;
  spawnTimeoutMs: number;
  powerTimeoutMs: number;
  /** Attempts for calls that must converge (destroy, release) before giving up loudly. */
  convergeAttempts: number;
}

export interface EffectDeps {
  bridge: Bridge;
  subjects: Subjects;
  clock: Clock;
  log: Logger;
  images: ImageCache;
  /** The flavor's extra specs (flavors live in the conductor's memory, not in the instance row). */
  extraSpecs: (flavorId: string) => Record<string, string>;
  timeouts: EffectTimeouts;
  /**
   * True when the host's compute service has not been heard from for longer than the service down
   * time (or is forced down): only then may a destroy that cannot reach it be taken as done.
   */
  hostDown: (host: string) => Promise<boolean>;
}

const subjectsHost = (d: EffectDeps, host: string, verb: string) => d.subjects.host(host, verb);

export class EffectRunner {
  constructor(private readonly d: EffectDeps) {}

  /**
   * Starts one effect; `deliver` receives its outcome (if it has one). Never throws. Runs with the
   * instance in the request scope (its log lines say which), and an effect that has an outcome (a
   * build step: select, spawn, …) in a span `conductor <kind>` that its outcome ends.
   */
  run(row: InstanceRow, effect: Effect, view: () => ServerView, deliver: (o: Outcome) => void): void {
    withSubject({ instance: row.uuid }, () => {
      const plain = () => this.start(row, effect, view, deliver, (what) => this.failed(row, what));
      // Effects without an outcome (events, background cleanups) have nothing to end a span.
      if (!('token' in effect)) return plain();
      const span = startSpan(`conductor ${effect.kind}`);
      if (!span.isRecording()) return plain();
      span.setAttributes({ 'openstack.instance_uuid': row.uuid, 'novact.step': effect.token.step, 'novact.attempt': effect.token.attempt });
      inSpan(span, () => this.start(row, effect, view, (o) => {
        span.setAttribute('novact.outcome', o.kind);
        span.end();
        deliver(o);
      }, (what) => (err) => {
        endSpan(span, err);
        this.failed(row, what)(err);
      }));
    });
  }

  private failed(row: InstanceRow, what: string): (err: unknown) => void {
    return (err) => this.d.log.warn(`${what} failed`, { instance: row.uuid, ...errorFields(err) });
  }

  private start(row: InstanceRow, effect: Effect, view: () => ServerView, deliver: (o: Outcome) => void, fail: (what: string) => (err: unknown) => void): void {
    switch (effect.kind) {
      case 'select':
        (effect.host !== undefined ? this.claimHost(row, effect.token, effect.host) : this.select(row, effect.token, effect.availabilityZone))
          .then(deliver, fail('select'));
        return;
      case 'selectMigration':
        Promise.resolve().then(() => this.select(row, effect.token, undefined, moveOf(row, effect))).then(deliver, fail('select'));
        return;
      case 'spawn':
        this.spawn(row, effect).then(deliver, fail('spawn'));
        return;
      case 'power':
        this.call(effect.token, subjectsHost(this.d, effect.host, 'power'), 'power', { uuid: row.uuid, op: effect.op }, 'power', row.uuid)
          .then((o) => deliver(o.kind === 'done' ? { kind: 'powered', token: o.token, powerState: (o.reply as unknown as GuestReply).guest.powerState } : o), fail('power'));
        return;
      case 'host': {
        const { token, host, verb, budget, guest } = effect;
        // A guest spec goes to the host that will run the guest: its ports are bound there first.
        const bind = { host, key: `${row.uuid}.${token.step}.${token.attempt}.bind` };
        // A reverted resize runs on its source again: its ports go back with it.
        const ids = guest
          ? this.guestSpec(row, guest, bind).then((g) => ({ guest: g }))
          : (verb === 'finish-revert' ? bindPorts(this.d.bridge, row, host, bind.key, this.d.timeouts.requestTimeoutMs) : Promise.resolve()).then(() => ({ uuid: row.uuid }));
        ids
          .then((ids) => this.call(token, subjectsHost(this.d, host, verb), verb, { ...ids, ...effect.body }, budget, row.uuid))
          .catch((err: unknown): Outcome => ({ kind: 'failed', token, code: err instanceof NovactError ? err.code : 500, message: err instanceof Error ? err.message : String(err) }))
          .then(deliver, fail(verb));
        return;
      }
      case 'scheduler': {
        const body = effect.withInstance ? { instanceUuid: row.uuid, ...effect.body } : effect.body;
        this.call(effect.token, this.d.subjects.scheduler(effect.verb), effect.verb, body, 'request', row.uuid).then(deliver, fail(effect.verb));
        return;
      }
      case 'selectMove':
        this.selectMove(row, effect).then(deliver, fail('select-move'));
        return;
      case 'image': {
        const { token, verb, imageId, origin } = effect;
        const own = effect.owner ? { ...effect.body, ...imageOwnerFields(row, effect.owner) } : effect.body;
        const subject = imageId ? this.d.subjects.image(imageId, verb) : this.d.subjects.imageRole(verb);
        (origin ? this.imageOrigin(row, origin, own) : Promise.resolve(own))
          .then((body) => this.call(token, subject, verb, body, 'request', row.uuid))
          .catch((err: unknown): Outcome => ({ kind: 'failed', token, code: err instanceof NovactError ? err.code : 500, message: err instanceof Error ? err.message : String(err) }))
          .then(deliver, fail(verb));
        return;
      }
      case 'destroy':
        Promise.all(effect.hosts.map((h) => this.destroyUntilGone(row.uuid, h))).then(() => deliver({ kind: 'destroyed', token: effect.token }), fail('destroy'));
        return;
      case 'forgetImage':
        this.d.bridge.request(this.d.subjects.image(effect.imageId, 'delete'), 'delete', {}, {
          timeoutMs: this.d.timeouts.requestTimeoutMs, idempotencyKey: `${row.uuid}.forget.${effect.imageId}`,
        }).catch(fail('image delete'));
        return;
      case 'cleanup':
        this.destroyUntilGone(row.uuid, effect.host).catch(fail('cleanup'));
        return;
      case 'release': {
        const consumers = [...(effect.instance ? [row.uuid] : []), ...effect.migrations];
        const ports = effect.ports ? [this.converge(() => deallocatePorts(this.d.bridge, row.uuid, this.d.timeouts.requestTimeoutMs), 'deallocate ports', row.uuid)] : [];
        Promise.all([...consumers.map((c) => this.converge(() => this.release(c), 'release', row.uuid)), ...ports])
          .then(() => deliver({ kind: 'released', token: effect.token }), fail('release'));
        return;
      }
      case 'notify': {
        const [action, phase] = effect.event.split('.') as [string, string];
        this.d.bridge.publish(this.d.subjects.event('instance', row.uuid, action, phase), {
          event_type: `instance.${effect.event}`,
          publisher_id: 'novact-conductor',
          timestamp: new Date(this.d.clock.now()).toISOString(),
          payload: view(),
        });
        return;
      }
    }
  }

  private async select(row: InstanceRow, token: Token, zone?: string | null, move?: MoveSpec): Promise<Outcome> {
    const { bridge, subjects, timeouts } = this.d;
    const placed = zone === undefined ? row : { ...row, availabilityZone: zone };
    // A build selects once per instance; a later placement (unshelve) is keyed by its step's issue.
    const keyOf = token.step === 'scheduling' ? `${row.uuid}.select` : `${row.uuid}.${token.step}.${token.attempt}.select`;
    let timedOut = 0;
    for (let attempt = 0; ; attempt++) {
      try {
        const image = await this.d.images.get(row.imageRef);
        const req = selectRequestFor(placed, image, this.d.extraSpecs(row.flavorId));
        const r = await bridge.request<SelectReply>(subjects.scheduler('select'), 'select', move ? { ...req, move } : req, {
          timeoutMs: timeouts.requestTimeoutMs,
          idempotencyKey: `${keyOf}.${attempt}`,
        });
        return { kind: 'scheduled', token, host: r.host, alternates: r.alternates };
      } catch (err) {
        const e = err as NovactError;
        // A timeout means the scheduler is overloaded or gone: one more try covers a lost reply, more
        // only add to its queue (L10). Other retryable refusals (503 while it restarts) back off longer.
        if (err instanceof TimeoutError) timedOut++;
        if (err instanceof NoValidHostError || !(err instanceof NovactError) || !e.retryable || attempt + 1 >= timeouts.convergeAttempts || timedOut > SELECT_TIMEOUT_RETRIES) {
          return { kind: 'scheduleFailed', token, message: err instanceof Error ? err.message : String(err) };
        }
        await this.d.clock.sleep(jitteredBackoff(attempt));
      }
    }
  }

  /** A move's placement (resize, cold migrate): one request, keyed by the step's attempt (the scheduler answers a repeat with the move it made). */
  private async selectMove(row: InstanceRow, e: Extract<Effect, { kind: 'selectMove' }>): Promise<Outcome> {
    const { token, flavor: f } = e;
    try {
      const image = await this.d.images.get(row.imageRef);
      const base = selectRequestFor(row, image, this.d.extraSpecs(f.id));
      const body: SelectRequest = {
        ...base,
        resources: flavorResources({ vcpus: f.vcpus, memoryMb: f.memoryMb, diskGb: f.rootGb, ephemeralGb: f.ephemeralGb, swapMb: f.swapMb ?? 0 }),
        flavor: { ...base.flavor, id: f.id, name: f.name },
        move: { migrationUuid: e.migrationUuid, sourceHost: e.source, allowSameHost: e.allowSameHost, ...(e.targetHost ? { targetHost: e.targetHost } : {}) },
      };
      const r = await this.d.bridge.request<SelectReply>(this.d.subjects.scheduler('select'), 'select', body, {
        timeoutMs: this.d.timeouts.requestTimeoutMs,
        idempotencyKey: `${row.uuid}.${token.step}.${token.attempt}.select`,
      });
      return { kind: 'scheduled', token, host: r.host, alternates: r.alternates };
    } catch (err) {
      return { kind: 'scheduleFailed', token, message: err instanceof Error ? err.message : String(err) };
    }
  }

  /** An admin's named host: claimed as is (the ledger still checks it fits), no filters. */
  private async claimHost(row: InstanceRow, token: Token, host: string): Promise<Outcome> {
    try {
      await this.d.bridge.request<ClaimReply>(
        this.d.subjects.scheduler('claim'),
        'claim',
        { instanceUuid: row.uuid, projectId: row.projectId, host, resources: resourcesOf(row) },
        { timeoutMs: this.d.timeouts.requestTimeoutMs, idempotencyKey: `${row.uuid}.${token.step}.${token.attempt}.claim` },
      );
      return { kind: 'scheduled', token, host, alternates: [] };
    } catch (err) {
      return { kind: 'scheduleFailed', token, message: err instanceof Error ? err.message : String(err) };
    }
  }

  private async spawn(row: InstanceRow, e: Extract<Effect, { kind: 'spawn' }>): Promise<Outcome> {
    const { bridge, subjects, timeouts } = this.d;
    const { host, token } = e;
    try {
      if (e.claim) {
        await bridge.request<ClaimReply>(
          subjects.scheduler('claim'),
          'claim',
          { instanceUuid: row.uuid, projectId: row.projectId, host, resources: resourcesOf(row) },
          { timeoutMs: timeouts.requestTimeoutMs, idempotencyKey: `${row.uuid}.claim.${host}` },
        );
      }
      // Nova binds a build's ports to its host before the spawn: the host plugs them.
      const { networks, securityGroups } = (row.taskContext as TaskContext | null) ?? {};
      const guest = await this.guestSpec(row, {});
      if (networks !== undefined && networks !== 'none') {
        const { nics } = await bridge.call(NetInstanceAllocate, ['instance'], { instanceId: row.uuid, projectId: row.projectId, host, requested: networks, ...(securityGroups ? { securityGroups } : {}) }, {
          timeoutMs: timeouts.requestTimeoutMs, idempotencyKey: `${row.uuid}.ports.${host}`,
        });
        if (nics.length > 0) guest.nics = nics.map(guestNic);
      }
      const r = await bridge.request<GuestReply>(
        subjects.host(host, 'spawn'),
        'spawn',
        { guest },
        { timeoutMs: timeouts.spawnTimeoutMs, idempotencyKey: `${row.uuid}.spawn.${host}` },
      );
      return { kind: 'spawned', token, host, powerState: r.guest.powerState, at: this.d.clock.now() };
    } catch (err) {
      return { kind: 'spawnFailed', token, host, message: err instanceof Error ? err.message : String(err) };
    }
  }

  /**
   * A query action's host call (console, diagnostics, crash dump): the host's reply, or its typed
   * error. Keyed by the caller's request, so a bus retry of it asks the host once.
   */
  async query(row: InstanceRow, q: HostQuery, requestKey: string): Promise<Record<string, unknown>> {
    const reply = await this.d.bridge.request<Record<string, unknown>>(subjectsHost(this.d, q.host, q.verb), q.verb, { uuid: row.uuid, ...q.body }, {
      timeoutMs: this.budgetMs(q.budget),
      idempotencyKey: `${row.uuid}.${q.verb}.${requestKey}`,
    });
    return reply ?? {};
  }

  /**
   * An image call's body completed from the row: the instance and its project (the image's owner)
   * and, for a snapshot, what Nova copies from the base image (properties under the request's own).
   */
  private async imageOrigin(row: InstanceRow, origin: ImageOrigin, body: Record<string, unknown>): Promise<Record<string, unknown>> {
    const instance = { ...body, instanceUuid: row.uuid, projectId: row.projectId };
    if (origin === 'instance') return instance;
    const base = await this.d.images.get(row.imageRef);
    return {
      ...instance,
      baseImageRef: row.imageRef,
      properties: { ...base.properties, ...(body.properties as Record<string, string> | undefined) },
      diskFormat: base.diskFormat, containerFormat: base.containerFormat,
      minDisk: Math.max(base.minDiskGb, row.rootGb), minRam: base.minRamMb,
    };
  }

  /** The spec a host builds the guest from: the row's, with a move's flavor or a rebuild's image instead. */
  private async guestSpec(row: InstanceRow, o: GuestOverride, bind?: { host: string; key: string }): Promise<GuestSpec> {
    const [image, nics] = await Promise.all([this.d.images.get(o.imageRef ?? row.imageRef), bind ? bindPorts(this.d.bridge, row, bind.host, bind.key, this.d.timeouts.requestTimeoutMs) : []]);
    const spec = guestSpecOf(row, o.flavor ?? rowFlavor(row), image);
    if (nics.length > 0) spec.nics = nics.map(guestNic);
    return spec;
  }

  /**
   * One request on behalf of a step: the idempotency key is the instance, step and attempt, so a
   * lost reply retried by the bus acts once, and a resumed step (new attempt) acts again.
   */
  private async call(token: Token, subject: string, verb: string, body: Record<string, unknown>, budget: CallBudget, uuid: string): Promise<Outcome> {
    try {
      const reply = await this.d.bridge.request<Record<string, unknown>>(subject, verb, body, {
        timeoutMs: this.budgetMs(budget),
        idempotencyKey: `${uuid}.${token.step}.${token.attempt}.${verb}`,
      });
      return { kind: 'done', token, reply: reply ?? {}, at: this.d.clock.now() };
    } catch (err) {
      const code = err instanceof NovactError ? err.code : 500;
      return { kind: 'failed', token, code, message: err instanceof Error ? err.message : String(err) };
    }
  }

  private budgetMs(b: CallBudget): number {
    const t = this.d.timeouts;
    return b === 'spawn' || b === 'move' ? t.spawnTimeoutMs : b === 'power' ? t.powerTimeoutMs : t.requestTimeoutMs;
  }

  private async destroy(uuid: string, host: string): Promise<void> {
    await this.d.bridge.request(this.d.subjects.host(host, 'destroy'), 'destroy', { uuid }, {
      timeoutMs: this.d.timeouts.requestTimeoutMs,
      idempotencyKey: `${uuid}.destroy.${host}`,
    });
  }

  private async release(uuid: string): Promise<void> {
    await this.d.bridge.request(this.d.subjects.scheduler('release'), 'release', { instanceUuid: uuid }, {
      timeoutMs: this.d.timeouts.requestTimeoutMs,
      idempotencyKey: `${uuid}.release`,
    });
  }

  /**
   * Destroys the guest, retrying (bounded backoff) for as long as it takes: the guest may still run,
   * so its capacity must stay held. Only once the host's compute service is known down past the
   * service down time is the guest taken as gone (Nova's local delete); if it comes back anyway, the
   * host's reconciliation reaps it. One loop per guest and host: a resume joins the running one.
   */
  destroyUntilGone(uuid: string, host: string): Promise<void> {
    const key = `${uuid}.${host}`;
    const running = this.destroying.get(key);
    if (running) return running;
    const p = this.destroyLoop(uuid, host).finally(() => this.destroying.delete(key));
    this.destroying.set(key, p);
    return p;
  }

  /** Guests being destroyed right now (for stats and tests). */
  get pendingDestroys(): number {
    return this.destroying.size;
  }

  /** Stops the retry loops (the role is stopping; the sweep of the next start resumes them). */
  stop(): void {
    this.stopped = true;
  }

  private readonly destroying = new Map<string, Promise<void>>();
  private stopped = false;

  private async destroyLoop(uuid: string, host: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      if (this.stopped) throw new UnavailableError('the conductor is stopping');
      try {
        await this.destroy(uuid, host);
        return;
      } catch (err) {
        if (err instanceof NotFoundError) return;
        const down = await this.d.hostDown(host).catch(() => false);
        if (down) {
          this.d.log.warn('host down past the service down time; deleting locally', { instance: uuid, host, ...errorFields(err) });
          return;
        }
        if (attempt === this.d.timeouts.convergeAttempts) {
          this.d.log.warn('destroy cannot reach its host; capacity stays held while retrying', { instance: uuid, host, ...errorFields(err) });
        }
        await this.d.clock.sleep(backoff(attempt));
      }
    }
  }

  /** Retries until success, within the converge budget (then the error is thrown and the sweep resumes). */
  private async converge(call: () => Promise<void>, what: string, uuid: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await call();
        return;
      } catch (err) {
        if (attempt + 1 >= this.d.timeouts.convergeAttempts || this.stopped) {
          this.d.log.warn(`${what} did not converge`, { instance: uuid, ...errorFields(err) });
          throw err;
        }
        await this.d.clock.sleep(backoff(attempt));
      }
    }
  }
}
