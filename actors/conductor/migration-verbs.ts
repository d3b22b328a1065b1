/** The conductor's migration read verbs (`conductor.migrations`, `conductor.migration`), over the store. */
import { MigrationGet, MigrationList } from '../../protocols/catalog/migrations.js';
import type { Bridge, Service } from '../../runtime/nats/bridge.js';
import { migrationView, type MigrationStore } from './migration-store.js';

export function registerMigrationVerbs(bridge: Bridge, svc: Service, store: MigrationStore): void {
  const opts = { queue: 'conductor' };
  bridge.endpoint(svc, MigrationList, async (body) => {
    const { rows, more } = await store.list(body);
    return { migrations: rows.map(migrationView), more };
  }, opts);
  bridge.endpoint(svc, MigrationGet, async (body) => ({ migration: migrationView(await store.get(body.id, body.instanceUuid ?? undefined)) }), opts);
}
