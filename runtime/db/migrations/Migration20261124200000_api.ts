/** The REST API's own tables (Keystone identity and tokens, key pairs, quotas) and Glance's extra image columns. */
import { Migration } from '@mikro-orm/migrations';

export class Migration20261124200000 extends Migration {

  override async up(): Promise<void> {
    this.addSql(`create table "keystone_projects" ("id" varchar(64) not null, "name" varchar(64) not null, "domain_id" varchar(64) not null, "description" text not null, "enabled" boolean not null, "created_at" timestamptz not null, constraint "keystone_projects_pkey" primary key ("id"));`);
    this.addSql(`alter table "keystone_projects" add constraint "keystone_projects_domain_id_name_unique" unique ("domain_id", "name");`);

    this.addSql(`create table "keystone_users" ("id" varchar(64) not null, "name" varchar(255) not null, "domain_id" varchar(64) not null, "password_hash" varchar(255) not null, "default_project_id" varchar(64) null, "enabled" boolean not null, "created_at" timestamptz not null, constraint "keystone_users_pkey" primary key ("id"));`);
    this.addSql(`alter table "keystone_users" add constraint "keystone_users_domain_id_name_unique" unique ("domain_id", "name");`);

    this.addSql(`create table "keystone_role_assignments" ("user_id" varchar(64) not null, "project_id" varchar(64) not null, "role" varchar(64) not null, constraint "keystone_role_assignments_pkey" primary key ("user_id", "project_id", "role"));`);
    this.addSql(`create index "keystone_role_assignments_project_id_index" on "keystone_role_assignments" ("project_id");`);

    this.addSql(`create table "keystone_tokens" ("id_hash" varchar(64) not null, "user_id" varchar(64) not null, "project_id" varchar(64) not null, "roles" jsonb not null, "methods" jsonb not null, "audit_id" varchar(64) not null, "issued_at" timestamptz not null, "expires_at" timestamptz not null, "revoked_at" timestamptz null, constraint "keystone_tokens_pkey" primary key ("id_hash"));`);
    this.addSql(`create index "keystone_tokens_expires_at_index" on "keystone_tokens" ("expires_at");`);

    this.addSql(`create table "key_pairs" ("id" serial primary key, "user_id" varchar(64) not null, "name" varchar(255) not null, "type" varchar(16) not null, "public_key" text not null, "fingerprint" varchar(128) not null, "created_at" timestamptz not null);`);
    this.addSql(`alter table "key_pairs" add constraint "key_pairs_user_id_name_unique" unique ("user_id", "name");`);

    this.addSql(`create table "quotas" ("project_id" varchar(64) not null, "resource" varchar(64) not null, "hard_limit" int not null, constraint "quotas_pkey" primary key ("project_id", "resource"));`);

    this.addSql(`alter table "images" add column "tags" jsonb not null default '[]', add column "protected" boolean not null default false, add column "os_hidden" boolean not null default false, add column "os_hash_algo" varchar(64) null, add column "os_hash_value" varchar(128) null;`);
  }

}
