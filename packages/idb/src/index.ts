// @statecraft/idb: the IndexedDB store, the persistent outbox and LRU eviction for browser caches.
export { idbStore, type IdbStore, type IdbStoreOptions, type CacheStats, type CacheDocInfo } from './idb-store.ts'
export { idbOutbox, type Outbox, type OutboxEntry } from './outbox.ts'
export { evictLRU, type EvictResult } from './evict.ts'
export { deleteIdbStore } from './delete.ts'
export { SCHEMA_VERSION, type OpenOptions } from './schema.ts'
export type { OnLocked } from './tab-lock.ts'
