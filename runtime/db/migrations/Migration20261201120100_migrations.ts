/** Nova's migration records (resize, cold/live migration, evacuation), owned by the conductor. */
import { Migration } from '@mikro-orm/migrations';

export class Migration20261201120100 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "migrations" (
      "id" serial primary key, "uuid" uuid not null, "instance_uuid" uuid not null,
      "source_compute" varchar(255) null, "dest_compute" varchar(255) null, "source_node" varchar(255) null, "dest_node" varchar(255) null,
      "old_instance_type_id" varchar(255) null, "new_instance_type_id" varchar(255) null,
      "migration_type" varchar(32) not null, "status" varchar(32) not null, "project_id" varchar(64) not null, "user_id" varchar(64) not null,
      "memory_total" bigint null, "memory_processed" bigint null, "memory_remaining" bigint null,
      "disk_total" bigint null, "disk_processed" bigint null, "disk_remaining" bigint null,
      "created_at" timestamptz not null, "updated_at" timestamptz not null);`);
    this.addSql(`alter table "migrations" add constraint "migrations_uuid_unique" unique ("uuid");`);
    this.addSql(`create index "migrations_instance_uuid_index" on "migrations" ("instance_uuid");`);
    this.addSql(`create index "migrations_updated_at_index" on "migrations" ("updated_at");`);
    this.addSql(`create index "migrations_status_index" on "migrations" ("status");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "migrations" cascade;`);
  }
}
