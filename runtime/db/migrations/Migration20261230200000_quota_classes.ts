/**
 * Nova's quota classes (`os-quota-class-sets`): limits by class name; the `default` class overrides
 * the configured defaults for every project without a limit of its own.
 */
import { Migration } from '@mikro-orm/migrations';

export class Migration20261230200000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "quota_classes" (
      "class_name" varchar(255) not null,
      "resource" varchar(64) not null,
      "hard_limit" integer not null,
      primary key ("class_name", "resource"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "quota_classes";`);
  }
}
