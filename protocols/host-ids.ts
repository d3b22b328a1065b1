/**
 * Stable ids for compute services and hypervisors, derived from the host name (the records are keyed
 * by host, and a re-registered host keeps its ids): a name-based UUID (RFC 4122 version 5) from 2.53,
 * and a positive 31-bit integer for older microversions, where Nova's ids are integers.
 */
import { createHash } from 'node:crypto';

const NAMESPACE = 'novact-compute';

export function hostUuid(kind: 'service' | 'hypervisor', host: string): string {
  const h = createHash('sha1').update(`${NAMESPACE}:${kind}:${host}`).digest();
  h[6] = (h[6]! & 0x0f) | 0x50;
  h[8] = (h[8]! & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

export function hostInt(kind: 'service' | 'hypervisor', host: string): number {
  return createHash('sha1').update(`${NAMESPACE}:${kind}:${host}`).digest().readUInt32BE(0) & 0x7fffffff || 1;
}
