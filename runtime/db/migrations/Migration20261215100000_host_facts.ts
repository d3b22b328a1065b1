/**
 * What a host's reports say beyond capacity and usage (os-hypervisors): the disk it can take at the
 * least, its `uptime` line and its address. Null while no report carried them (or the driver cannot tell).
 */
import { Migration } from '@mikro-orm/migrations';

export class Migration20261215100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "compute_nodes"
      add column "disk_available_least" integer null,
      add column "uptime" varchar(255) null,
      add column "host_ip" varchar(45) null;`);
  }

  override async down(): Promise<void> {
    this.addSql(`alter table "compute_nodes" drop column "disk_available_least", drop column "uptime", drop column "host_ip";`);
  }
}
