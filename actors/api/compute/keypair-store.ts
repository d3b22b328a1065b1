/** Key pairs in PostgreSQL (api-owned table `key_pairs`), named per user. */
import { UniqueConstraintViolationException } from '@mikro-orm/core';
import { KeyPair, type KeyPairRow } from '../../../runtime/db/entities/index.js';
import type { Orm } from '../../../runtime/db/orm.js';
import type { Clock } from '../../../runtime/clock.js';
import { conflict } from '../faults.js';

export class KeypairStore {
  constructor(
    private readonly orm: Orm,
    private readonly clock: Clock,
  ) {}

  async list(userId: string, opts: { limit?: number; marker?: string } = {}): Promise<KeyPairRow[]> {
    const where: Record<string, unknown> = { userId };
    if (opts.marker !== undefined) where.name = { $gt: opts.marker };
    return this.orm.em.fork().find(KeyPair, where, { orderBy: { name: 'asc' }, ...(opts.limit !== undefined ? { limit: opts.limit } : {}) });
  }

  async get(userId: string, name: string): Promise<KeyPairRow | null> {
    return this.orm.em.fork().findOne(KeyPair, { userId, name });
  }

  async count(userId: string): Promise<number> {
    return this.orm.em.fork().count(KeyPair, { userId });
  }

  async create(k: Omit<KeyPairRow, 'id' | 'createdAt'>): Promise<KeyPairRow> {
    const em = this.orm.em.fork();
    try {
      await em.insert(KeyPair, { ...k, createdAt: new Date(this.clock.now()) });
    } catch (err) {
      if (err instanceof UniqueConstraintViolationException) throw conflict(`Key pair '${k.name}' already exists.`);
      throw err;
    }
    return em.findOneOrFail(KeyPair, { userId: k.userId, name: k.name });
  }

  async remove(userId: string, name: string): Promise<boolean> {
    return (await this.orm.em.fork().nativeDelete(KeyPair, { userId, name })) > 0;
  }
}
