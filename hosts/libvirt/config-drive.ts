/**
 * The config drive (Nova's `configdrive`): an ISO 9660 volume labelled `config-2` holding the
 * OpenStack metadata format (`openstack/latest/meta_data.json`, `user_data`, `network_data.json`,
 * `vendor_data.json`, `vendor_data2.json`, the same under a dated version directory, and EC2's
 * `ec2/latest/meta-data.json`), built with xorriso. The keys are those of Nova's
 * `nova/api/metadata/base.py`. Everything from the spec is data inside files: every file name is
 * fixed here, none comes from the spec.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { DriverError, type CallOptions } from '../driver.js';
import type { GuestSpec } from '../../protocols/host.js';
import { firstIpv4, networkData } from '../../protocols/network/network-data.js';
import { sanitizeHostname } from '../../protocols/server-fields.js';
import { run } from './exec.js';

export interface ConfigDriveContext {
  /** The host's availability zone (default `nova`, Nova's default_availability_zone). */
  availabilityZone?: string | null;
  /** Nova's `[api] dhcp_domain`, appended to the hostname (default `novalocal`; empty for none). */
  dhcpDomain?: string;
  /** The bytes behind `random_seed` (default 512 fresh random bytes); given, the files are a pure function. */
  randomSeed?: Uint8Array;
}

/**
 * The OpenStack version directories written. cloud-init picks the newest it knows (Rocky,
 * 2018-08-27, is its newest); `latest` is Nova's newest (Victoria added `dedicated_cpus`).
 */
const OPENSTACK_VERSIONS = [
  { dir: '2018-08-27', dedicatedCpus: false },
  { dir: 'latest', dedicatedCpus: true },
];

const json = (v: unknown): string => JSON.stringify(v);

/** The drive's files by path (pure: no I/O), e.g. `openstack/latest/meta_data.json`. */
export function configDriveFiles(spec: GuestSpec, ctx: ConfigDriveContext = {}): Record<string, string | Uint8Array> {
  const domain = ctx.dhcpDomain ?? 'novalocal';
  const host = spec.hostname ?? sanitizeHostname(spec.name, spec.uuid);
  const hostname = domain === '' ? host : `${host}.${domain}`;
  const az = ctx.availabilityZone === undefined ? 'nova' : ctx.availabilityZone;
  const seed = Buffer.from(ctx.randomSeed ?? randomBytes(512)).toString('base64');
  const key = spec.keyPair;
  const meta = spec.metadata && Object.keys(spec.metadata).length > 0 ? spec.metadata : undefined;
  const userData = spec.userData === undefined ? undefined : new Uint8Array(Buffer.from(spec.userData, 'base64'));
  const network = networkData(spec.nics);
  const localIpv4 = firstIpv4(spec.nics);

  const files: Record<string, string | Uint8Array> = {};
  for (const v of OPENSTACK_VERSIONS) {
    const dir = `openstack/${v.dir}`;
    files[`${dir}/meta_data.json`] = json({
      uuid: spec.uuid,
      ...(meta && { meta }),
      ...(key && { public_keys: { [key.name]: key.publicKey }, keys: [{ name: key.name, type: key.type, data: key.publicKey }] }),
      hostname,
      name: spec.name,
      launch_index: 0,
      availability_zone: az,
      random_seed: seed,
      project_id: spec.projectId ?? null,
      devices: [],
      ...(v.dedicatedCpus && { dedicated_cpus: [] }),
    });
    if (userData) files[`${dir}/user_data`] = userData;
    files[`${dir}/network_data.json`] = json(network);
    // Nova's default vendordata provider (StaticJSON without a file) gives {} and {static: {}}.
    files[`${dir}/vendor_data.json`] = json({});
    files[`${dir}/vendor_data2.json`] = json({ static: {} });
  }
  // EC2's view, with the keys novact has (no EC2 ids, reservations or floating addresses).
  files['ec2/latest/meta-data.json'] = json({
    'ami-launch-index': 0,
    hostname,
    ...(localIpv4 && { 'local-ipv4': localIpv4 }),
    'local-hostname': hostname,
    'public-hostname': hostname,
    ...(spec.flavor && { 'instance-type': spec.flavor.name }),
    placement: { 'availability-zone': az },
    'instance-action': 'none',
    'security-groups': [],
    ...(key && { 'public-keys': { 0: { 'openssh-key': key.publicKey } } }),
  });
  if (userData) files['ec2/latest/user-data'] = userData;
  return files;
}

/** The mkisofs flags Nova passes, through xorriso's emulation (Rock Ridge with rationalised owners, Joliet). */
const MKISOFS = ['-V', 'config-2', '-publisher', 'novact', '-J', '-r', '-l', '-ldots', '-allow-lowercase', '-allow-multidot', '-input-charset', 'utf-8', '-quiet'];

/** Writes the ISO to `isoPath` (replaced atomically). */
export async function buildConfigDrive(spec: GuestSpec, isoPath: string, ctx: ConfigDriveContext = {}, opts?: CallOptions): Promise<void> {
  const files = configDriveFiles(spec, ctx);
  const iso = resolve(isoPath);
  const part = `${iso}.part`;
  let tree: string | undefined;
  try {
    // Next to the ISO (the guest's directory), not in a possibly small /tmp.
    tree = await mkdtemp(join(dirname(iso), '.config-drive-'));
    for (const [rel, data] of Object.entries(files)) {
      const file = join(tree, rel);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, data, { mode: 0o644 });
    }
    await rm(part, { force: true });
    await run('xorriso', ['-as', 'mkisofs', '-o', part, ...MKISOFS, tree], opts);
    await rename(part, iso);
  } catch (e) {
    await rm(part, { force: true });
    throw e instanceof DriverError ? e : new DriverError('failed', `config drive ${iso}: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    if (tree) await rm(tree, { recursive: true, force: true });
  }
}
