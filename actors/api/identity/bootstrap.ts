/**
 * Keystone's bootstrap for novact: the `admin` project, the `admin` user with the `admin` role on
 * it, and the configured password (set on every start, as `keystone-manage bootstrap` does, so the
 * password in the configuration is always the one that works). Safe to run from several replicas
 * at once: creation races end in the unique constraints and the loser re-reads.
 */
import { ConflictError } from '../../../protocols/errors.js';
import type { IdentityStore } from './identity-store.js';

export interface BootstrapConfig {
  adminUser: string;
  adminProject: string;
  adminPassword: string;
}

export async function bootstrapIdentity(store: IdentityStore, cfg: BootstrapConfig): Promise<{ userId: string; projectId: string }> {
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
  await store.setPassword(user.id, cfg.adminPassword);
  await store.grant(user.id, project.id, 'admin');
  return { userId: user.id, projectId: project.id };
}
