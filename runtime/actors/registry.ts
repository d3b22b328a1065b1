/**
 * Virtual actors keyed by entity id: `tell`/`ask` reach the live actor or spawn it (it rehydrates
 * from the database in its own `init`). Idle actors passivate after `idleShutdownMs`, so a million
 * instances need not be a million live actors.
 *
 * One writer per entity, even across stops: when an actor is stopped while a handler is still
 * running (its parent restarted), its successor is not spawned until that handler has finished;
 * messages meanwhile wait in a queue. Messages left in a stopped actor's mailbox go to the successor.
 */
import { UnavailableError } from '../../protocols/errors.js';
import { replySlot, type ReplyTo } from './reply.js';
import type { ActorDef, ActorRef, ActorSystem } from './system.js';

export class EntityRegistry<M> {
  private readonly live = new Map<string, ActorRef<M>>();
  /** Ids whose (possibly stopped) actor is inside a handler right now. */
  private readonly busy = new Set<string>();
  /** Messages for ids whose stopped actor is still finishing a handler. */
  private readonly waiting = new Map<string, M[]>();
  private closed = false;

  constructor(
    private readonly system: ActorSystem,
    /** The parent of every entity actor (a function when the parent may be replaced: critical.ts). */
    private readonly parent: ActorRef<unknown> | (() => ActorRef<unknown>) | undefined,
    private readonly prefix: string,
    private readonly define: (id: string) => ActorDef<any, M>,
  ) {}

  tell(id: string, msg: M): void {
    const existing = this.live.get(id);
    if (existing?.alive) return existing.tell(msg);
    if (this.busy.has(id)) {
      this.queueFor(id).push(msg);
      return;
    }
    this.ref(id).tell(msg);
  }

  /** Sends a message built around a reply slot and waits for the answer (typed TimeoutError). */
  ask<R>(id: string, make: (reply: ReplyTo<R>) => M, timeoutMs: number): Promise<R> {
    const { reply, promise } = replySlot<R>(this.system.clock, timeoutMs, `${this.prefix} ${id}`);
    this.tell(id, make(reply));
    return promise;
  }

  /** The live actor for `id`, spawning it if needed (prefer `tell`, which respects a draining predecessor). */
  ref(id: string): ActorRef<M> {
    const existing = this.live.get(id);
    if (existing?.alive) return existing;
    if (this.closed) throw new UnavailableError(`${this.prefix} actors are stopped`);
    const def = this.define(id);
    const wrapped: ActorDef<any, M> = {
      kind: this.prefix,
      ...def,
      handle: async (state, msg, ctx) => {
        this.busy.add(id);
        try {
          return await def.handle(state, msg, ctx);
        } finally {
          this.busy.delete(id);
          if (!ctx.self.alive) this.drain(id);
        }
      },
      afterStop: (state, leftover) => {
        if (this.live.get(id) === ref) this.live.delete(id);
        def.afterStop?.(state, leftover);
        // Messages that arrived while the actor was stopping go to its successor, not to the floor.
        if (leftover.length > 0) this.queueFor(id).unshift(...leftover);
        if (!this.busy.has(id)) this.drain(id);
      },
    };
    const name = `${this.prefix}-${id}`;
    const parent = typeof this.parent === 'function' ? this.parent() : this.parent;
    const ref = parent ? this.system.spawnChild(parent, name, wrapped) : this.system.spawn(name, wrapped);
    this.live.set(id, ref);
    return ref;
  }

  get size(): number {
    return this.live.size;
  }

  stopAll(): void {
    this.closed = true;
    this.waiting.clear();
    for (const r of this.live.values()) r.stop();
    this.live.clear();
  }

  private queueFor(id: string): M[] {
    let q = this.waiting.get(id);
    if (!q) this.waiting.set(id, (q = []));
    return q;
  }

  private drain(id: string): void {
    const q = this.waiting.get(id);
    if (!q) return;
    this.waiting.delete(id);
    if (this.closed || q.length === 0) return;
    const next = this.ref(id);
    for (const m of q) next.tell(m);
  }
}
