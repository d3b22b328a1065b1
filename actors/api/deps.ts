/** What the API's route modules are built from. */
import type { Clock } from '../../runtime/clock.js';
import type { Logger } from '../../runtime/log/logger.js';
import type { Backend } from './backend.js';
import type { KeypairStore } from './compute/keypair-store.js';
import type { QuotaStore } from './compute/quota-store.js';
import type { IdentityStore } from './identity/identity-store.js';
import type { TokenService } from './identity/tokens.js';
import type { Links } from './links.js';

export interface ApiDeps {
  backend: Backend;
  links: Links;
  identity: IdentityStore;
  tokens: TokenService;
  quotas: QuotaStore;
  keypairs: KeypairStore;
  clock: Clock;
  log: Logger;
  /** Glance's `image_size_cap`: the largest upload accepted. */
  imageSizeCapBytes: number;
}
