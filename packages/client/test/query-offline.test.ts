// An offline client shows a live query's rows from what it knows (its cache after a reload) before
// the server's results arrive. Regression: `db.query(...)` showed no rows until the server answered,
// so an offline app's lists were empty (found by the cold-start benchmark).
import { afterEach, expect, test } from 'vitest'
import { memoryStore, prefix, range, type Key, type Value } from '@statecraft/core'
import { createServer } from '@statecraft/server'
import { createClient } from '@statecraft/client'

const cleanups: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

function firstRows(rowsOf: (fn: (rows: Map<Key, Value>) => void) => () => void, n: number): Promise<Map<Key, Value>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${n} rows within 5 s`)), 5000)
    let stop: (() => void) | undefined
    stop = rowsOf(rows => {
      if (rows.size < n) return
      clearTimeout(timer)
      queueMicrotask(() => stop?.())
      resolve(rows)
    })
  })
}

test('an offline client shows cached rows of a live query at once, in order and within its limit', async () => {
  const store = memoryStore()
  const server = await createServer({ store, port: 0 })
  cleanups.push(() => server.close(), () => store.close())
  const cacheStore = memoryStore()
  cleanups.push(() => cacheStore.close())

  const a = createClient({ url: server.url, cache: cacheStore })
  await a.doc('items/2').set({ n: 2 })
  await a.doc('items/1').set({ n: 1 })
  await a.doc('other/x').set({ n: 0 })
  await a.whenSynced()
  await a.whenPersisted()
  await a.close()

  await server.close() // the server is gone: only the cache can answer
  const b = createClient({ url: server.url, cache: cacheStore, offline: true })
  cleanups.push(() => b.close())
  const all = await firstRows(fn => b.query(prefix('items/')).subscribe(fn), 2)
  expect([...all]).toEqual([['items/1', { n: 1 }], ['items/2', { n: 2 }]])
  const last = await firstRows(fn => b.query(range({ prefix: 'items/', reverse: true, limit: 1 })).subscribe(fn), 1)
  expect([...last]).toEqual([['items/2', { n: 2 }]])
  // A pending offline write shows in the rows too.
  void b.doc('items/3').set({ n: 3 }).catch(() => {})
  const three = await firstRows(fn => b.query(prefix('items/')).subscribe(fn), 3)
  expect([...three.keys()]).toEqual(['items/1', 'items/2', 'items/3'])
})
