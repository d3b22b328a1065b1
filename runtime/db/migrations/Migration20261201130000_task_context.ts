/** Per-task context (the lifecycle's program-counter data) and the lock, persisted with the instance. */
import { Migration } from '@mikro-orm/migrations';

export class Migration20261201130000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "instances" add column "task_context" jsonb not null default '{"attempt":0}',
      add column "locked_by" varchar(16) null, add column "locked_reason" varchar(255) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "instances" drop column "task_context", drop column "locked_by", drop column "locked_reason";`);
  }
}
