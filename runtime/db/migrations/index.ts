/** Every committed migration, in order. Add new ones here after `npm run migration:create`. */
import { Migration20261124000238 } from './Migration20261124000238_initial.js';
import { Migration20261124002906 } from './Migration20261124002906_scheduling.js';
import { Migration20261124200000 } from './Migration20261124200000_api.js';
import { Migration20261124400000 } from './Migration20261124400000_key_name.js';
import { Migration20261201100000 } from './Migration20261201100000_identity_lifecycle.js';
import { Migration20261201120000 } from './Migration20261201120000_server_fields.js';
import { Migration20261201120100 } from './Migration20261201120100_migrations.js';
import { Migration20261201120500 } from './Migration20261201120500_image_snapshot.js';
import { Migration20261201130000 } from './Migration20261201130000_task_context.js';
import { Migration20261201121500 } from './Migration20261201121500_image_members.js';
import { Migration20261208100000 } from './Migration20261208100000_guest_data.js';
import { Migration20261215100000 } from './Migration20261215100000_host_facts.js';
import { Migration20261222100000 } from './Migration20261222100000_network.js';
import { Migration20261229100000 } from './Migration20261229100000_image_metadefs.js';
import { Migration20261229110000 } from './Migration20261229110000_image_stores.js';
import { Migration20261230200000 } from './Migration20261230200000_quota_classes.js';
import { Migration20261230100000 } from './Migration20261230100000_flavor_access.js';
import { Migration20261230300000 } from './Migration20261230300000_keystone_cloud.js';

export const MIGRATIONS = [
  { name: 'Migration20261124000238_initial', class: Migration20261124000238 },
  { name: 'Migration20261124002906_scheduling', class: Migration20261124002906 },
  { name: 'Migration20261124200000_api', class: Migration20261124200000 },
  { name: 'Migration20261124400000_key_name', class: Migration20261124400000 },
  { name: 'Migration20261201100000_identity_lifecycle', class: Migration20261201100000 },
  { name: 'Migration20261201120000_server_fields', class: Migration20261201120000 },
  { name: 'Migration20261201120100_migrations', class: Migration20261201120100 },
  { name: 'Migration20261201120500_image_snapshot', class: Migration20261201120500 },
  { name: 'Migration20261201121500_image_members', class: Migration20261201121500 },
  { name: 'Migration20261201130000_task_context', class: Migration20261201130000 },
  { name: 'Migration20261208100000_guest_data', class: Migration20261208100000 },
  { name: 'Migration20261215100000_host_facts', class: Migration20261215100000 },
  { name: 'Migration20261222100000_network', class: Migration20261222100000 },
  { name: 'Migration20261229100000_image_metadefs', class: Migration20261229100000 },
  { name: 'Migration20261229110000_image_stores', class: Migration20261229110000 },
  { name: 'Migration20261230100000_flavor_access', class: Migration20261230100000 },
  { name: 'Migration20261230200000_quota_classes', class: Migration20261230200000 },
  { name: 'Migration20261230300000_keystone_cloud', class: Migration20261230300000 },
];
