/**
 * Flavors, held in memory by the conductor with their access lists (a boot never reads them from
 * the database). Seeded with Nova's classic m1.* set when the table is empty.
 */
import { NotFoundError } from '../../protocols/errors.js';
import type { Flavor } from '../../protocols/resources.js';
import { Flavor as FlavorEntity, type FlavorRow } from '../../runtime/db/entities/index.js';
import type { Orm } from '../../runtime/db/orm.js';

export const DEFAULT_FLAVORS: Flavor[] = [
  { id: '1', name: 'm1.tiny', vcpus: 1, memoryMb: 512, diskGb: 1, ephemeralGb: 0, swapMb: 0, isPublic: true, extraSpecs: {} },
  { id: '2', name: 'm1.small', vcpus: 1, memoryMb: 2048, diskGb: 20, ephemeralGb: 0, swapMb: 0, isPublic: true, extraSpecs: {} },
  { id: '3', name: 'm1.medium', vcpus: 2, memoryMb: 4096, diskGb: 40, ephemeralGb: 0, swapMb: 0, isPublic: true, extraSpecs: {} },
  { id: '4', name: 'm1.large', vcpus: 4, memoryMb: 8192, diskGb: 80, ephemeralGb: 0, swapMb: 0, isPublic: true, extraSpecs: {} },
  { id: '5', name: 'm1.xlarge', vcpus: 8, memoryMb: 16384, diskGb: 160, ephemeralGb: 0, swapMb: 0, isPublic: true, extraSpecs: {} },
];

function fromRow(r: FlavorRow, projects: string[]): Flavor {
  return {
    id: r.id, name: r.name, vcpus: r.vcpus, memoryMb: r.memoryMb, diskGb: r.rootGb, ephemeralGb: r.ephemeralGb, swapMb: r.swapMb ?? 0,
    isPublic: r.isPublic, extraSpecs: r.extraSpecs, description: r.description ?? null, projects,
  };
}

export class FlavorCatalog {
  private byRef = new Map<string, Flavor>();

  constructor(private readonly orm: Orm) {}

  async load(seed: Flavor[] = DEFAULT_FLAVORS): Promise<void> {
    const em = this.orm.em.fork();
    let rows = await em.find(FlavorEntity, { disabled: false });
    if (rows.length === 0 && seed.length > 0) {
      const now = new Date();
      await em.insertMany(
        FlavorEntity,
        seed.map((f) => ({
          id: f.id, name: f.name, vcpus: f.vcpus, memoryMb: f.memoryMb, rootGb: f.diskGb, ephemeralGb: f.ephemeralGb, swapMb: f.swapMb,
          isPublic: f.isPublic, disabled: false, extraSpecs: f.extraSpecs, createdAt: now,
        })),
      );
      rows = await em.find(FlavorEntity, { disabled: false });
    }
    const access = new Map<string, string[]>();
    const grants = (await em.getConnection().execute('select flavor_id, project_id from flavor_projects order by project_id')) as { flavor_id: string; project_id: string }[];
    for (const g of grants) access.set(g.flavor_id, [...(access.get(g.flavor_id) ?? []), g.project_id]);
    const next = new Map<string, Flavor>();
    for (const r of rows) {
      const f = fromRow(r, access.get(r.id) ?? []);
      next.set(f.id, f);
      next.set(f.name, f);
    }
    this.byRef = next;
  }

  /** By id or by name (the CLI accepts either, as `openstack server create --flavor` does). */
  find(ref: string): Flavor | undefined {
    return this.byRef.get(ref);
  }

  get(ref: string): Flavor {
    const f = this.find(ref);
    if (!f) throw new NotFoundError(`Flavor ${ref} could not be found.`);
    return f;
  }

  list(): Flavor[] {
    return [...new Map([...this.byRef.values()].map((f) => [f.id, f])).values()].sort((a, b) => a.memoryMb - b.memoryMb || a.id.localeCompare(b.id));
  }
}
