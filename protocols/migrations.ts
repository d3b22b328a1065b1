/** Nova's migration vocabulary (pure): what a move record's type and status may be. */
/** Nova's migration types (nova/objects/fields.py `MigrationType`). */
export const MIGRATION_TYPES = ['migration', 'resize', 'live-migration', 'evacuation'] as const;
export type MigrationType = (typeof MIGRATION_TYPES)[number];

/** Nova's migration statuses, over every move kind (cold: pre-migrating … confirmed/reverted; live: queued … completed). */
export const MIGRATION_STATUSES = [
  'queued', 'preparing', 'accepted', 'pre-migrating', 'migrating', 'running', 'post-migrating', 'finished',
  'confirming', 'confirmed', 'reverting', 'reverted', 'completed', 'done', 'error', 'failed', 'cancelled', 'aborted',
] as const;
export type MigrationStatus = (typeof MIGRATION_STATUSES)[number];
