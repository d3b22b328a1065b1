/** Glance's format rules (seeds: disk/container formats; ari/aki/ami must match each other). */
import { BadRequestError } from './errors.js';

export const DISK_FORMATS = ['ami', 'ari', 'aki', 'vhd', 'vhdx', 'vmdk', 'raw', 'qcow2', 'vdi', 'iso', 'ploop'] as const;
export const CONTAINER_FORMATS = ['ami', 'ari', 'aki', 'bare', 'ovf', 'ova', 'docker', 'compressed'] as const;
const AMAZON = new Set(['ami', 'ari', 'aki']);

export function checkFormats(disk: string, container: string): void {
  if (!(DISK_FORMATS as readonly string[]).includes(disk)) throw new BadRequestError(`disk_format must be one of ${DISK_FORMATS.join(', ')}`);
  if (!(CONTAINER_FORMATS as readonly string[]).includes(container)) {
    throw new BadRequestError(`container_format must be one of ${CONTAINER_FORMATS.join(', ')}`);
  }
  if ((AMAZON.has(disk) || AMAZON.has(container)) && disk !== container) {
    throw new BadRequestError('when disk_format or container_format is ari, aki or ami, both must be the same');
  }
}
