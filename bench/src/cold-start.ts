// Section 5: cold start. A client whose cache (a LevelDB store, as in Node) already holds 10,000
// docs opens a `useQuery`-style prefix query while offline: time from creating the client to the
// first results (rows from the cache), and to the cache being loaded. Also the same query online,
// against a server holding the same 10,000 docs, for comparison.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { prefix, type Key, type Value } from '@statecraft/core'
import { createClient, storeCache } from '@statecraft/client'
import { openLevelStore } from '@statecraft/level'
import { statecraftClient } from './clients.ts'
import type { ServerProcess } from './servers.ts'

export const COLD_DOCS = 10_000
const keyOf = (i: number): Key => `items/${String(i).padStart(5, '0')}`
const valueOf = (i: number): Value => ({ title: `item ${i}`, done: i % 3 === 0, n: i })

export interface ColdStart {
  /** ms until the cache was loaded (the client's cacheReady). */
  cacheLoaded: number
  /** ms until the query first showed any row, or NaN if it showed none within the wait. */
  firstRows: number
  /** ms until the query showed all COLD_DOCS rows, or NaN. */
  allRows: number
  /** rows shown when the wait ended. */
  rowsShown: number
}

/** A LevelDB cache dir holding COLD_DOCS docs, written through the client's own cache format. */
export async function makeColdCache(): Promise<{ dir: string; remove: () => void }> {
  const root = mkdtempSync(join(tmpdir(), 'statecraft-bench-cache-'))
  const dir = join(root, 'cache')
  const store = await openLevelStore(dir)
  const cache = storeCache(store)
  const docs = new Map(Array.from({ length: COLD_DOCS }, (_, i) => [keyOf(i), { value: valueOf(i), versions: { server: i + 1 } }] as const))
  await cache.commit({ docs, entries: new Map(), seqs: new Map() })
  await store.close()
  return { dir, remove: () => rmSync(root, { recursive: true, force: true }) }
}

async function watchQuery(open: () => { rows: (fn: (rows: Map<Key, Value>) => void) => () => void; ready: Promise<void>; close: () => Promise<void> }, waitMs: number): Promise<ColdStart> {
  const start = performance.now()
  const q = open()
  let firstRows = NaN
  let allRows = NaN
  let rowsShown = 0
  let done: () => void = () => {}
  const finished = new Promise<void>(r => (done = r))
  const stop = q.rows(rows => {
    rowsShown = rows.size
    if (rows.size > 0 && Number.isNaN(firstRows)) firstRows = performance.now() - start
    if (rows.size >= COLD_DOCS && Number.isNaN(allRows)) {
      allRows = performance.now() - start
      done()
    }
  })
  await q.ready
  const cacheLoaded = performance.now() - start
  const t = setTimeout(done, waitMs)
  await finished
  clearTimeout(t)
  stop()
  await q.close()
  return { cacheLoaded, firstRows, allRows, rowsShown }
}

/** Offline, from the LevelDB cache in `dir`. */
export function coldStartOffline(dir: string, waitMs = 3000): Promise<ColdStart> {
  return watchQuery(() => {
    const storeP = openLevelStore(dir)
    let close: () => Promise<void> = async () => {}
    let fn: ((rows: Map<Key, Value>) => void) | undefined
    let stop: (() => void) | undefined
    const ready = (async () => {
      const store = await storeP
      const db = createClient({ cache: store, offline: true, dial: () => { throw new Error('offline') }, log: () => {} })
      close = async () => {
        await db.close()
        await store.close()
      }
      if (fn !== undefined) stop = db.query(prefix('items/')).subscribe(fn)
      await db.cacheReady
    })()
    return { rows: f => ((fn = f), () => stop?.()), ready, close: () => close() }
  }, waitMs)
}

/** Online with an empty cache, against `server` holding the same docs (see seedServer). */
export function coldStartOnline(server: ServerProcess, waitMs = 10_000): Promise<ColdStart> {
  return watchQuery(() => {
    const db = statecraftClient(server.url)
    return {
      rows: fn => db.query(prefix('items/')).subscribe(fn),
      ready: db.cacheReady,
      close: () => db.close(),
    }
  }, waitMs)
}

export async function seedServer(server: ServerProcess): Promise<void> {
  const db = statecraftClient(server.url)
  for (let i = 0; i < COLD_DOCS; i += 1000) {
    await db.transaction(tx => {
      for (let j = i; j < i + 1000; j++) tx.set(keyOf(j), valueOf(j))
    })
  }
  await db.close()
}
