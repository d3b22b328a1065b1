/**
 * What a guest is built with besides its flavor and image (Nova's `instances.user_data`,
 * `config_drive`, `key_data` and, from instance_extra, the key pair's type), and swap: the flavor's
 * `swap` (MiB) and the instance's copy of it. The key is copied at boot, so deleting the key pair
 * later does not change what the guest gets. Columns on `instances`, not a side table: the instance
 * actor's one CAS write covers them like every other field.
 */
import { Migration } from '@mikro-orm/migrations';

export class Migration20261208100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "instances"
      add column "user_data" text null,
      add column "config_drive" boolean not null default false,
      add column "key_data" text null,
      add column "key_type" varchar(16) null,
      add column "swap_mb" integer not null default 0;`);
    this.addSql(`alter table "flavors" add column "swap_mb" integer not null default 0;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "flavors" drop column "swap_mb";`);
    this.addSql(`alter table "instances" drop column "user_data", drop column "config_drive", drop column "key_data", drop column "key_type", drop column "swap_mb";`);
  }
}
