// What only a durable store must do: reopen with the same uid, version, docs, history and client
// seqs; keep a txn all-or-nothing when IndexedDB fails mid-write; step aside for deleteIdbStore.
import 'fake-indexeddb/auto'
import { afterEach, expect, test, vi } from 'vitest'
import { keys, memoryStore, prefix, range, StatecraftError } from '@statecraft/core'
import type { Store, TxnRecord } from '@statecraft/core'
import { chooseSeed, collectTxns, del, expectEnds, expectCode, json1, put, set, text, txnOf, ver, withSeed } from '@statecraft/test-kit'
import { deleteIdbStore, idbStore } from '@statecraft/idb'

let n = 0
const fresh = (): string => `persist-${++n}`

afterEach(() => {
  vi.restoreAllMocks()
})

const plainRecords = (recs: TxnRecord[]): unknown[] => recs.map(r => ({ versions: r.versions, txn: [...r.txn], meta: r.meta }))

test('a reopened store has the same uid, version, docs, history and seqs', async () => {
  const name = fresh()
  const a = await idbStore(name, { uid: 'src-1' })
  expect(a.info.uid).toBe('src-1')
  await a.mutate(txnOf({ doc: set({ title: 'x', tags: ['a'] }), bin: set(Uint8Array.of(1, 2, 3)) }), { meta: { who: 'me' } })
  await a.mutate(txnOf({ note: text(['hello']) }))
  const vSeq = await a.mutate(txnOf({ doc: json1(['title', { r: true, i: 'y' }]) }), { clientId: 'c1', seq: 7 })
  await a.mutate(txnOf({ bin: del() }))
  const before = await a.fetch(range())
  const opsBefore = await a.getOps(range(), { 'src-1': 0 })
  await a.close()

  const b = await idbStore(name)
  try {
    expect(b.info.uid).toBe('src-1')
    const after = await b.fetch(range())
    expect(after.versions).toEqual({ 'src-1': 4 })
    expect([...after.results]).toEqual([...before.results])
    expect(after.results.get('doc')).toEqual({ title: 'y', tags: ['a'] })
    expect(Object.isFrozen(after.results.get('doc'))).toBe(true)
    expect(plainRecords(await b.getOps(range(), { 'src-1': 0 }))).toEqual(plainRecords(opsBefore))
    // The past, read through the undo ops on disk.
    const past = await b.fetch(keys('doc', 'bin'), { atVersion: { 'src-1': 1 } })
    expect(past.results.get('doc')).toEqual({ title: 'x', tags: ['a'] })
    expect(past.results.get('bin')).toEqual(Uint8Array.of(1, 2, 3))
    // Exactly once across the reopen: the re-sent write returns its original version, changes nothing.
    expect(await b.mutate(txnOf({ doc: json1(['title', { r: true, i: 'z' }]) }), { clientId: 'c1', seq: 7 })).toEqual(vSeq)
    expect((await b.fetch(keys('doc'))).results.get('doc')).toEqual({ title: 'y', tags: ['a'] })
    // A stale OT edit is transformed over the ops read back from disk.
    await b.mutate(txnOf({ note: text([5, ' world']) }), { baseVersions: { 'src-1': 2 } })
    await b.mutate(txnOf({ note: text(['>']) }), { baseVersions: { 'src-1': 2 } })
    expect((await b.fetch(keys('note'))).results.get('note')).toBe('>hello world')
    // A key deleted before the reopen still conflicts with a set based before the delete.
    await expectCode(put(b, 'bin', 1, { baseVersions: { 'src-1': 3 } }), 'conflict')
  } finally {
    await b.close()
  }
})

test('naming another uid for an existing database is invalid', async () => {
  const name = fresh()
  await (await idbStore(name, { uid: 'one' })).close()
  await expectCode(idbStore(name, { uid: 'two' }), 'invalid')
  const again = await idbStore(name, { uid: 'one' })
  await again.close()
})

test('the history window is kept across reopens and can shrink', async () => {
  const name = fresh()
  const a = await idbStore(name, { uid: 'h', historyLimit: 3 })
  for (let i = 1; i <= 5; i++) await put(a, 'k', i)
  await expectCode(a.getOps(range(), { h: 1 }), 'version-too-old')
  expect((await a.getOps(range(), { h: 2 })).map(r => ver(r.versions))).toEqual([3, 4, 5])
  await a.close()
  const b = await idbStore(name, { historyLimit: 10 })
  await expectCode(b.getOps(range(), { h: 1 }), 'version-too-old')
  expect((await b.fetch(keys('k'), { atVersion: { h: 2 } })).results.get('k')).toBe(2)
  await put(b, 'k', 6)
  expect((await b.getOps(range(), { h: 2 })).map(r => ver(r.versions))).toEqual([3, 4, 5, 6])
  await b.close()
  const c = await idbStore(name, { historyLimit: 1 })
  await put(c, 'k', 7)
  await expectCode(c.getOps(range(), { h: 5 }), 'version-too-old')
  expect((await c.getOps(range(), { h: 6 })).map(r => ver(r.versions))).toEqual([7])
  await c.close()
})

test('forgotten seqs stay forgotten across a reopen', async () => {
  const name = fresh()
  const a = await idbStore(name, { uid: 's', seqsPerClient: 2 })
  for (let seq = 1; seq <= 3; seq++) await put(a, 'k', seq, { clientId: 'c', seq })
  await a.close()
  const b = await idbStore(name, { seqsPerClient: 2 })
  await expectCode(put(b, 'k', 99, { clientId: 'c', seq: 1 }), 'version-too-old')
  expect(await put(b, 'k', 99, { clientId: 'c', seq: 3 })).toEqual({ s: 3 })
  expect(await put(b, 'k', 4, { clientId: 'c', seq: 4 })).toEqual({ s: 4 })
  await b.close()
})

/** Makes the next IndexedDB put into object store `storeName` fail, the way a crash or quota error would. */
function failNextPut(storeName: string, how: 'throw' | 'abort'): void {
  const proto = IDBObjectStore.prototype
  // Called with the right `this` below, through apply.
  const original = Object.getOwnPropertyDescriptor(proto, 'put')?.value as IDBObjectStore['put']
  const spy = vi.spyOn(proto, 'put').mockImplementation(function (this: IDBObjectStore, ...args: Parameters<IDBObjectStore['put']>) {
    if (this.name !== storeName) return original.apply(this, args)
    spy.mockRestore()
    if (how === 'throw') throw new DOMException('simulated failure', 'UnknownError')
    const req = original.apply(this, args)
    this.transaction.abort()
    return req
  })
}

test.each(['throw', 'abort'] as const)('a txn whose IndexedDB write fails (%s) changes nothing, in memory or on disk', async how => {
  const name = fresh()
  const s = await idbStore(name, { uid: 'x' })
  await s.mutate(txnOf({ a: set(1), b: set(2) }))
  const sub = s.subscribe(range())
  await collectTxns(sub, 0)
  failNextPut('log', how)
  const e = await expectCode(s.mutate(txnOf({ a: set(10), c: set(3) }), { clientId: 'c', seq: 1 }), 'internal')
  expect(e.message).toMatch(/commit/)
  expect((await s.fetch(range())).results).toEqual(new Map([['a', 1], ['b', 2]]))
  expect((await s.fetch(range())).versions).toEqual({ x: 1 })
  // The same seq was not recorded, so the retry applies.
  expect(await s.mutate(txnOf({ a: set(10), c: set(3) }), { clientId: 'c', seq: 1 })).toEqual({ x: 2 })
  const { records } = await collectTxns(sub, 1)
  expect(records.map(r => r.versions)).toEqual([{ x: 2 }])
  sub.close()
  await s.close()
  const again = await idbStore(name)
  expect((await again.fetch(range())).results).toEqual(new Map([['a', 10], ['b', 2], ['c', 3]]))
  expect((await again.getOps(range(), { x: 0 })).map(r => ver(r.versions))).toEqual([1, 2])
  await again.close()
})

test('a failed write found on disk on reopen is all or nothing (no partial docs without their log entry)', async () => {
  const name = fresh()
  const s = await idbStore(name, { uid: 'y' })
  failNextPut('meta', 'abort')
  await expectCode(s.mutate(txnOf({ a: set(1) })), 'internal')
  await s.close()
  const again = await idbStore(name)
  expect((await again.fetch(range())).results.size).toBe(0)
  expect((await again.fetch(range())).versions).toEqual({ y: 0 })
  expect(await again.getOps(range(), { y: 0 })).toEqual([])
  await again.close()
})

test('subscribing fromVersion while writes are in flight yields every txn once, in order', async () => {
  const s = await idbStore(fresh(), { uid: 'f' })
  for (let i = 0; i < 10; i++) await put(s, `k${i}`, i)
  const writes: Promise<unknown>[] = []
  for (let i = 0; i < 10; i++) writes.push(put(s, `k${i}`, i + 100))
  const sub = s.subscribe(prefix('k'), { fromVersion: { f: 3 } })
  for (let i = 0; i < 5; i++) writes.push(put(s, `k${i}`, i + 200))
  await Promise.all(writes)
  const { records } = await collectTxns(sub, 22)
  expect(records.map(r => ver(r.versions))).toEqual(Array.from({ length: 22 }, (_, i) => i + 4))
  sub.close()
  await s.close()
})

test('deleteIdbStore closes an open store (ending its subscriptions) and removes the database', async () => {
  const name = fresh()
  const s = await idbStore(name, { uid: 'd' })
  await put(s, 'a', 1)
  const sub = s.subscribe(keys('a'))
  await deleteIdbStore(name)
  await expectCode(s.fetch(keys('a')), 'closed')
  await expectEnds(sub)
  const again = await idbStore(name)
  expect(again.info.uid).not.toBe('d')
  expect((await again.fetch(range())).versions).toEqual({ [again.info.uid]: 0 })
  await again.close()
})

test('a database that is not Statecraft\'s is refused', async () => {
  const name = fresh()
  await new Promise<void>((resolve, reject) => {
    const req = indexedDB.open(name, 1)
    req.onupgradeneeded = () => req.result.createObjectStore('other')
    req.onsuccess = () => {
      req.result.close()
      resolve()
    }
    req.onerror = () => reject(req.error)
  })
  const e = await expectCode(idbStore(name), 'invalid')
  expect(e.message).toMatch(/not a Statecraft database/)
})

test('closed: every call after close rejects with closed, close is idempotent, queued writes finish', async () => {
  const s = await idbStore(fresh())
  const pending = put(s, 'a', 1)
  const closing = s.close()
  expect(ver(await pending)).toBe(1)
  await closing
  await s.close()
  await expectCode(s.fetch(keys('a')), 'closed')
  await expectCode(put(s, 'a', 2), 'closed')
  await expectCode(s.clearCache(), 'closed')
})

// A differential check: the same random txns on the memory store (the reference) and on the
// IndexedDB store, reopened now and then, must give the same results, versions and history.
test('random txns: the IndexedDB store matches the memory store, across reopens', async () => {
  await withSeed(chooseSeed(), async r => {
    const name = fresh()
    const mem: Store = memoryStore({ uid: 'u', historyLimit: 20, seqsPerClient: 3 })
    const opts = { historyLimit: 20, seqsPerClient: 3 }
    let idb = await idbStore(name, { uid: 'u', ...opts })
    const ks = ['a', 'b', 'c', 'd', 'e']
    const outcome = async (p: Promise<unknown>): Promise<unknown> => {
      try {
        return { ok: await p }
      } catch (e) {
        return { err: e instanceof StatecraftError ? e.code : String(e) }
      }
    }
    try {
      for (let step = 0; step < 150; step++) {
        const version = ver((await mem.fetch(keys())).versions)
        const txn = new Map()
        for (let i = 0, m = 1 + r.int(2); i < m; i++) {
          const k = r.pick(ks)
          const kind = r.int(4)
          txn.set(k, kind === 0 ? set(r.int(100)) : kind === 1 ? del() : text([r.pick(['x', 'yy', 'z'])]))
        }
        const o = {
          ...(r.int(3) === 0 ? { baseVersions: { u: Math.max(0, version - r.int(25)) } } : {}),
          ...(r.int(4) === 0 ? { clientId: 'c', seq: r.int(step + 1) } : {}),
        }
        const [a, b] = [await outcome(mem.mutate(txn, o)), await outcome(idb.mutate(txn, o))]
        expect(b, `step ${step}`).toEqual(a)
        if (r.int(10) === 0) {
          await idb.close()
          idb = await idbStore(name, opts)
        }
        const q = r.int(2) === 0 ? range({ limit: r.int(4), reverse: r.int(2) === 0 }) : keys(...ks)
        const at = r.int(2) === 0 ? { atVersion: { u: Math.max(0, version - r.int(25)) } } : {}
        expect(await outcome(idb.fetch(q, at)), `fetch at step ${step}`).toEqual(await outcome(mem.fetch(q, at)))
        const from = { u: Math.max(0, version - r.int(25)) }
        const [ga, gb] = [await outcome(mem.getOps(range(), from)), await outcome(idb.getOps(range(), from))]
        const plain = (x: unknown): unknown => ('ok' in (x as object) ? plainRecords((x as { ok: TxnRecord[] }).ok) : x)
        expect(plain(gb), `getOps at step ${step}`).toEqual(plain(ga))
      }
    } finally {
      await idb.close()
    }
  })
})
