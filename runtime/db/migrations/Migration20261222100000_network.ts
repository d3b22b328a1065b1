/**
 * The network role's tables: Neutron's resources (attributes as JSON: the role is their only reader
 * and keeps them in memory) and the addresses handed out, unique per subnet. A port's MAC is unique
 * across the cluster (the partial index).
 */
import { Migration } from '@mikro-orm/migrations';

export class Migration20261222100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "net_resources" (
      "kind" varchar(32) not null,
      "id" varchar(64) not null,
      "project_id" varchar(64) not null,
      "attrs" jsonb not null,
      "version" int not null,
      "created_at" timestamptz not null,
      "updated_at" timestamptz not null,
      constraint "net_resources_pkey" primary key ("id"));`);
    this.addSql(`create index "net_resources_kind_index" on "net_resources" ("kind");`);
    this.addSql(`create unique index "net_resources_port_mac_unique" on "net_resources" (("attrs"->>'mac_address')) where "kind" = 'port';`);
    this.addSql(`create table "ip_allocations" (
      "subnet_id" uuid not null,
      "ip_address" varchar(64) not null,
      "port_id" varchar(64) not null,
      "network_id" uuid not null,
      constraint "ip_allocations_pkey" primary key ("subnet_id", "ip_address"));`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "ip_allocations";`);
    this.addSql(`drop table if exists "net_resources";`);
  }
}
