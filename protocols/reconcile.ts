/**
 * Guest reconciliation (Nova's `_cleanup_running_deleted_instances`, `running_deleted_instance_action
 * = reap`): a host lists the guests its hypervisor runs and asks the conductor which of them still
 * belong to a live instance on that host; it destroys the rest. Pure schemas, no I/O.
 *
 * Subject: `<root>.conductor.host-guests.<host>` (a read: it changes nothing, the host acts on the
 * answer); its catalog definition is `HostGuests` (protocols/catalog/conductor.ts).
 */
import { Type, type Static } from '@sinclair/typebox';

/** One request names at most this many guests (a host with more asks in several requests). */
export const HOST_GUESTS_MAX = 1_000;

const HostName = Type.String({ minLength: 1, maxLength: 255, pattern: '^[A-Za-z0-9_-][A-Za-z0-9_.-]*$' });
const Uuid = Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$' });

export const HostGuestsRequest = Type.Object(
  {
    host: HostName,
    uuids: Type.Array(Uuid, { maxItems: HOST_GUESTS_MAX }),
  },
  { additionalProperties: false },
);
export type HostGuestsRequest = Static<typeof HostGuestsRequest>;

export const HostGuestsReply = Type.Object(
  {
    /** The uuids of the request that have a live (not deleted) instance on the host, mid-build included. */
    live: Type.Array(Uuid, { maxItems: HOST_GUESTS_MAX }),
    /**
     * Of those, the ones that should be running there now (placed on the host, ACTIVE, no task):
     * what a host that fenced itself starts again once it is back (host-fence.ts).
     */
    running: Type.Optional(Type.Array(Uuid, { maxItems: HOST_GUESTS_MAX })),
  },
  { additionalProperties: false },
);
export type HostGuestsReply = Static<typeof HostGuestsReply>;
