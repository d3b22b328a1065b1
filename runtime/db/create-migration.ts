/**
 * Developer tool: diff the entities against a scratch database that has every committed migration
 * applied, and write the difference as a new migration file. Usage: `npm run migration:create`.
 */
import { MikroORM } from '@mikro-orm/postgresql';
import { Migrator } from '@mikro-orm/migrations';
import { fileURLToPath } from 'node:url';
import { ENTITIES } from './entities/index.js';
import { MIGRATIONS } from './migrations/index.js';
import { startPostgres } from '../services/postgres-server.js';

const pg = await startPostgres();
try {
  const orm = await MikroORM.init({
    clientUrl: pg.url,
    host: pg.socketDir, // MikroORM reads only the URL's hostname; the server listens on its socket only.
    entities: ENTITIES,
    extensions: [Migrator],
    migrations: {
      migrationsList: MIGRATIONS,
      path: fileURLToPath(new URL('./migrations', import.meta.url)),
      emit: 'ts',
      snapshot: false,
    },
  });
  await orm.getMigrator().up();
  const result = await orm.getMigrator().createMigration(undefined, false, MIGRATIONS.length === 0);
  process.stdout.write(result.fileName ? `wrote ${result.fileName}\n` : 'no changes\n');
  await orm.close();
} finally {
  await pg.stop();
}
