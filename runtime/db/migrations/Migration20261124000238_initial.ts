/** The initial schema: instances and actions, flavors, images, compute nodes, the placement ledger. */
import { Migration } from '@mikro-orm/migrations';

export class Migration20261124000238 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "allocations" ("consumer" uuid not null, "resource_class" varchar(64) not null, "provider" varchar(255) not null, "used" int not null, "project_id" varchar(64) not null, "created_at" timestamptz not null, constraint "allocations_pkey" primary key ("consumer", "resource_class"));`);
    this.addSql(`create index "allocations_provider_index" on "allocations" ("provider");`);

    this.addSql(`create table "compute_nodes" ("host" varchar(255) not null, "node" varchar(255) not null, "hypervisor_type" varchar(64) not null, "hypervisor_version" int not null, "cpu_arch" varchar(32) not null, "availability_zone" varchar(255) null, "vcpus" int not null, "memory_mb" int not null, "local_gb" int not null, "vcpus_used" int not null, "memory_mb_used" int not null, "local_gb_used" int not null, "running_vms" int not null, "disabled" boolean not null, "disabled_reason" varchar(255) null, "forced_down" boolean not null, "last_seen_at" timestamptz not null, "created_at" timestamptz not null, "updated_at" timestamptz not null, constraint "compute_nodes_pkey" primary key ("host"));`);

    this.addSql(`create table "flavors" ("id" varchar(64) not null, "name" varchar(255) not null, "vcpus" int not null, "memory_mb" int not null, "root_gb" int not null, "ephemeral_gb" int not null, "is_public" boolean not null, "disabled" boolean not null, "extra_specs" jsonb not null, "created_at" timestamptz not null, constraint "flavors_pkey" primary key ("id"));`);
    this.addSql(`alter table "flavors" add constraint "flavors_name_unique" unique ("name");`);

    this.addSql(`create table "images" ("id" uuid not null, "name" varchar(255) not null, "status" varchar(32) not null, "disk_format" varchar(32) not null, "container_format" varchar(32) not null, "size" bigint not null, "min_disk" int not null, "min_ram" int not null, "visibility" varchar(32) not null, "owner" varchar(64) null, "properties" jsonb not null, "checksum" varchar(64) null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "version" int not null, constraint "images_pkey" primary key ("id"));`);
    this.addSql(`create index "images_status_index" on "images" ("status");`);

    this.addSql(`create table "instances" ("uuid" uuid not null, "name" varchar(255) not null, "project_id" varchar(64) not null, "user_id" varchar(64) not null, "flavor_id" varchar(64) not null, "flavor_name" varchar(255) not null, "vcpus" int not null, "memory_mb" int not null, "root_gb" int not null, "ephemeral_gb" int not null, "image_ref" varchar(64) not null, "vm_state" varchar(32) not null, "task_state" varchar(32) null, "power_state" smallint not null, "host" varchar(255) null, "node" varchar(255) null, "alternates" jsonb not null, "availability_zone" varchar(255) null, "metadata" jsonb not null, "fault" jsonb null, "idempotency_key" varchar(128) null, "launched_at" timestamptz null, "terminated_at" timestamptz null, "created_at" timestamptz not null, "updated_at" timestamptz not null, "deleted_at" timestamptz null, "version" int not null, constraint "instances_pkey" primary key ("uuid"));`);
    this.addSql(`create index "instances_project_id_created_at_index" on "instances" ("project_id", "created_at");`);
    this.addSql(`create index "instances_host_index" on "instances" ("host");`);
    this.addSql(`create index "instances_vm_state_task_state_index" on "instances" ("vm_state", "task_state");`);
    this.addSql(`alter table "instances" add constraint "instances_idempotency_key_unique" unique ("idempotency_key");`);

    this.addSql(`create table "instance_actions" ("id" serial primary key, "instance_uuid" uuid not null, "action" varchar(64) not null, "request_id" varchar(128) not null, "project_id" varchar(64) not null, "user_id" varchar(64) not null, "start_time" timestamptz not null, "finish_time" timestamptz null, "result" varchar(32) null, "message" text null);`);
    this.addSql(`create index "instance_actions_instance_uuid_start_time_index" on "instance_actions" ("instance_uuid", "start_time");`);
    this.addSql(`alter table "instance_actions" add constraint "instance_actions_instance_uuid_request_id_unique" unique ("instance_uuid", "request_id");`);

    this.addSql(`create table "inventories" ("provider" varchar(255) not null, "resource_class" varchar(64) not null, "total" int not null, "reserved" int not null, "min_unit" int not null, "max_unit" int not null, "step_size" int not null, "allocation_ratio" double precision not null, "used" int not null, constraint "inventories_pkey" primary key ("provider", "resource_class"));`);
    // Defence in depth under the ledger's conditional updates: usage never goes negative.
    this.addSql(`alter table "inventories" add constraint "inventories_used_check" check ("used" >= 0);`);

    this.addSql(`create table "resource_providers" ("name" varchar(255) not null, "generation" int not null, "created_at" timestamptz not null, constraint "resource_providers_pkey" primary key ("name"));`);
  }

}
