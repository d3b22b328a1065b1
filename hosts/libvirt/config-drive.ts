/**
 * The config drive (Nova's `configdrive`): an ISO 9660 volume labelled `config-2` holding the
 * OpenStack metadata format (`openstack/latest/meta_data.json`, `user_data`, `network_data.json`,
 * `vendor_data.json`, and the dated version directory), built with xorriso.
 * SIGNATURES ONLY: the bodies land with the config-drive work.
 */
import { DriverError, type CallOptions } from '../driver.js';
import type { GuestSpec } from '../../protocols/host.js';

export interface ConfigDriveContext {
  availabilityZone?: string | null;
  /** The launch time (ISO 8601). */
  launchedAt?: string;
}

/** The drive's files by path (pure: no I/O), e.g. `openstack/latest/meta_data.json`. */
export function configDriveFiles(_spec: GuestSpec, _ctx: ConfigDriveContext = {}): Record<string, string | Uint8Array> {
  throw new DriverError('unsupported', 'config drive: not built yet');
}

/** Writes the ISO to `isoPath` (replaced atomically). */
export async function buildConfigDrive(_spec: GuestSpec, _isoPath: string, _ctx: ConfigDriveContext = {}, _opts?: CallOptions): Promise<void> {
  throw new DriverError('unsupported', 'config drive: not built yet');
}
