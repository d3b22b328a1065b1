/**
 * Flavor descriptions (Nova 2.55) and flavor access lists: which projects may see and boot a
 * private flavor (`os-flavor-access`). A deleted flavor takes its access list with it.
 */
import { Migration } from '@mikro-orm/migrations';

export class Migration20261230100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "flavors" add column "description" text null;`);
    this.addSql(`create table "flavor_projects" (
      "flavor_id" varchar(64) not null references "flavors" ("id") on delete cascade,
      "project_id" varchar(255) not null,
      primary key ("flavor_id", "project_id"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "flavor_projects";`);
    this.addSql(`alter table "flavors" drop column "description";`);
  }
}
