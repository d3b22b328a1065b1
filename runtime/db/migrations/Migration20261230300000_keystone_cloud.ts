/**
 * Keystone for running a cloud: domains (with `default`), groups and their members, roles as rows
 * with implications (admin ⇒ manager ⇒ member ⇒ reader, as `keystone-manage bootstrap`), role
 * assignments of users or groups on projects, domains or the system (replacing the user-on-project
 * table; its rows are carried over), regions, services and endpoints (the catalog), application
 * credentials, and the application credential a token came from.
 */
import { Migration } from '@mikro-orm/migrations';

/** The built-in roles' ids: a hash of their names (actors/api/identity/roles.ts computes the same). */
const roleIdSql = (nameSql: string) => `substr(encode(sha256(convert_to('novact-role:' || ${nameSql}, 'UTF8')), 'hex'), 1, 32)`;

export class Migration20261230300000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`create table "keystone_domains" ("id" varchar(64) not null, "name" varchar(64) not null, "description" text not null, "enabled" boolean not null, "created_at" timestamptz not null, constraint "keystone_domains_pkey" primary key ("id"), constraint "keystone_domains_name_unique" unique ("name"));`);
    this.addSql(`insert into "keystone_domains" values ('default', 'Default', 'The default domain', true, now());`);

    this.addSql(`create table "keystone_groups" ("id" varchar(64) not null, "domain_id" varchar(64) not null, "name" varchar(64) not null, "description" text not null, "created_at" timestamptz not null, constraint "keystone_groups_pkey" primary key ("id"), constraint "keystone_groups_domain_id_name_unique" unique ("domain_id", "name"));`);
    this.addSql(`create table "keystone_group_members" ("group_id" varchar(64) not null, "user_id" varchar(64) not null, constraint "keystone_group_members_pkey" primary key ("group_id", "user_id"));`);
    this.addSql(`create index "keystone_group_members_user_id_index" on "keystone_group_members" ("user_id");`);

    // `domain_id` '' is a global role (Keystone keeps a sentinel too, so the pair can be unique).
    this.addSql(`create table "keystone_roles" ("id" varchar(64) not null, "name" varchar(255) not null, "domain_id" varchar(64) not null, "description" text null, constraint "keystone_roles_pkey" primary key ("id"), constraint "keystone_roles_name_domain_id_unique" unique ("name", "domain_id"));`);
    for (const r of ['admin', 'manager', 'member', 'reader', 'service']) {
      this.addSql(`insert into "keystone_roles" values (${roleIdSql(`'${r}'`)}, '${r}', '', null);`);
    }
    this.addSql(`create table "keystone_implied_roles" ("prior_role_id" varchar(64) not null, "implied_role_id" varchar(64) not null, constraint "keystone_implied_roles_pkey" primary key ("prior_role_id", "implied_role_id"));`);
    for (const [a, b] of [['admin', 'manager'], ['manager', 'member'], ['member', 'reader']]) {
      this.addSql(`insert into "keystone_implied_roles" values (${roleIdSql(`'${a}'`)}, ${roleIdSql(`'${b}'`)});`);
    }

    // `type`: UserProject, GroupProject, UserDomain, GroupDomain, UserSystem, GroupSystem (target 'all').
    this.addSql(`create table "keystone_assignments" ("type" varchar(16) not null, "actor_id" varchar(64) not null, "target_id" varchar(64) not null, "role_id" varchar(64) not null, constraint "keystone_assignments_pkey" primary key ("type", "actor_id", "target_id", "role_id"));`);
    this.addSql(`create index "keystone_assignments_actor_id_index" on "keystone_assignments" ("actor_id");`);
    this.addSql(`create index "keystone_assignments_target_id_index" on "keystone_assignments" ("target_id");`);
    this.addSql(`create index "keystone_assignments_role_id_index" on "keystone_assignments" ("role_id");`);
    this.addSql(`insert into "keystone_assignments" select 'UserProject', "user_id", "project_id", ${roleIdSql('"role"')} from "keystone_role_assignments";`);
    this.addSql(`drop table "keystone_role_assignments";`);

    this.addSql(`create table "keystone_regions" ("id" varchar(255) not null, "description" text not null, "parent_region_id" varchar(255) null, constraint "keystone_regions_pkey" primary key ("id"));`);
    this.addSql(`create table "keystone_services" ("id" varchar(64) not null, "type" varchar(255) not null, "name" varchar(255) not null, "description" text null, "enabled" boolean not null, constraint "keystone_services_pkey" primary key ("id"));`);
    this.addSql(`create table "keystone_endpoints" ("id" varchar(64) not null, "service_id" varchar(64) not null, "interface" varchar(8) not null, "region_id" varchar(255) null, "url" text not null, "enabled" boolean not null, constraint "keystone_endpoints_pkey" primary key ("id"));`);
    this.addSql(`create index "keystone_endpoints_service_id_index" on "keystone_endpoints" ("service_id");`);

    this.addSql(`create table "keystone_app_credentials" ("id" varchar(64) not null, "user_id" varchar(64) not null, "project_id" varchar(64) not null, "name" varchar(255) not null, "description" text null, "secret_hash" varchar(255) not null, "roles" jsonb not null, "unrestricted" boolean not null, "expires_at" timestamptz null, "created_at" timestamptz not null, constraint "keystone_app_credentials_pkey" primary key ("id"), constraint "keystone_app_credentials_user_id_name_unique" unique ("user_id", "name"));`);
    this.addSql(`alter table "keystone_tokens" add column "app_cred_id" varchar(64) null;`);
    this.addSql(`create index "keystone_tokens_app_cred_id_index" on "keystone_tokens" ("app_cred_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "keystone_tokens_app_cred_id_index";`);
    this.addSql(`alter table "keystone_tokens" drop column "app_cred_id";`);
    this.addSql(`drop table "keystone_app_credentials";`);
    this.addSql(`drop table "keystone_endpoints";`);
    this.addSql(`drop table "keystone_services";`);
    this.addSql(`drop table "keystone_regions";`);
    this.addSql(`create table "keystone_role_assignments" ("user_id" varchar(64) not null, "project_id" varchar(64) not null, "role" varchar(64) not null, constraint "keystone_role_assignments_pkey" primary key ("user_id", "project_id", "role"));`);
    this.addSql(`create index "keystone_role_assignments_project_id_index" on "keystone_role_assignments" ("project_id");`);
    this.addSql(`insert into "keystone_role_assignments" select a."actor_id", a."target_id", r."name" from "keystone_assignments" a join "keystone_roles" r on r."id" = a."role_id" where a."type" = 'UserProject';`);
    this.addSql(`drop table "keystone_assignments";`);
    this.addSql(`drop table "keystone_implied_roles";`);
    this.addSql(`drop table "keystone_roles";`);
    this.addSql(`drop table "keystone_group_members";`);
    this.addSql(`drop table "keystone_groups";`);
    this.addSql(`drop table "keystone_domains";`);
  }
}
