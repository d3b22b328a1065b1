/**
 * The scheduler's side of move allocations (resize, cold/live migration, evacuate): decisions in
 * memory, the ledger's move transactions (ledger-moves.ts), and the deltas that keep the other
 * replicas' host states exact. Runs inside the scheduler actor: every method is called from its
 * handler, and ledger completions come back through `inActor`. One move step per instance at a
 * time; a request for an instance whose step is in flight waits for it.
 *
 * Memory follows the ledger's shape: during a move the instance is held on the destination and the
 * migration uuid, as a consumer of its own, on the source.
 */
import { ConflictError, ForbiddenError, NoValidHostError, NotFoundError } from '../../protocols/errors.js';
import type { Resources } from '../../protocols/resources.js';
import type { MoveSpec, SelectReply, SelectRequest, Delta } from '../../protocols/catalog/scheduler.js';
import type { ReplyTo } from '../../runtime/actors/reply.js';
import type { HostStates } from './host-states.js';
import type { MoveResult, PlacementLedger } from './ledger.js';
import type { Placer } from './placer.js';

export interface MoveDeps {
  states: HostStates;
  placer: Placer;
  ledger: PlacementLedger;
  /** Adds to this turn's delta for the other replicas. */
  share(f: (d: Delta) => void): void;
  /** Runs `fn` inside the scheduler actor (ledger completions). */
  inActor(fn: () => void): void;
  maxTries: number;
}

type Held = { host: string; resources: Resources } | undefined;

export const GROUP_FULL = () => new ForbiddenError('Quota exceeded, too many servers in group');

export class MoveDesk {
  private readonly busy = new Map<string, (() => void)[]>();

  constructor(private readonly d: MoveDeps) {}

  /** `select` with a `move`: places the new resources away from the source (unless allowed) and moves the allocations. */
  select(req: SelectRequest & { move: MoveSpec }, reply: ReplyTo<SelectReply>, tries = 0): void {
    const { states } = this.d;
    const mv = req.move;
    const instance = req.instanceUuid;
    if (this.wait(instance, () => this.select(req, reply, tries))) return;
    const mig = states.allocationOf(mv.migrationUuid);
    const inst = states.allocationOf(instance);
    // Already moved for this migration (a retried request after a lost reply): that is the answer.
    if (mig && inst) return reply.ok({ host: inst.host, alternates: [] });
    if (!mig && inst && inst.host !== mv.sourceHost) {
      return reply.fail(new ConflictError(`Instance ${instance} is allocated on ${inst.host}, not on ${mv.sourceHost}.`));
    }
    const ignoreHosts = mv.allowSameHost ? req.ignoreHosts : [...req.ignoreHosts, mv.sourceHost];
    const placed = this.d.placer.place({ ...req, ignoreHosts }, mv.targetHost);
    if (placed instanceof NoValidHostError) return reply.fail(placed);
    // The placer moved the instance onto the destination in memory; its source now belongs to the migration.
    if (inst && !mig) states.claim(mv.migrationUuid, inst.host, inst.resources);
    const dest = placed.claim.provider;
    this.commit(instance, mv.migrationUuid, inst, mig, req.resources, dest, {
      run: () => this.d.ledger.move({ instance, migration: mv.migrationUuid, projectId: req.projectId, provider: dest, resources: req.resources, ...groupOf(req), mode: 'first' }),
      ok: (host) => reply.ok(host === dest ? placed.answer : { host, alternates: [] }),
      refused: (r) => {
        if (r.group === 'full') reply.fail(GROUP_FULL());
        else if (tries + 1 >= this.d.maxTries) reply.fail(new NoValidHostError('No valid host was found: claims kept losing races with other schedulers.'));
        else this.select(req, reply, tries + 1);
      },
      fail: (err) => reply.fail(err),
    });
  }

  /** `move-claim`: the instance's destination becomes `host` (an alternate, a forced host); no filters, the ledger checks the fit. */
  claim(req: { instanceUuid: string; migrationUuid: string; projectId: string; host: string; resources: Resources; group?: string }, reply: ReplyTo<{ host: string }>): void {
    const { states } = this.d;
    const instance = req.instanceUuid;
    if (!states.get(req.host)) return reply.fail(new NotFoundError(`host ${req.host} is unknown to the scheduler`));
    if (this.wait(instance, () => this.claim(req, reply))) return;
    const mig = states.allocationOf(req.migrationUuid);
    const inst = states.allocationOf(instance);
    if (inst && !mig) states.claim(req.migrationUuid, inst.host, inst.resources);
    states.claim(instance, req.host, req.resources);
    this.commit(instance, req.migrationUuid, inst, mig, req.resources, req.host, {
      run: () => this.d.ledger.move({ instance, migration: req.migrationUuid, projectId: req.projectId, provider: req.host, resources: req.resources, ...(req.group ? { group: req.group } : {}), mode: 'replace' }),
      ok: (host) => reply.ok({ host }),
      refused: (r) => reply.fail(r.group === 'full' ? GROUP_FULL() : r.group === 'policy'
        ? new NoValidHostError(`host ${req.host} breaks the server group's policy`)
        : new NoValidHostError(`host ${req.host} no longer has room`)),
      fail: (err) => reply.fail(err),
    });
  }

  /** `revert-move`: the destination is freed and the source given back to the instance. */
  revert(req: { instanceUuid: string; migrationUuid: string }, reply: ReplyTo<{ host: string | null }>): void {
    const { states } = this.d;
    const instance = req.instanceUuid;
    const migration = req.migrationUuid;
    if (this.wait(instance, () => this.revert(req, reply))) return;
    const mig = states.allocationOf(migration);
    const inst = states.allocationOf(instance);
    if (mig) states.claim(instance, mig.host, mig.resources);
    states.unclaim(migration);
    this.busy.set(instance, []);
    this.d.ledger.revertMove(instance, migration).then(
      (r) => this.d.inActor(() => {
        // The ledger's answer is the truth (another replica may have moved things meanwhile).
        if (r.instance) states.claim(instance, r.instance.provider, r.instance.resources);
        else states.unclaim(instance);
        const back = r.instance;
        if (back) this.d.share((d) => d.claims.push({ consumer: instance, host: back.provider, resources: back.resources }));
        this.d.share((d) => d.releases.push(migration));
        reply.ok({ host: r.instance?.provider ?? null });
        this.done(instance);
      }),
      (err) => this.d.inActor(() => {
        restore(states, instance, inst);
        restore(states, migration, mig);
        reply.fail(err);
        this.done(instance);
      }),
    );
  }

  private commit(
    instance: string, migration: string, inst: Held, mig: Held, resources: Resources, dest: string,
    k: { run: () => Promise<MoveResult>; ok: (host: string) => void; refused: (r: Extract<MoveResult, { ok: false }>) => void; fail: (err: unknown) => void },
  ): void {
    const { states } = this.d;
    this.busy.set(instance, []);
    const undo = () => {
      restore(states, instance, inst);
      restore(states, migration, mig);
    };
    k.run().then(
      (r) => this.d.inActor(() => {
        if (r.ok) {
          states.claim(instance, r.host, resources);
          const src = r.source;
          if (src) states.claim(migration, src.provider, src.resources);
          this.d.share((d) => {
            // The migration first: claiming the instance elsewhere then takes it off the source.
            if (src) d.claims.push({ consumer: migration, host: src.provider, resources: src.resources });
            d.claims.push({ consumer: instance, host: r.host, resources });
          });
          this.done(instance);
          k.ok(r.host);
          return;
        }
        undo();
        states.refreshUsed(dest, r.used);
        this.done(instance);
        k.refused(r);
      }),
      (err) => this.d.inActor(() => {
        undo();
        this.done(instance);
        k.fail(err);
      }),
    );
  }

  /** True when `instance` has a step in flight: `again` then runs after it. */
  private wait(instance: string, again: () => void): boolean {
    const q = this.busy.get(instance);
    if (!q) return false;
    q.push(again);
    return true;
  }

  private done(instance: string): void {
    const q = this.busy.get(instance) ?? [];
    this.busy.delete(instance);
    for (const again of q) again();
  }
}

function restore(states: HostStates, consumer: string, held: Held): void {
  if (held) states.claim(consumer, held.host, held.resources);
  else states.unclaim(consumer);
}

function groupOf(req: SelectRequest): { group?: string } {
  const g = req.schedulerHints?.group;
  return typeof g === 'string' ? { group: g } : {};
}
