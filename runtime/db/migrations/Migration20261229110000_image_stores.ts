/**
 * Glance's multi-store and import: the stores an image's data is in (empty for images from before
 * stores, whose data is in the default store). Import progress (`os_glance_importing_to_stores`,
 * `os_glance_failed_import`) is kept in the image's properties, as Glance keeps it.
 */
import { Migration } from '@mikro-orm/migrations';

export class Migration20261229110000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "images" add column "stores" jsonb not null default '[]';`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "images" drop column if exists "stores";`);
  }
}
