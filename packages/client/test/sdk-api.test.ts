// The app-facing API: refused writes roll back, transactions retry on conflict, live queries with
// local writes laid over, text cursors through remote edits, status, and the IndexedDB cache's size
// cap and clearCache (fake-indexeddb).
import 'fake-indexeddb/auto'
import { expect, test } from 'vitest'
import { StatecraftError, prefix, type Store, type Txn } from '@statecraft/core'
import { type StatecraftClient } from '@statecraft/client'
import { localServers } from './support/local.ts'
import { withMutate } from './support/stores.ts'

/** A store that refuses writes to keys under `ro/` (as access rules would). */
const readonlyUnder = (store: Store): Store =>
  withMutate(store, (txn: Txn, o, inner) => {
    for (const k of txn.keys()) if (k.startsWith('ro/')) return Promise.reject(new StatecraftError('forbidden', `${k} is read-only`))
    return inner.mutate(txn, o)
  })

const servers = localServers()
const setup = () => servers({ rules: s => readonlyUnder(s) })

test('a refused write rejects its promise and rolls the local state back', async () => {
  const { client } = await setup()
  const errors: string[] = []
  const a = client({ onError: (e, k) => errors.push(`${e.code} ${k}`) })
  const seen: unknown[] = []
  a.doc('ro/x').subscribe(s => seen.push(s.value))
  const p = a.doc('ro/x').set({ n: 1 })
  expect(a.doc('ro/x').value).toEqual({ n: 1 })
  await expect(p).rejects.toMatchObject({ code: 'forbidden' })
  expect(a.doc('ro/x').value).toBeUndefined()
  expect(seen.filter((v, i) => i === 0 || JSON.stringify(v) !== JSON.stringify(seen[i - 1]))).toEqual([undefined, { n: 1 }, undefined])
  expect(errors).toEqual(['forbidden ro/x'])
  await a.whenSynced()
  expect(a.status.pending).toBe(0)
})

test('a value nested past 1000 levels is refused at once, by name, and nothing is queued', async () => {
  const { client } = await setup()
  const a = client()
  let deep: unknown = []
  for (let i = 0; i < 1000; i++) deep = [deep]
  const doc = a.doc('deep')
  await expect(doc.set(deep as never)).rejects.toMatchObject({ code: 'invalid', message: expect.stringMatching(/nested too deeply \(over 1000 levels\)/) as unknown })
  expect(doc.value).toBeUndefined()
  expect(a.status.pending).toBe(0)
  await a.doc('shallow').set({ ok: true })
  await a.whenSynced()
  expect(a.status.pending).toBe(0)
})

test('transactions are serializable: concurrent increments from two clients all count', async () => {
  const { client } = await setup()
  const a = client()
  const b = client()
  await a.doc('counter').set({ n: 0 })
  const inc = (c: StatecraftClient): Promise<void> =>
    c.transaction(async tx => {
      const v = (await tx.get('counter')) as { n: number }
      tx.set('counter', { n: v.n + 1 })
    }, { maxAttempts: 50 })
  await Promise.all([...Array.from({ length: 10 }, () => inc(a)), ...Array.from({ length: 10 }, () => inc(b))])
  await a.whenSynced()
  // whenSynced covers a's own writes only: b's last ones may still be on their way to a (the server
  // may hold a connection's updates to the end of a turn), so wait for them to arrive.
  const deadline = Date.now() + 2000
  while ((a.doc('counter').value as { n: number }).n < 20 && Date.now() < deadline) await new Promise(r => setTimeout(r, 5))
  expect(await a.doc('counter').get()).toEqual({ n: 20 })
})

test('a live query shows server rows with local pending writes laid over', async () => {
  const { client } = await setup()
  const a = client()
  const b = client()
  await a.doc('todos/1').set({ t: 'one' })
  await a.doc('todos/2').set({ t: 'two' })
  const rows: Map<string, unknown>[] = []
  const stop = b.query(prefix('todos/')).subscribe(r => rows.push(r))
  await b.whenSynced()
  expect(Object.fromEntries(rows.at(-1) ?? [])).toEqual({ 'todos/1': { t: 'one' }, 'todos/2': { t: 'two' } })
  b.goOffline()
  void b.doc('todos/3').set({ t: 'three' })
  void b.doc('todos/1').delete()
  expect(Object.fromEntries(rows.at(-1) ?? [])).toEqual({ 'todos/2': { t: 'two' }, 'todos/3': { t: 'three' } })
  b.goOnline()
  await b.whenSynced()
  await a.whenSynced()
  expect(Object.fromEntries(rows.at(-1) ?? [])).toEqual({ 'todos/2': { t: 'two' }, 'todos/3': { t: 'three' } })
  stop()
})

test('a text cursor stays put through remote edits before it', async () => {
  const { client } = await setup()
  const a = client()
  const b = client()
  const ta = a.text('t')
  const tb = b.text('t')
  await ta.insert(0, 'hello world')
  await b.whenSynced()
  const cursor = tb.cursor(6) // before "world"
  await ta.insert(0, '>> ')
  await ta.remove(3, 6) // removes "hello "
  await a.whenSynced()
  await b.whenSynced()
  for (let i = 0; i < 50 && tb.value !== '>> world'; i++) await new Promise(r => setTimeout(r, 2))
  expect(tb.value).toBe('>> world')
  expect(tb.value.slice(cursor.pos)).toBe('world')
  cursor.close()
})

test('status: online, pending and synced versions, subscribable', async () => {
  const { client } = await setup()
  const a = client()
  const seen: { online: boolean; pending: number }[] = []
  const stop = a.status.subscribe(s => seen.push({ online: s.online, pending: s.pending }))
  await a.whenSynced()
  expect(a.status.online).toBe(true)
  a.goOffline()
  expect(a.status.online).toBe(false)
  void a.doc('x').set(1)
  expect(a.status.pending).toBe(1)
  a.goOnline()
  await a.whenSynced()
  expect(a.status.pending).toBe(0)
  expect(Object.values(a.status.synced)[0]).toBeGreaterThan(0)
  expect(seen.some(s => !s.online && s.pending === 1)).toBe(true)
  stop()
})

let dbn = 0
test('IndexedDB cache: a size cap evicts clean docs, never pending writes; clearCache keeps pending ones', async () => {
  const { client } = await setup()
  const cacheName = `sdk-api-${++dbn}`
  const writer = client()
  const big = 'x'.repeat(2000)
  for (let i = 0; i < 10; i++) await writer.doc(`big/${i}`).set({ big, i })
  const a = client({ cache: 'indexeddb', cacheName, cacheMaxBytes: 5000 })
  for (let i = 0; i < 10; i++) expect(await a.doc(`big/${i}`).get()).toEqual({ big, i })
  a.goOffline()
  void a.doc('mine').set({ pending: big })
  await a.whenPersisted()
  await a.close()

  // A new client on the cache, offline: the pending write is there; most clean docs were evicted.
  const b = client({ dial: () => { throw new Error('offline') }, cache: 'indexeddb', cacheName, offline: true })
  await b.cacheReady
  expect(b.doc('mine').value).toEqual({ pending: big })
  const cached = [...b.docs.keys()].filter(k => k.startsWith('big/') && b.docs.get(k)?.known === true)
  expect(cached.length).toBeLessThan(10)
  expect(cached.length).toBeGreaterThan(0)
  await b.clearCache()
  await b.close()

  const c = client({ dial: () => { throw new Error('offline') }, cache: 'indexeddb', cacheName, offline: true })
  await c.cacheReady
  expect([...c.docs.keys()].filter(k => c.docs.get(k)?.known === true)).toEqual([])
  expect(c.doc('mine').value).toEqual({ pending: big })
})

test('a second client on a locked IndexedDB cache runs on memory and leaves the first one\'s outbox alone', async () => {
  const { server, client } = await setup()
  const cacheName = `sdk-api-tabs-${++dbn}`
  const logs: string[] = []
  const first = client({ cache: 'indexeddb', cacheName, offline: true })
  await first.cacheReady
  void first.doc('a').set({ from: 'first' })
  await first.whenPersisted()
  const second = client({ cache: 'indexeddb', cacheName, log: m => logs.push(m) })
  await second.cacheReady
  expect(second.status.cache).toBe('memory')
  expect(logs.some(m => m.includes('another tab'))).toBe(true)
  await second.doc('b').set({ from: 'second' })
  await first.close()
  // The next client on the cache picks up the first one's outbox and sends it.
  const third = client({ cache: 'indexeddb', cacheName })
  await third.whenSynced()
  expect(third.status.cache).toBe(`indexeddb:${cacheName}`)
  expect((await server.backend.store.fetch({ kind: 'keys', keys: ['a', 'b'] })).results).toEqual(new Map([['a', { from: 'first' }], ['b', { from: 'second' }]]))
})
