// The IndexedDB cache: the client's docs and outbox in an @statecraft/idb store (small op log),
// with a size cap enforced by least-recently-used eviction of clean docs.
import { evictLRU, idbStore, type IdbStore } from '@statecraft/idb'
import { storeCache, type ClientCache } from './client-cache.ts'

export interface IdbCacheOptions {
  /** Evict least recently used clean docs (never pending writes) beyond this many bytes (estimated). Default 50 MB. */
  maxBytes?: number
  /** When another tab holds the database: `'fail'` (default: reject with `conflict`) or `'wait'`. */
  onLocked?: 'fail' | 'wait'
  /** An IDBFactory (tests: fake-indexeddb's). */
  indexedDB?: IDBFactory
}

/** Opens (creating) the IndexedDB cache `name`. */
export async function idbCache(name: string, opts: IdbCacheOptions = {}): Promise<ClientCache & { store: IdbStore }> {
  const store = await idbStore(name, {
    historyLimit: 10,
    onLocked: opts.onLocked ?? 'fail',
    ...(opts.indexedDB === undefined ? {} : { indexedDB: opts.indexedDB }),
  })
  const maxBytes = opts.maxBytes ?? 50_000_000
  const cache = storeCache(store, {
    kind: `indexeddb:${name}`,
    ownStore: true,
    touch: ks => store.touch(ks),
    afterCommit: async isPinned => {
      if (store.cacheStats().totalBytes > maxBytes) await evictLRU(store, maxBytes, isPinned)
    },
  })
  return Object.assign(cache, { store })
}
