/** The key pair a server was created with (Nova's `instances.key_name`). */
import { Migration } from '@mikro-orm/migrations';

export class Migration20261124400000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "instances" add column "key_name" varchar(255) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "instances" drop column "key_name";`);
  }
}
