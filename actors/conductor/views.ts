/** Instance rows as readers see them. */
import type { ServerView } from '../../protocols/messages.js';
import { apiStatus, type PowerState } from '../../protocols/states.js';
import { sanitizeHostname } from '../../protocols/server-fields.js';
import type { InstanceRow } from '../../runtime/db/entities/index.js';

export function serverView(r: InstanceRow): ServerView {
  return {
    id: r.uuid,
    name: r.name,
    status: apiStatus(r.vmState, r.taskState),
    vmState: r.vmState,
    taskState: r.taskState,
    powerState: r.powerState as PowerState,
    host: r.host,
    projectId: r.projectId,
    userId: r.userId,
    flavor: { id: r.flavorId, name: r.flavorName, vcpus: r.vcpus, ram: r.memoryMb, disk: r.rootGb, ephemeral: r.ephemeralGb, swap: r.swapMb ?? 0 },
    imageId: r.imageRef,
    availabilityZone: r.availabilityZone,
    metadata: r.metadata,
    keyName: r.keyName,
    userData: r.userData ?? null,
    configDrive: r.configDrive ?? false,
    tags: r.tags ?? [],
    description: r.description ?? null,
    hostname: r.hostname ?? sanitizeHostname(r.name, r.uuid),
    accessIPv4: r.accessIpV4 ?? '',
    accessIPv6: r.accessIpV6 ?? '',
    fault: r.fault,
    createdAt: new Date(r.createdAt).toISOString(),
    updatedAt: new Date(r.updatedAt).toISOString(),
    launchedAt: r.launchedAt ? new Date(r.launchedAt).toISOString() : null,
    locked: r.lockedBy !== null && r.lockedBy !== undefined,
    lockedReason: r.lockedReason ?? null,
  };
}
