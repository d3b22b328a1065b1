/**
 * Glance's format lists. Glance v2 does not make ari/aki/ami disk and container formats match (that
 * was v1's rule): Tempest's image listing tests create e.g. an `ami` container with an `ari` disk.
 */
import { BadRequestError } from './errors.js';

export const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'] as const;
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'] as const;

export function checkFormats(disk: string, container: string): void {
  if (!(DISK_FORMATS as readonly string[]).includes(disk)) throw new BadRequestError(`disk_format must be one of ${DISK_FORMATS.join(', ')}`);
  if (!(CONTAINER_FORMATS as readonly string[]).includes(container)) {
    throw new BadRequestError(`container_format must be one of ${CONTAINER_FORMATS.join(', ')}`);
  }
}
