/**
 * Application credentials: a secret (shown once, at creation; kept only as a hash, like passwords)
 * that authenticates as its user on one project with at most the roles it was made with.
 */
import { randomBytes } from 'node:crypto';
import { AppCredential, Token, type AppCredentialRow } from '../../../runtime/db/entities/index.js';
import type { Clock } from '../../../runtime/clock.js';
import type { Orm } from '../../../runtime/db/orm.js';
import { unique } from './directory-store.js';
import { newId } from './ids.js';
import type { PasswordHasher } from './passwords.js';

export class AppCredStore {
  constructor(
    private readonly orm: Orm,
    private readonly clock: Clock,
    private readonly hasher: PasswordHasher,
  ) {}

  private get em() {
    return this.orm.em.fork();
  }

  /** The new credential and its secret (generated unless given). */
  async create(c: Omit<AppCredentialRow, 'id' | 'secretHash' | 'createdAt'> & { secret?: string }): Promise<{ row: AppCredentialRow; secret: string }> {
    const secret = c.secret ?? randomBytes(48).toString('base64url');
    const { secret: _, ...rest } = c;
    const row: AppCredentialRow = { ...rest, id: newId(), secretHash: await this.hasher.hash(secret), createdAt: new Date(this.clock.now()) };
    await unique(`Conflict occurred attempting to store application_credential - Duplicate entry found with name ${c.name}.`, () => this.em.insert(AppCredential, row));
    return { row, secret };
  }

  async get(id: string): Promise<AppCredentialRow | null> {
    return this.em.findOne(AppCredential, { id });
  }

  async byName(userId: string, name: string): Promise<AppCredentialRow | null> {
    return this.em.findOne(AppCredential, { userId, name });
  }

  async list(userId: string, name?: string): Promise<AppCredentialRow[]> {
    return this.em.find(AppCredential, { userId, ...(name !== undefined ? { name } : {}) }, { orderBy: { name: 'asc' } });
  }

  /** True when the secret is the credential's and it has not expired. */
  async verify(c: AppCredentialRow, secret: string): Promise<boolean> {
    const ok = await this.hasher.verify(secret, c.secretHash);
    return ok && (c.expiresAt === null || c.expiresAt.getTime() > this.clock.now());
  }

  /** Deletes the credential and the tokens issued from it; false when there was none. */
  async delete(userId: string, id: string): Promise<boolean> {
    return this.orm.em.fork().transactional(async (em) => {
      await em.nativeDelete(Token, { appCredId: id });
      return (await em.nativeDelete(AppCredential, { id, userId })) > 0;
    });
  }
}
