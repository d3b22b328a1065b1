/**
 * `GET /v2.0/extensions[/<alias>]`: the Neutron API extensions novact implements, each with the
 * name, description and date Neutron gives it (neutron-lib's api/definitions, or Neutron's own
 * extensions/ for quotas, security groups and the standard attributes). Clients probe these before
 * using a feature: the openstack CLI looks up `Availability Zone` before listing network zones.
 */
import { NotFoundError } from '../../../protocols/errors.js';
import type { ApiDeps } from '../deps.js';
import { param, type Route } from '../routes.js';
import { V2 } from './net-request.js';
import { netReader } from './net-policy.js';

export interface Extension {
  alias: string;
  name: string;
  description: string;
  updated: string;
}

const ext = (alias: string, name: string, description: string, updated: string): Extension => ({ alias, name, description, updated });

export const EXTENSIONS: readonly Extension[] = [
  ext('external-net', 'Neutron external network', 'Adds external network attribute to network resource.', '2013-01-14T10:00:00-00:00'),
  ext('router', 'Neutron L3 Router', 'Router abstraction for basic L3 forwarding between L2 Neutron networks and access to external networks via a NAT gateway.', '2012-07-20T10:00:00-00:00'),
  ext('ext-gw-mode', 'Neutron L3 Configurable external gateway mode', 'Extension of the router abstraction for specifying whether SNAT should occur on the external gateway', '2013-03-28T10:00:00-00:00'),
  ext('extraroute', 'Neutron Extra Route', 'Extra routes configuration for L3 router', '2013-02-01T10:00:00-00:00'),
  ext('quotas', 'Quota management support', 'Expose functions for quotas management per project', '2012-07-29T10:00:00-00:00'),
  ext('quota_details', 'Quota details management support', 'Expose functions for quotas usage statistics per project', '2017-02-10T10:00:00-00:00'),
  ext('security-group', 'security-group', 'The security groups extension.', '2012-10-05T10:00:00-00:00'),
  ext('stateful-security-group', 'Stateful security group', 'Indicates if the security group is stateful or not', '2019-11-26T09:00:00-00:00'),
  ext('port-security', 'Port Security', 'Provides port security', '2012-07-23T10:00:00-00:00'),
  ext('binding', 'Port Binding', 'Expose port bindings of a virtual port to external application', '2014-02-03T10:00:00-00:00'),
  ext('provider', 'Provider Network', 'Expose mapping of virtual networks to physical networks', '2012-09-07T10:00:00-00:00'),
  ext('allowed-address-pairs', 'Allowed Address Pairs', 'Provides allowed address pairs', '2013-07-23T10:00:00-00:00'),
  ext('extra_dhcp_opt', 'Neutron Extra DHCP options', 'Extra options configuration for DHCP. For example PXE boot options to DHCP clients can be specified (e.g. tftp-server, server-ip-address, bootfile-name)', '2013-03-17T12:00:00-00:00'),
  ext('subnet-dns-publish-fixed-ip', 'Subnet DNS publish fixed IP', 'Support choosing to publish DNS records for IPs from a subnet', '2019-05-24T10:00:00-00:00'),
  ext('availability_zone', 'Availability Zone', 'The availability zone extension.', '2015-01-01T10:00:00-00:00'),
  ext('network_availability_zone', 'Network Availability Zone', 'Availability zone support for network.', '2015-01-01T10:00:00-00:00'),
  ext('router_availability_zone', 'Router Availability Zone', 'Availability zone support for router.', '2015-01-01T10:00:00-00:00'),
  ext('net-mtu', 'Network MTU', 'Provides MTU attribute for a network resource.', '2015-03-25T10:00:00-00:00'),
  ext('standard-attr-description', 'standard-attr-description', 'Extension to add descriptions to standard attributes', '2016-02-10T10:00:00-00:00'),
  ext('standard-attr-timestamp', 'Resource timestamps', 'Adds created_at and updated_at fields to all Neutron resources that have Neutron standard attributes.', '2016-09-12T10:00:00-00:00'),
  ext('standard-attr-revisions', 'Resource revision numbers', 'This extension will display the revision number of neutron resources.', '2016-04-11T10:00:00-00:00'),
  // Neutron's name lists the resources that take tags (every kind but security group rules).
  ext('standard-attr-tag', 'Tag support for resources with standard attribute: subnet, router, network, port, security_group, floatingip', 'Enables to set tag on resources with standard attribute.', '2017-01-01T00:00:00-00:00'),
  ext('project-id', 'project_id field enabled', 'Extension that indicates that project_id field is enabled.', '2016-09-09T09:09:09-09:09'),
  ext('filter-validation', 'Filter parameters validation', 'Provides validation on filter parameters.', '2018-07-04T10:00:00-00:00'),
  ext('ip-substring-filtering', 'IP address substring filtering', 'Provides IP address substring filtering when listing ports', '2017-11-28T09:00:00-00:00'),
  ext('auto-allocated-topology', 'Auto Allocated Topology Services', 'Auto Allocated Topology Services.', '2016-01-01T00:00:00-00:00'),
  ext('sorting', 'Sorting support', 'Extension that indicates that sorting is enabled.', '2016-06-12T00:00:00-00:00'),
  ext('pagination', 'Pagination support', 'Extension that indicates that pagination is enabled.', '2016-06-12T00:00:00-00:00'),
];

const BY_ALIAS = new Map(EXTENSIONS.map((e) => [e.alias, e]));

/** An extension as Neutron shows it (`links` is always empty there). */
const view = (e: Extension) => ({ name: e.name, alias: e.alias, description: e.description, updated: e.updated, links: [] });

export function extensionRoutes(_d: ApiDeps): Route[] {
  return [
    { method: 'GET', url: `${V2}/extensions`, policy: netReader('get_extension'), handler: async () => ({ extensions: EXTENSIONS.map(view) }) },
    {
      method: 'GET', url: `${V2}/extensions/:alias`, policy: netReader('get_extension'),
      handler: async (req) => {
        const alias = param(req, 'alias');
        const e = BY_ALIAS.get(alias);
        if (!e) throw new NotFoundError(`Extension with alias ${alias} does not exist`);
        return { extension: view(e) };
      },
    },
  ];
}
