// The client SDK's helpers: the outbox, cache metadata with LRU eviction and clearCache, and the
// one-opener-per-database lock. In Node under fake-indexeddb (the lock uses its in-process fallback).
import 'fake-indexeddb/auto'
import { IDBFactory } from 'fake-indexeddb'
import { expect, test } from 'vitest'
import { keys, range } from '@statecraft/core'
import type { Txn } from '@statecraft/core'
import { View, collectTxns, expectCode, nextUpdate, put, set, txnOf } from '@statecraft/test-kit'
import { deleteIdbStore, evictLRU, idbOutbox, idbStore } from '@statecraft/idb'

let n = 0
const fresh = (): string => `cache-${++n}`

test('outbox: push resolves with increasing ids, list is in push order, remove drops acknowledged entries', async () => {
  const name = fresh()
  const box = await idbOutbox<{ txn: Txn; seq: number }>(name)
  const ids: number[] = []
  for (let seq = 1; seq <= 4; seq++) ids.push(await box.push({ txn: txnOf({ [`k${seq}`]: set({ seq }) }), seq }))
  expect([...ids].sort((a, b) => a - b)).toEqual(ids)
  const listed = await box.list()
  expect(listed.map(e => e.id)).toEqual(ids)
  expect(listed.map(e => e.value.seq)).toEqual([1, 2, 3, 4])
  expect(listed[0]?.value.txn).toEqual(txnOf({ k1: set({ seq: 1 }) }))
  await box.remove([ids[0] as number, ids[2] as number, 12345])
  expect((await box.list()).map(e => e.value.seq)).toEqual([2, 4])
  expect(await box.count()).toBe(2)
  box.close()
  await expectCode(box.list(), 'closed')

  // A reload: the entries are still there, and new ids keep increasing.
  const again = await idbOutbox<{ txn: Txn; seq: number }>(name)
  expect((await again.list()).map(e => e.value.seq)).toEqual([2, 4])
  const next = await again.push({ txn: txnOf({ z: set(1) }), seq: 5 })
  expect(next).toBeGreaterThan(ids[3] as number)
  await again.clear()
  expect(await again.list()).toEqual([])
  await expectCode(again.push((() => {}) as never), 'invalid')
  again.close()
})

test('outbox: concurrent pushes keep their call order', async () => {
  const box = await idbOutbox<number>(fresh())
  await Promise.all(Array.from({ length: 20 }, (_, i) => box.push(i)))
  expect((await box.list()).map(e => e.value)).toEqual(Array.from({ length: 20 }, (_, i) => i))
  box.close()
})

test('outbox and store share one database without touching each other', async () => {
  const name = fresh()
  const s = await idbStore(name)
  const box = await idbOutbox<string>(name)
  await box.push('pending')
  await put(s, 'a', 1)
  await s.clearCache()
  expect((await box.list()).map(e => e.value)).toEqual(['pending'])
  box.close()
  await s.close()
})

test('cacheStats: sizes and least-recently-used order follow reads and writes, and survive a reopen', async () => {
  const name = fresh()
  const s = await idbStore(name, { accessFlushMs: 5 })
  await put(s, 'a', 'x'.repeat(100))
  await put(s, 'b', 'y'.repeat(50))
  await s.mutate(txnOf({ c: set(Uint8Array.from({ length: 30 })) }))
  let stats = s.cacheStats()
  expect(stats.docs.map(d => d.key)).toEqual(['a', 'b', 'c'])
  expect(stats.docs.map(d => d.bytes)).toEqual([1 + 102, 1 + 52, 1 + 30])
  expect(stats.totalBytes).toBe(103 + 53 + 31)
  await s.fetch(keys('a'))
  expect(s.cacheStats().docs.map(d => d.key)).toEqual(['b', 'c', 'a'])
  s.touch(['b'])
  expect(s.cacheStats().docs.map(d => d.key)).toEqual(['c', 'a', 'b'])
  await s.mutate(txnOf({ a: { type: 'del' } }))
  stats = s.cacheStats()
  expect(stats.docs.map(d => d.key)).toEqual(['c', 'b'])
  expect(stats.totalBytes).toBe(53 + 31)
  await s.close()
  const again = await idbStore(name)
  expect(again.cacheStats().docs.map(d => d.key)).toEqual(['c', 'b'])
  expect(again.cacheStats().totalBytes).toBe(53 + 31)
  await again.close()
})

test('evictLRU deletes least recently used unpinned docs until the size fits, visibly to subscribers', async () => {
  const s = await idbStore(fresh())
  for (const k of ['a', 'b', 'c', 'd', 'e']) await put(s, k, 'v'.repeat(8)) // 1 + 10 bytes each
  // Subscribing reads (and so touches) every doc; then 'a' is read again, so it is the most recent.
  const view = new View(s.subscribe(range()))
  await view.step()
  await s.fetch(keys('a'))
  const res = await evictLRU(s, 33, k => k === 'b')
  expect(res.evicted).toEqual(['c', 'd'])
  expect(res.totalBytes).toBe(33)
  expect([...(await s.fetch(range())).results.keys()]).toEqual(['a', 'b', 'e'])
  const u = await view.step()
  expect(u.txns[0]?.meta).toEqual({ evicted: true })
  await view.syncWith(s, range())
  expect(await evictLRU(s, 1000)).toEqual({ evicted: [], totalBytes: 33 })
  // Everything left is pinned: nothing to do, the size stays over budget.
  expect(await evictLRU(s, 0, () => true)).toEqual({ evicted: [], totalBytes: 33 })
  view.sub.close()
  await s.close()
})

test('evictLRU does not evict a doc written after it was chosen', async () => {
  const s = await idbStore(fresh())
  await put(s, 'old', 1)
  await put(s, 'new', 2)
  // The first choice (old) is written by another caller before the evicting txn commits, so that
  // txn conflicts and the choice is made again.
  const write = put(s, 'old', 3)
  const res = await evictLRU(s, 4)
  await write
  expect(res.evicted).toEqual(['new'])
  expect((await s.fetch(keys('old', 'new'))).results).toEqual(new Map([['old', 3]]))
  await s.close()
})

test('clearCache deletes every doc and the history, keeps seqs, and tells subscribers', async () => {
  const name = fresh()
  const s = await idbStore(name, { uid: 'c' })
  await put(s, 'a', 1, { clientId: 'cl', seq: 1 })
  await put(s, 'b', 2)
  const sub = s.subscribe(keys('a', 'b'))
  await nextUpdate(sub)
  expect(await s.clearCache()).toEqual({ c: 3 })
  const { records } = await collectTxns(sub, 1)
  expect(records[0]?.meta).toEqual({ cleared: true })
  expect((await s.fetch(range())).results.size).toBe(0)
  expect(s.cacheStats()).toEqual({ totalBytes: 0, docs: [], versions: { c: 3 } })
  await expectCode(s.getOps(range(), { c: 0 }), 'version-too-old')
  expect(await s.getOps(range(), { c: 3 })).toEqual([])
  // A clear of an empty cache changes no version.
  expect(await s.clearCache()).toEqual({ c: 3 })
  sub.close()
  await s.close()
  const again = await idbStore(name)
  expect(await put(again, 'a', 9, { clientId: 'cl', seq: 1 })).toEqual({ c: 1 })
  expect((await again.fetch(range())).results.size).toBe(0)
  await expectCode(again.fetch(keys('a'), { atVersion: { c: 2 } }), 'version-too-old')
  await again.close()
})

test('a second opener of the same database fails with conflict, or waits with onLocked: wait', async () => {
  const name = fresh()
  const first = await idbStore(name)
  const e = await expectCode(idbStore(name), 'conflict')
  expect(e.message).toMatch(/open elsewhere/)
  let opened = false
  const waiting = idbStore(name, { onLocked: 'wait' }).then(s => {
    opened = true
    return s
  })
  await put(first, 'a', 1)
  await new Promise(r => setTimeout(r, 20))
  expect(opened).toBe(false)
  await first.close()
  const second = await waiting
  expect((await second.fetch(keys('a'))).results.get('a')).toBe(1)
  await second.close()
  // Free again: a plain open works.
  await (await idbStore(name)).close()
})

test('separate IndexedDB factories are separate databases (and separate locks)', async () => {
  const name = fresh()
  const f1 = new IDBFactory()
  const f2 = new IDBFactory()
  const a = await idbStore(name, { indexedDB: f1, uid: 'one' })
  const b = await idbStore(name, { indexedDB: f2, uid: 'two' })
  await put(a, 'k', 1)
  expect((await b.fetch(keys('k'))).results.size).toBe(0)
  await a.close()
  await b.close()
  await deleteIdbStore(name, { indexedDB: f1 })
  expect((await idbStore(name, { indexedDB: f1 }).then(async s => (await s.close(), s.info.uid)))).not.toBe('one')
})
