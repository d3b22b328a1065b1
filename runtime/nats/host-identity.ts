/**
 * A host's NATS identity: an nkey user. The seed stays with the hypervisor process; the server (and
 * the registrar) only ever see the public key. One identity may carry several hosts (a process that
 * runs a fake fleet); a real hypervisor process runs one.
 */
import { nkeys } from 'nats';

export interface HostIdentity {
  /** `U…`: what the server config lists. */
  readonly publicKey: string;
  /** `SU…`: the secret; whoever holds it may act as these hosts. */
  readonly seed: string;
}

interface KeyPair {
  getPublicKey(): string;
  getSeed(): Uint8Array;
}
// nats.js re-exports nkeys.js untyped.
const nk = nkeys as { createUser(): KeyPair; fromSeed(seed: Uint8Array): KeyPair };

export function newHostIdentity(): HostIdentity {
  const kp = nk.createUser();
  return { publicKey: kp.getPublicKey(), seed: new TextDecoder().decode(kp.getSeed()) };
}

/** The identity a seed stands for; throws on anything that is not a user seed. */
export function identityFromSeed(seed: string): HostIdentity {
  const kp = nk.fromSeed(new TextEncoder().encode(seed.trim()));
  const publicKey = kp.getPublicKey();
  if (!publicKey.startsWith('U')) throw new Error('not an nkey user seed');
  return { publicKey, seed: seed.trim() };
}
