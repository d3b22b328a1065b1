import { EntitySchema } from '@mikro-orm/core';

export interface FlavorRow {
  id: string;
  name: string;
  vcpus: number;
  memoryMb: number;
  rootGb: number;
  ephemeralGb: number;
  /** Swap, MiB (Nova's flavor `swap`). */
  swapMb: number;
  isPublic: boolean;
  disabled: boolean;
  extraSpecs: Record<string, string>;
  /** Nova 2.55's free text; null when none was given. */
  description?: string | null;
  createdAt: Date;
}

export const Flavor = new EntitySchema<FlavorRow>({
  name: 'Flavor',
  tableName: 'flavors',
  uniques: [{ properties: ['name'] }],
  properties: {
    id: { type: 'string', length: 64, primary: true },
    name: { type: 'string', length: 255 },
    vcpus: { type: 'integer' },
    memoryMb: { type: 'integer' },
    rootGb: { type: 'integer' },
    ephemeralGb: { type: 'integer' },
    swapMb: { type: 'integer', default: 0 },
    isPublic: { type: 'boolean' },
    disabled: { type: 'boolean' },
    extraSpecs: { type: 'json' },
    description: { type: 'text', nullable: true },
    createdAt: { type: 'datetime' },
  },
});
