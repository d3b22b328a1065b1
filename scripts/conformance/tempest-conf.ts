/**
 * Tempest's configuration for a novact cluster, as text (pure: no I/O). What novact does not have is
 * switched off honestly (no Cinder, Swift; no guest access), so Tempest skips those tests
 * instead of failing them; server actions follow what the API was seen to serve.
 */
export interface Account {
  username: string;
  password: string;
  project: string;
  /** The project's network, by name: Tempest boots the account's servers on it. */
  network?: string;
}

export interface ConformanceSetup {
  authUrl: string;
  imageRef: string;
  imageRefAlt: string;
  flavorRef: string;
  flavorRefAlt: string;
  minMicroversion: string;
  maxMicroversion: string;
  computeNodes: number;
  /** Tempest's `[compute-feature-enabled]` action flags, from the probes (true: not a 501). */
  flags: Record<string, boolean>;
  lockPath: string;
  logFile: string;
  accountsFile: string;
}

/** Features novact has no notion of (no guest agent, no consoles). */
const ALWAYS_OFF = [
  'personality', 'config_drive', 'metadata_service', 'interface_attach', 'vnc_console', 'spice_console',
  'serial_console', 'rdp_console', 'attach_encrypted_volume', 'swap_volume', 'volume_multiattach',
  'block_migration_for_live_migration', 'live_migrate_back_and_forth', 'shelve_migrate', 'evacuate', 'hostname_fqdn_sanitization',
  'disk_config', 'cold_migration_for_volume_backed',
];

const section = (name: string, entries: Record<string, string | number | boolean>): string =>
  [`[${name}]`, ...Object.entries(entries).map(([k, v]) => `${k} = ${typeof v === 'boolean' ? (v ? 'True' : 'False') : v}`), ''].join('\n');

export function renderTempestConf(s: ConformanceSetup): string {
  const actions: Record<string, boolean> = {};
  for (const k of ALWAYS_OFF) actions[k] = false;
  Object.assign(actions, s.flags);
  return [
    section('DEFAULT', { debug: true, log_file: s.logFile, use_stderr: false }),
    section('oslo_concurrency', { lock_path: s.lockPath }),
    section('auth', {
      use_dynamic_credentials: false, test_accounts_file: s.accountsFile, default_credentials_domain_name: 'Default',
      admin_username: 'admin', admin_project_name: 'admin', admin_domain_name: 'Default', create_isolated_networks: false,
    }),
    section('identity', { auth_version: 'v3', uri_v3: s.authUrl, region: 'RegionOne', v3_endpoint_type: 'public', disable_ssl_certificate_validation: true }),
    section('identity-feature-enabled', { api_v2: false, api_v3: true, security_compliance: false }),
    section('compute', {
      image_ref: s.imageRef, image_ref_alt: s.imageRefAlt, flavor_ref: s.flavorRef, flavor_ref_alt: s.flavorRefAlt,
      min_microversion: s.minMicroversion, max_microversion: s.maxMicroversion, min_compute_nodes: s.computeNodes,
      region: 'RegionOne', endpoint_type: 'publicURL', build_timeout: 60, build_interval: 1, fixed_network_name: '',
    }),
    section('compute-feature-enabled', { ...actions, scheduler_enabled_filters: 'all', xenapi_apis: true }),
    section('image', { region: 'RegionOne', endpoint_type: 'public', build_timeout: 60, build_interval: 1 }),
    section('image-feature-enabled', { api_v2: true, api_v1: false, import_image: false, os_glance_reserved: false }),
    section('network', { project_networks_reachable: false, public_network_id: '', shared_physical_network: false }),
    section('network-feature-enabled', { floating_ips: false }),
    section('validation', { run_validation: false }),
    section('service_available', { nova: true, glance: true, neutron: true, cinder: false, swift: false, horizon: false, heat: false, placement: false }),
  ].join('\n');
}

/** Tempest's pre-provisioned accounts: the members (primary, alt) and the admin (`types: [admin]`). */
export function renderAccounts(members: Account[], admin: Account): string {
  const q = (v: string) => `'${v.replace(/'/g, "''")}'`;
  const one = (a: Account, extra: string[] = []) =>
    [
      `- username: ${q(a.username)}`, `  project_name: ${q(a.project)}`, `  password: ${q(a.password)}`, `  domain_name: 'Default'`,
      ...(a.network ? ['  resources:', `    network: ${q(a.network)}`] : []), ...extra,
    ].join('\n');
  return [...members.map((m) => one(m)), one(admin, ['  types:', '    - admin']), ''].join('\n');
}
