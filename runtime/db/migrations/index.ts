/** Every committed migration, in order. Add new ones here after `npm run migration:create`. */
import { Migration20261124000238 } from './Migration20261124000238_initial.js';

export const MIGRATIONS = [{ name: 'Migration20261124000238_initial', class: Migration20261124000238 }];
