// LRU eviction of clean cached docs: deletes the least recently used docs that are not pinned
// until the store's estimated size fits, in one txn that fails (and is retried) if any chosen doc
// changed after it was chosen.
import { hasCode } from '@statecraft/core'
import type { Key, Op, Txn } from '@statecraft/core'
import type { IdbStore } from './idb-store.ts'

export interface EvictResult {
  /** The keys deleted, least recently used first. */
  evicted: Key[]
  /** The estimated size afterwards (may still exceed the budget when the rest is pinned). */
  totalBytes: number
}

/**
 * Deletes least-recently-used docs of `store` whose `isPinned(key)` is false (the client pins docs
 * with pending writes or live subscribers) until its estimated size is at most `maxBytes`. The
 * deletes are one txn with meta `{ evicted: true }`, based on the versions the choice was made at,
 * so a doc written in between is not evicted (the choice is made again, up to `attempts` times).
 */
export async function evictLRU(
  store: IdbStore,
  maxBytes: number,
  isPinned: (key: Key) => boolean = () => false,
  attempts = 3,
): Promise<EvictResult> {
  for (let attempt = 1; ; attempt++) {
    const stats = store.cacheStats()
    let total = stats.totalBytes
    const victims: Key[] = []
    for (const d of stats.docs) {
      if (total <= maxBytes) break
      if (isPinned(d.key)) continue
      victims.push(d.key)
      total -= d.bytes
    }
    if (victims.length === 0) return { evicted: [], totalBytes: stats.totalBytes }
    const txn: Txn = new Map(victims.map(k => [k, { type: 'del' } as Op]))
    try {
      await store.mutate(txn, { baseVersions: stats.versions, conflictKeys: victims, meta: { evicted: true } })
      return { evicted: victims, totalBytes: store.cacheStats().totalBytes }
    } catch (e) {
      if (!hasCode(e, 'conflict') || attempt >= attempts) throw e
    }
  }
}
