/**
 * Keystone's account lifecycle and token chains: users keep a description and an e-mail address;
 * tokens record their audit chain (token-method children) and are found by user, project and parent
 * for revocation.
 */
import { Migration } from '@mikro-orm/migrations';

export class Migration20261201100000 extends Migration {
  override async up(): Promise<void> {
    this.addSql(`alter table "keystone_users" add column "description" text null, add column "email" varchar(255) null;`);
    this.addSql(`alter table "keystone_tokens" add column "audit_chain_id" varchar(64) null, add column "parent_audit_id" varchar(64) null;`);
    this.addSql(`create index "keystone_tokens_user_id_index" on "keystone_tokens" ("user_id");`);
    this.addSql(`create index "keystone_tokens_project_id_index" on "keystone_tokens" ("project_id");`);
    this.addSql(`create index "keystone_tokens_parent_audit_id_index" on "keystone_tokens" ("parent_audit_id");`);
    this.addSql(`create index "keystone_tokens_audit_id_index" on "keystone_tokens" ("audit_id");`);
  }

  override async down(): Promise<void> {
    this.addSql(`drop index "keystone_tokens_audit_id_index";`);
    this.addSql(`drop index "keystone_tokens_parent_audit_id_index";`);
    this.addSql(`drop index "keystone_tokens_project_id_index";`);
    this.addSql(`drop index "keystone_tokens_user_id_index";`);
    this.addSql(`alter table "keystone_tokens" drop column "audit_chain_id", drop column "parent_audit_id";`);
    this.addSql(`alter table "keystone_users" drop column "description", drop column "email";`);
  }
}
