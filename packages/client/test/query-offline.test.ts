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
  // items/4 and items/5 reach client A only through its live query (no doc handle): the rows it
  // was shown are cached too, and a delete seen through the query removes a cached row.
  await store.mutate(new Map([['items/4', { type: 'set', value: { n: 4 } }], ['items/5', { type: 'set', value: { n: 5 } }]]))
  await firstRows(fn => a.query(prefix('items/')).subscribe(fn), 4)
  let stopA: (() => void) | undefined
  const gone = new Promise<void>(resolve => {
    stopA = a.query(prefix('items/')).subscribe(rows => {
      if (rows.has('items/4') && !rows.has('items/5')) resolve()
    })
  })
  await store.mutate(new Map([['items/5', { type: 'del' }]]))
  await gone
  stopA?.()
  await a.whenPersisted()
  await a.close()

  await server.close() // the server is gone: only the cache can answer
  const b = createClient({ url: server.url, cache: cacheStore, offline: true })
  cleanups.push(() => b.close())
  const all = await firstRows(fn => b.query(prefix('items/')).subscribe(fn), 3)
  expect([...all]).toEqual([['items/1', { n: 1 }], ['items/2', { n: 2 }], ['items/4', { n: 4 }]])
  const last = await firstRows(fn => b.query(range({ prefix: 'items/', reverse: true, limit: 1 })).subscribe(fn), 1)
  expect([...last]).toEqual([['items/4', { n: 4 }]])
  // A pending offline write shows in the rows too.
  void b.doc('items/3').set({ n: 3 }).catch(() => {})
  const withPending = await firstRows(fn => b.query(prefix('items/')).subscribe(fn), 4)
  expect([...withPending.keys()]).toEqual(['items/1', 'items/2', 'items/3', 'items/4'])
})
