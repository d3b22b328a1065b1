/** Every route of the Networking API v2.0 (mounted at `/networking`), for the api role's route list. */
import type { ApiDeps } from '../deps.js';
import type { Route } from '../routes.js';
import { extensionRoutes } from './extensions.js';
import { quotaRoutes } from './quotas.js';
import { resourceRoutes } from './resources.js';
import { routerInterfaceRoutes } from './routers.js';
import { tagRoutes } from './tags.js';
import { networkVersionRoutes } from './versions.js';
import { zoneRoutes } from './zones.js';
import { autoTopologyRoutes } from './auto-topology.js';

export function networkRoutes(d: ApiDeps): Route[] {
  return [
    ...networkVersionRoutes(d.links),
    ...extensionRoutes(d),
    ...zoneRoutes(d),
    ...quotaRoutes(d),
    ...resourceRoutes(d),
    ...tagRoutes(d),
    ...routerInterfaceRoutes(d),
    ...autoTopologyRoutes(d),
  ];
}
