import type { MappingSnapshot } from '#core/domain/field-mapping.ts';
import type { SyncStore } from '#core/ports/sync-store.ts';
import { PromiseCache } from '../promise-cache.ts';

/**
 * The mapping each sync applies, read once per sync by a processor container: a snapshot never
 * changes once frozen (`mappingOf` is null only before the prepare step, and no item runs before it:
 * a null is not kept). At most `max` syncs are kept, the oldest dropped first.
 */
export class MappingCache {
  readonly #cache: PromiseCache<MappingSnapshot | null>;

  constructor(max = 200) {
    this.#cache = new PromiseCache({ ttlMs: Number.POSITIVE_INFINITY, max, keep: (s) => s !== null });
  }

  get(syncs: Pick<SyncStore, 'mappingOf'>, syncId: string): Promise<MappingSnapshot | null> {
    return this.#cache.get(syncId, () => syncs.mappingOf(syncId));
  }
}
