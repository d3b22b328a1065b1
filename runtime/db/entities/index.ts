import { Instance } from './instance.js';
import { InstanceAction } from './instance-action.js';
import { Flavor } from './flavor.js';
import { Image } from './image.js';
import { ComputeNode } from './compute-node.js';
import { Allocation, InventoryEntity, ResourceProvider } from './placement.js';

export { Instance, InstanceAction, Flavor, Image, ComputeNode, Allocation, InventoryEntity, ResourceProvider };
export type { InstanceRow } from './instance.js';
export type { InstanceActionRow } from './instance-action.js';
export type { FlavorRow } from './flavor.js';
export type { ImageRow } from './image.js';
export type { ComputeNodeRow } from './compute-node.js';
export type { AllocationRow, InventoryRow, ResourceProviderRow } from './placement.js';

export const ENTITIES = [Instance, InstanceAction, Flavor, Image, ComputeNode, ResourceProvider, InventoryEntity, Allocation];
