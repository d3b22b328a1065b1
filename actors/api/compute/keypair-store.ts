/** Key pairs in PostgreSQL (api-owned table `key_pairs`), named per user. */
import { KeyPair, type KeyPairRow } from '../../../runtime/db/entities/index.js';
import type { Orm } from '../../../runtime/db/orm.js';
import type { Clock } from '../../../runtime/clock.js';
import { conflict, forbidden } from '../faults.js';

export const keyExists = (name: string) => conflict(`Key pair '${name}' already exists.`);
export const tooManyKeys = () => forbidden('Quota exceeded, too many key pairs.');

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

  /**
   * Inserts a key pair unless the name is taken (409) or the user already holds `maxKeys` (403;
   * -1: unlimited). Count and insert run in one transaction under a per-user advisory lock, so
   * concurrent creates cannot both pass the quota check (Nova's check-then-insert race).
   */
  async create(k: Omit<KeyPairRow, 'id' | 'createdAt'>, maxKeys = -1): Promise<KeyPairRow> {
    const knex = this.orm.em.getConnection().getKnex();
    const inserted = await knex.transaction(async (trx) => {
      await trx.raw('select pg_advisory_xact_lock(hashtextextended(?, 0))', [`key_pairs:${k.userId}`]);
      if (maxKeys >= 0) {
        const { rows } = await trx.raw('select count(*)::int as n from key_pairs where user_id = ?', [k.userId]);
        if ((rows as { n: number }[])[0]!.n >= maxKeys) throw tooManyKeys();
      }
      const res = await trx.raw(
        `insert into key_pairs (user_id, name, type, public_key, fingerprint, created_at) values (?, ?, ?, ?, ?, ?)
         on conflict (user_id, name) do nothing returning id`,
        [k.userId, k.name, k.type, k.publicKey, k.fingerprint, new Date(this.clock.now()).toISOString()],
      );
      return (res.rows as unknown[]).length > 0;
    });
    if (!inserted) throw keyExists(k.name);
    return this.orm.em.fork().findOneOrFail(KeyPair, { userId: k.userId, name: k.name });
  }

  async remove(userId: string, name: string): Promise<boolean> {
    return (await this.orm.em.fork().nativeDelete(KeyPair, { userId, name })) > 0;
  }
}
