/**
 * Virtual actors keyed by entity id: `ref(id)` returns the live actor or spawns it (it rehydrates
 * from the database in its own `init`). Idle actors passivate after `idleShutdownMs`, so a million
 * instances need not be a million live actors.
 */
import { UnavailableError } from '../../protocols/errors.js';
import type { ActorDef, ActorRef, ActorSystem } from './system.js';

export class EntityRegistry<M> {
  private readonly live = new Map<string, ActorRef<M>>();
  private closed = false;

  constructor(
    private readonly system: ActorSystem,
    private readonly parent: ActorRef<unknown> | undefined,
    private readonly prefix: string,
    private readonly define: (id: string) => ActorDef<any, M>,
  ) {}

  ref(id: string): ActorRef<M> {
    const existing = this.live.get(id);
    if (existing?.alive) return existing;
    if (this.closed) throw new UnavailableError(`${this.prefix} actors are stopped`);
    const def = this.define(id);
    const afterStop = def.afterStop;
    const wrapped: ActorDef<any, M> = {
      ...def,
      afterStop: (state, leftover) => {
        if (this.live.get(id) === ref) this.live.delete(id);
        afterStop?.(state, leftover);
        // Messages that arrived while the actor was stopping go to its successor, not to the floor.
        if (leftover.length > 0 && !this.closed) {
          const next = this.ref(id);
          for (const m of leftover) next.tell(m);
        }
      },
    };
    const name = `${this.prefix}-${id}`;
    const ref = this.parent ? this.system.spawnChild(this.parent, name, wrapped) : this.system.spawn(name, wrapped);
    this.live.set(id, ref);
    return ref;
  }

  /** Forget every live actor (their parent restarted and stopped them). */
  clear(): void {
    this.live.clear();
  }

  get size(): number {
    return this.live.size;
  }

  stopAll(): void {
    this.closed = true;
    for (const r of this.live.values()) r.stop();
    this.live.clear();
  }
}
