/** Scheduling inputs: host aggregates (and zones), server groups, the build's scheduler hints. */
import { Migration } from '@mikro-orm/migrations';

export class Migration20261124002906 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "aggregates" ("id" serial primary key, "uuid" uuid not null, "name" varchar(255) not null, "metadata" jsonb not null, "created_at" timestamptz not null, "updated_at" timestamptz not null);`);
    this.addSql(`alter table "aggregates" add constraint "aggregates_name_unique" unique ("name");`);
    this.addSql(`alter table "aggregates" add constraint "aggregates_uuid_unique" unique ("uuid");`);

    this.addSql(`create table "aggregate_hosts" ("aggregate_id" int not null, "host" varchar(255) not null, constraint "aggregate_hosts_pkey" primary key ("aggregate_id", "host"));`);
    this.addSql(`create index "aggregate_hosts_host_index" on "aggregate_hosts" ("host");`);
    this.addSql(`alter table "aggregate_hosts" add constraint "aggregate_hosts_aggregate_fk" foreign key ("aggregate_id") references "aggregates" ("id") on delete cascade;`);

    this.addSql(`create table "server_groups" ("uuid" uuid not null, "name" varchar(255) not null, "project_id" varchar(64) not null, "user_id" varchar(64) not null, "policy" varchar(32) not null, "max_server_per_host" int null, "created_at" timestamptz not null, constraint "server_groups_pkey" primary key ("uuid"));`);
    this.addSql(`create index "server_groups_project_id_index" on "server_groups" ("project_id");`);

    this.addSql(`create table "server_group_members" ("group_uuid" uuid not null, "instance_uuid" uuid not null, constraint "server_group_members_pkey" primary key ("group_uuid", "instance_uuid"));`);
    this.addSql(`create index "server_group_members_instance_uuid_index" on "server_group_members" ("instance_uuid");`);
    this.addSql(`alter table "server_group_members" add constraint "server_group_members_group_fk" foreign key ("group_uuid") references "server_groups" ("uuid") on delete cascade;`);

    this.addSql(`alter table "instances" add column "scheduler_hints" jsonb not null default '{}';`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop table if exists "aggregates" cascade;`);

    this.addSql(`drop table if exists "aggregate_hosts" cascade;`);

    this.addSql(`drop table if exists "server_groups" cascade;`);

    this.addSql(`drop table if exists "server_group_members" cascade;`);

    this.addSql(`alter table "instances" drop column "scheduler_hints";`);

    this.addSql(`alter table "inventories" add constraint inventories_used_check check(used >= 0);`);
  }

}
