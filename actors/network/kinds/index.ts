/** Each kind's rules, by kind: the role's dispatch table. */
import type { NetKind } from '../../../protocols/network/resources.js';
import { floatingIpOps } from './floatingip.js';
import type { KindOps } from './kind-ops.js';
import { networkOps } from './network.js';
import { portOps } from './port.js';
import { routerOps } from './router.js';
import { securityGroupOps, securityGroupRuleOps } from './security-group.js';
import { subnetOps } from './subnet.js';

export const OPS: Readonly<Record<NetKind, KindOps>> = {
  network: networkOps,
  subnet: subnetOps,
  port: portOps,
  security_group: securityGroupOps,
  security_group_rule: securityGroupRuleOps,
  floatingip: floatingIpOps,
  router: routerOps,
};
