/**
 * Snapshot images: the host whose identity alone may upload the data, and the owner's storage quota
 * the upload is capped at (both set by `snapshot-create`, null for images made through the API).
 */
import { Migration } from '@mikro-orm/migrations';

export class Migration20261201120500 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "images" add column "snapshot_host" varchar(255) null, add column "snapshot_quota_bytes" bigint null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "images" drop column "snapshot_host", drop column "snapshot_quota_bytes";`);
  }
}
