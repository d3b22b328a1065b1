/**
 * Server fields the compute API lets users set: tags (2.26), description (2.19), hostname (2.90)
 * and the access addresses. Tags are a text[] on the row, with a GIN index: the list filters
 * (`tags` ⇒ `@>`, `tags-any` ⇒ `&&`) are index conditions, at most 50 short tags keep the row
 * small, and the instance actor's one CAS write on `version` covers tags like every other field
 * (a separate tags table would need a second write path outside that single writer).
 */
import { Migration } from '@mikro-orm/migrations';

export class Migration20261201120000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "instances"
      add column "tags" text[] not null default '{}',
      add column "description" varchar(255) null,
      add column "hostname" varchar(255) null,
      add column "access_ip_v4" varchar(64) null,
      add column "access_ip_v6" varchar(64) null;`);
    this.addSql(`create index "instances_tags_gin" on "instances" using gin ("tags");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "instances_tags_gin";`);
    this.addSql(`alter table "instances" drop column "tags", drop column "description", drop column "hostname", drop column "access_ip_v4", drop column "access_ip_v6";`);
  }
}
