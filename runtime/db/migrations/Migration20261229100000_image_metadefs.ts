/**
 * Glance's metadata definitions catalog: one row per namespace, its objects, properties, tags and
 * resource type associations in one JSON document (always read and changed whole, under the row's
 * lock); `owner` and `visibility` are columns because listings filter on them. `metadef_seeds`
 * records which shipped definition sets were loaded, so each loads once.
 */
import { Migration } from '@mikro-orm/migrations';

export class Migration20261229100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "metadef_namespaces" (
      "namespace" varchar(80) not null primary key,
      "owner" varchar(255) not null,
      "visibility" varchar(16) not null,
      "doc" jsonb not null,
      "created_at" timestamptz not null,
      "updated_at" timestamptz not null);`);
    this.addSql(`create index "metadef_namespaces_listing_index" on "metadef_namespaces" ("created_at", "namespace");`);
    this.addSql(`create table "metadef_seeds" ("name" varchar(64) not null primary key, "applied_at" timestamptz not null);`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "metadef_seeds";`);
    this.addSql(`drop table if exists "metadef_namespaces";`);
  }
}
