/**
 * Neutron's resources as data: for each kind, its collection (the URL segment and the list's JSON
 * key), its singular (the body's key) and its attributes, each with what Neutron's attribute map
 * says of it: settable at create (`post`), required there, settable by update (`put`), the default,
 * the value check, and whether only an admin may set it. The REST layer and the network role are
 * generic over this table; only what a resource does beyond plain fields lives in the role.
 */
import { ATTRIBUTE_CHECKS, type AttributeCheck } from './attribute-checks.js';

export type NetKind = 'network' | 'subnet' | 'port' | 'security_group' | 'security_group_rule' | 'floatingip' | 'router';

export interface AttributeSpec {
  post?: boolean;
  required?: boolean;
  put?: boolean;
  /** The value when a create omits it (a function: computed from the rest by the role). */
  default?: unknown;
  check: AttributeCheck;
  /** Only an admin may set it, and only an admin sees it. */
  admin?: boolean;
}

export interface KindSpec {
  kind: NetKind;
  /** The URL segment: `/v2.0/<path>`. */
  path: string;
  /** The list body's key. */
  collection: string;
  attributes: Readonly<Record<string, AttributeSpec>>;
}

const name: AttributeSpec = { post: true, put: true, default: '', check: 'name' };
const description: AttributeSpec = { post: true, put: true, default: '', check: 'description' };
const adminUp: AttributeSpec = { post: true, put: true, default: true, check: 'bool' };
const project: AttributeSpec = { post: true, check: 'project' };
const readOnly = (check: AttributeCheck): AttributeSpec => ({ check });

export const KINDS: Readonly<Record<NetKind, KindSpec>> = {
  network: {
    kind: 'network', path: 'networks', collection: 'networks',
    attributes: {
      name, description, admin_state_up: adminUp, project_id: project,
      shared: { post: true, put: true, default: false, check: 'bool', admin: true },
      'router:external': { post: true, put: true, default: false, check: 'bool', admin: true },
      mtu: { post: true, put: true, default: 1500, check: 'mtu' },
      port_security_enabled: { post: true, put: true, default: true, check: 'bool' },
      'provider:network_type': { post: true, check: 'networkType', admin: true },
      'provider:physical_network': { post: true, check: 'physnet', admin: true },
      'provider:segmentation_id': { post: true, check: 'segmentationId', admin: true },
      availability_zone_hints: { post: true, default: [], check: 'zoneHints' },
      dns_domain: { post: true, put: true, default: '', check: 'dnsDomain' },
      is_default: { post: true, put: true, default: false, check: 'bool', admin: true },
      subnets: readOnly('readOnly'), status: readOnly('readOnly'),
    },
  },
  subnet: {
    kind: 'subnet', path: 'subnets', collection: 'subnets',
    attributes: {
      name, description, project_id: project,
      network_id: { post: true, required: true, check: 'uuid' },
      ip_version: { post: true, required: true, check: 'ipVersion' },
      cidr: { post: true, required: true, check: 'cidr' },
      gateway_ip: { post: true, put: true, check: 'ipOrNull' },
      allocation_pools: { post: true, put: true, check: 'pools' },
      dns_nameservers: { post: true, put: true, default: [], check: 'nameservers' },
      host_routes: { post: true, put: true, default: [], check: 'hostRoutes' },
      enable_dhcp: { post: true, put: true, default: true, check: 'bool' },
      ipv6_ra_mode: { post: true, default: null, check: 'ipv6Mode' },
      ipv6_address_mode: { post: true, default: null, check: 'ipv6Mode' },
      subnetpool_id: { post: true, default: null, check: 'nullOnly' },
      segment_id: { post: true, default: null, check: 'nullOnly' },
      service_types: { post: true, put: true, default: [], check: 'stringList' },
      dns_publish_fixed_ip: { post: true, put: true, default: false, check: 'bool' },
    },
  },
  port: {
    kind: 'port', path: 'ports', collection: 'ports',
    attributes: {
      name, description, admin_state_up: adminUp, project_id: project,
      network_id: { post: true, required: true, check: 'uuid' },
      mac_address: { post: true, put: true, check: 'mac' },
      fixed_ips: { post: true, put: true, check: 'fixedIps' },
      device_id: { post: true, put: true, default: '', check: 'deviceId' },
      device_owner: { post: true, put: true, default: '', check: 'deviceOwner' },
      security_groups: { post: true, put: true, check: 'uuidList' },
      allowed_address_pairs: { post: true, put: true, default: [], check: 'addressPairs' },
      port_security_enabled: { post: true, put: true, check: 'bool' },
      'binding:host_id': { post: true, put: true, default: '', check: 'hostId', admin: true },
      'binding:vnic_type': { post: true, put: true, default: 'normal', check: 'vnicType' },
      'binding:profile': { post: true, put: true, default: {}, check: 'bindingProfile', admin: true },
      dns_name: { post: true, put: true, default: '', check: 'dnsName' },
      extra_dhcp_opts: { post: true, put: true, default: [], check: 'dhcpOpts' },
      status: readOnly('readOnly'), 'binding:vif_type': readOnly('readOnly'), 'binding:vif_details': readOnly('readOnly'),
    },
  },
  security_group: {
    kind: 'security_group', path: 'security-groups', collection: 'security_groups',
    attributes: {
      name, description, project_id: project,
      stateful: { post: true, put: true, default: true, check: 'bool' },
      security_group_rules: readOnly('readOnly'),
    },
  },
  security_group_rule: {
    kind: 'security_group_rule', path: 'security-group-rules', collection: 'security_group_rules',
    attributes: {
      description, project_id: project,
      security_group_id: { post: true, required: true, check: 'uuid' },
      direction: { post: true, required: true, check: 'any' },
      ethertype: { post: true, default: 'IPv4', check: 'any' },
      protocol: { post: true, default: null, check: 'any' },
      port_range_min: { post: true, default: null, check: 'any' },
      port_range_max: { post: true, default: null, check: 'any' },
      remote_ip_prefix: { post: true, default: null, check: 'any' },
      remote_group_id: { post: true, default: null, check: 'uuidOrNull' },
      remote_address_group_id: { post: true, default: null, check: 'nullOnly' },
    },
  },
  floatingip: {
    kind: 'floatingip', path: 'floatingips', collection: 'floatingips',
    attributes: {
      description, project_id: project,
      floating_network_id: { post: true, required: true, check: 'uuid' },
      floating_ip_address: { post: true, check: 'ip' },
      subnet_id: { post: true, check: 'uuidOrNull' },
      port_id: { post: true, put: true, default: null, check: 'uuidOrNull' },
      fixed_ip_address: { post: true, put: true, default: null, check: 'ipOrNull' },
      dns_name: { post: true, default: '', check: 'dnsName' },
      dns_domain: { post: true, default: '', check: 'dnsDomain' },
      router_id: readOnly('readOnly'), status: readOnly('readOnly'),
    },
  },
  router: {
    kind: 'router', path: 'routers', collection: 'routers',
    attributes: {
      name, description, admin_state_up: adminUp, project_id: project,
      external_gateway_info: { post: true, put: true, default: null, check: 'gatewayInfo' },
      routes: { put: true, default: [], check: 'hostRoutes' },
      distributed: { post: true, default: false, check: 'bool', admin: true },
      ha: { post: true, default: false, check: 'bool', admin: true },
      availability_zone_hints: { post: true, default: [], check: 'zoneHints' },
      status: readOnly('readOnly'),
    },
  },
};

export const KIND_BY_PATH: Readonly<Record<string, KindSpec>> = Object.fromEntries(Object.values(KINDS).map((k) => [k.path, k]));
export const NET_KINDS = Object.keys(KINDS) as NetKind[];

/** Fields every resource carries besides its attributes. */
export const COMMON_FIELDS = ['id', 'project_id', 'tenant_id', 'created_at', 'updated_at', 'revision_number', 'tags'] as const;

export { ATTRIBUTE_CHECKS };
