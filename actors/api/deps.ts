/** What the API's route modules are built from. */
import type { Clock } from '../../runtime/clock.js';
import type { PropertyProtections } from '../../protocols/image-property-protections.js';
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
  imageQuotas: ImageQuotas;
  /** Glance's property protections, when a rules file is configured. */
  propertyProtections?: PropertyProtections;
}

/**
 * Glance's per-project image quotas, applied to every project (-1: unlimited). Glance ships them
 * unlimited; novact bounds them so one project cannot fill the disk the database shares.
 */
export interface ImageQuotas {
  /** `image_count_total`: images a project may own (not deleted), 413 beyond. */
  imageCountTotal: number;
  /** `user_storage_quota`: bytes of image data a project may hold, 413 beyond. */
  userStorageQuotaBytes: number;
}

export const DEFAULT_IMAGE_QUOTAS: ImageQuotas = { imageCountTotal: 100, userStorageQuotaBytes: 100 * 1024 ** 3 };
