/**
 * Glance's image members: the projects a `shared` image is offered to, with each one's answer
 * (`pending`, `accepted`, `rejected`). Removed with their image's row; a removed member is deleted.
 */
import { Migration } from '@mikro-orm/migrations';

export class Migration20261201121500 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "image_members" (
      "image_id" uuid not null references "images" ("id") on delete cascade,
      "member" varchar(255) not null,
      "status" varchar(20) not null,
      "created_at" timestamptz not null,
      "updated_at" timestamptz not null,
      "version" int not null,
      constraint "image_members_pkey" primary key ("image_id", "member"));`);
    // The listing asks "which shared images is this project a member of".
    this.addSql(`create index "image_members_member_index" on "image_members" ("member", "status");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "image_members";`);
  }
}
