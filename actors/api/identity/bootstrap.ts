/**
 * Keystone's bootstrap for novact: the `admin` project, the `admin` user with the `admin` role on
 * it and on the system, the built-in catalog (catalog.ts), and the configured password (checked on
 * every start, as `keystone-manage bootstrap` sets it, so the password in the configuration is
 * always the one that works; rehashed only when it differs or its hash predates the current scrypt
 * cost). Safe to run from several replicas at once: creation races end in the unique constraints
 * and the loser re-reads. The default domain and roles come from the migration.
 */
import { ConflictError } from '../../../protocols/errors.js';
import { SYSTEM_TARGET } from './assignment-store.js';
import type { IdentityStore } from './identity-store.js';
import { roleId } from './roles.js';

export interface BootstrapConfig {
  adminUser: string;
  adminProject: string;
  adminPassword: string;
}

/** `passwordChanged`: the stored password was another one, so the admin's old tokens must go. */
export async function bootstrapIdentity(store: IdentityStore, cfg: BootstrapConfig): Promise<{ userId: string; projectId: string; passwordChanged: boolean }> {
  const project = (await store.projectByName(cfg.adminProject))
    ?? (await store.createProject({ name: cfg.adminProject, description: 'Bootstrap project for the cloud administrator' }).catch(async (err) => {
      if (err instanceof ConflictError) return (await store.projectByName(cfg.adminProject))!;
      throw err;
    }));
  let user = await store.userByName(cfg.adminUser);
  if (!user) {
    user = await store.createUser({ name: cfg.adminUser, password: cfg.adminPassword, defaultProjectId: project.id }).catch(async (err) => {
      if (err instanceof ConflictError) return (await store.userByName(cfg.adminUser))!;
      throw err;
    });
  }
  const current = await store.hasher.verify(cfg.adminPassword, user.passwordHash);
  if (!current || store.hasher.needsRehash(user.passwordHash)) await store.setPassword(user.id, cfg.adminPassword);
  const admin = { kind: 'User', id: user.id } as const;
  await store.assignments.grant(admin, { kind: 'Project', id: project.id }, roleId('admin'));
  await store.assignments.grant(admin, { kind: 'System', id: SYSTEM_TARGET }, roleId('admin'));
  await store.catalog.seed();
  return { userId: user.id, projectId: project.id, passwordChanged: !current };
}
