/**
 * Security groups and their rules. Every project has a `default` group, made the first time the
 * project needs one (a port, a listing), with Neutron's default rules; a new group gets the two
 * egress rules. A group in use by a port, or named by another group's rule, cannot be deleted; nor
 * can `default`, except by an admin. Rules are checked and normalised as Neutron does
 * (security-group-rules.ts), and a duplicate is Neutron's 409 naming the existing rule.
 */
import { randomUUID } from 'node:crypto';
import { badInput, inConflict } from '../../../protocols/network/errors.js';
import { defaultSecurityGroupRules, normalizeRule, ruleKey, type RuleInput } from '../../../protocols/network/security-group-rules.js';
import { checkQuota, find, newRow, type NetCtx } from '../net-context.js';
import { neutronTime, type NetRow } from '../net-state.js';
import type { KindOps } from './kind-ops.js';

function addRule(ctx: NetCtx, group: NetRow, rule: RuleInput): NetRow {
  return ctx.tx.put({
    kind: 'security_group_rule', id: randomUUID(), projectId: group.projectId,
    attrs: { ...rule, description: rule.description ?? '', security_group_id: group.id, remote_address_group_id: null, tags: [] },
    version: 1, createdAt: ctx.tx.now, updatedAt: ctx.tx.now,
  });
}

const egressOnly = (rules: RuleInput[]) => rules.filter((r) => r.direction === 'egress');

/** The project's `default` group, made (with Neutron's default rules) if it has none yet. */
export function defaultGroupOf(ctx: NetCtx, projectId: string): NetRow {
  const existing = [...ctx.state.of('security_group').values()].find((g) => g.projectId === projectId && g.attrs.name === 'default');
  if (existing) return existing;
  const row: NetRow = { kind: 'security_group', id: randomUUID(), projectId, attrs: { name: 'default', description: 'Default security group', stateful: true, shared: false, tags: [] }, version: 1, createdAt: ctx.tx.now, updatedAt: ctx.tx.now };
  ctx.tx.put(row);
  for (const r of defaultSecurityGroupRules(row.id)) addRule(ctx, row, r);
  return row;
}

export const securityGroupOps: KindOps = {
  create(ctx, attrs) {
    const projectId = (attrs.project_id as string | undefined) ?? ctx.by.projectId;
    defaultGroupOf(ctx, projectId);
    if (attrs.name === 'default') throw inConflict('Default security group already exists.', 'SecurityGroupDefaultAlreadyExists');
    checkQuota(ctx, 'security_group', projectId);
    const row = newRow(ctx, 'security_group', { ...attrs, project_id: projectId });
    Object.assign(row.attrs, { shared: false, tags: [] });
    ctx.tx.put(row);
    for (const r of egressOnly(defaultSecurityGroupRules(row.id))) addRule(ctx, row, r);
    return row;
  },
  update(ctx, row, attrs) {
    if (row.attrs.name === 'default' && attrs.name !== undefined && attrs.name !== 'default') throw badInput('Updating default security group not allowed.', 'SecurityGroupCannotUpdateDefault');
    if (attrs.name === 'default' && row.attrs.name !== 'default') throw inConflict('Default security group already exists.', 'SecurityGroupDefaultAlreadyExists');
    return ctx.tx.update(row, attrs);
  },
  remove(ctx, row) {
    if (row.attrs.name === 'default' && !ctx.by.isAdmin) throw inConflict('Insufficient rights for removing default security group.', 'SecurityGroupCannotRemoveDefault');
    const inUse = [...ctx.state.of('port').values()].some((p) => (p.attrs.security_groups as string[]).includes(row.id));
    if (inUse) throw inConflict(`Security Group ${row.id} in use.`, 'SecurityGroupInUse');
    const rules = ctx.state.where('security_group_rule', 'security_group_id', row.id);
    const referencedBy = ctx.state.where('security_group_rule', 'remote_group_id', row.id).filter((r) => r.attrs.security_group_id !== row.id);
    if (referencedBy.length > 0) throw inConflict(`Security Group ${row.id} in use.`, 'SecurityGroupInUse');
    for (const r of rules) ctx.tx.del(r);
    ctx.tx.del(row);
  },
  computed(ctx, row) {
    return { security_group_rules: ctx.state.where('security_group_rule', 'security_group_id', row.id).map((r) => ruleView(r)) };
  },
};

export function ruleView(r: NetRow): Record<string, unknown> {
  return {
    id: r.id, ...r.attrs, project_id: r.projectId, tenant_id: r.projectId,
    created_at: neutronTime(r.createdAt), updated_at: neutronTime(r.updatedAt), revision_number: r.version - 1,
  };
}

export const securityGroupRuleOps: KindOps = {
  create(ctx, attrs) {
    const group = find(ctx, 'security_group', attrs.security_group_id as string);
    if (!ctx.by.isAdmin && group.projectId !== ctx.by.projectId) throw badInput('Only admins can manipulate security group rules of other projects.', 'HTTPBadRequest');
    const n = normalizeRule(attrs);
    if ('error' in n) throw badInput(n.error, 'InvalidInput');
    const rule = n.rule;
    if (rule.remote_group_id) find(ctx, 'security_group', rule.remote_group_id);
    const key = ruleKey(rule);
    const dup = ctx.state.where('security_group_rule', 'security_group_id', group.id).find((r) => ruleKey(r.attrs as unknown as RuleInput) === key);
    if (dup) throw inConflict(`Security group rule already exists. Rule id is ${dup.id}.`, 'SecurityGroupRuleExists');
    checkQuota(ctx, 'security_group_rule', group.projectId);
    return addRule(ctx, group, { ...rule, description: (attrs.description as string | undefined) ?? '' });
  },
  update() {
    throw badInput('Security group rules cannot be updated.', 'HTTPBadRequest');
  },
  remove(ctx, row) {
    ctx.tx.del(row);
  },
};
