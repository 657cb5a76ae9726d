// Conformance cases for subscriptions: the first `replace`, then every matching txn once and in
// order, restriction to the query's keys, resuming from a version, meta, several subscribers,
// increasing versions, many writes, and ending a subscription.
import { expect } from 'vitest'
import { keys, prefix, range } from '@statecraft/core'
import type { Key, Query, Store, TxnRecord, Value, Versions } from '@statecraft/core'
import { del, put, set, testKitConfig, text, txnOf, ver, versionsOf, withStore } from '../helpers.ts'
import { View, expectEnds, nextUpdate } from '../subscription-reader.ts'
import type { StoreTestCase } from '../store-test-case.ts'

const obj = (m: Map<Key, Value> | undefined): Record<Key, unknown> => Object.fromEntries(m ?? [])
const keysIn = (recs: TxnRecord[]): Key[][] => recs.map(r => [...r.txn.keys()].sort())
const versionsIn = (recs: TxnRecord[]): number[] => recs.map(r => ver(r.versions))

/** Writes a matching sentinel and checks it is the very next txn the subscription yields. */
async function expectNextIs(view: View, write: () => Promise<Versions>, label: string): Promise<void> {
  const v = await write()
  const [rec] = await view.txns(1)
  expect(ver((rec as TxnRecord).versions), `${label}: the next txn should be the sentinel write`).toBe(ver(v))
}

/** Subscribes and applies the first update, which must carry `replace`. */
async function start(s: Store, q: Query): Promise<View> {
  const view = new View(s.subscribe(q))
  const first = await view.step()
  expect(first.replace, 'the first update of a subscription without fromVersion carries replace').toBeInstanceOf(Map)
  return view
}

export const subscriptionCases: StoreTestCase[] = [
  {
    name: 'a subscription yields replace, then each later matching txn once, in order',
    needs: { mutable: true, ops: ['set', 'del'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        await s.mutate(txnOf({ a: set(1), c: set('c') }))
        const now = await versionsOf(s)
        const q = keys('a', 'b')
        const view = new View(s.subscribe(q))
        const first = await view.step()
        expect(obj(first.replace)).toEqual({ a: 1 })
        expect(first.replace?.has('b')).toBe(false)
        expect(ver(first.versions)).toBe(ver(now))
        const w: Versions[] = []
        await put(s, 'c', 'x')
        w.push(await put(s, 'a', 2))
        w.push(await put(s, 'b', 3))
        await put(s, 'c', 'y')
        w.push(await s.mutate(txnOf({ a: del() })))
        await put(s, 'zz', 1)
        const recs = await view.txns(3)
        expect(versionsIn(recs)).toEqual(w.map(ver))
        expect(recs.map(r => r.versions)).toEqual(w)
        expect(recs[0]?.txn.get('a')).toEqual({ type: 'set', value: 2 })
        expect(recs[1]?.txn.get('b')).toEqual({ type: 'set', value: 3 })
        expect(recs[2]?.txn.get('a')).toEqual({ type: 'del' })
        for (const r of recs) for (const k of r.txn.keys()) expect(['a', 'b']).toContain(k)
        await expectNextIs(view, () => put(s, 'b', 4), 'after the non-matching writes')
        expect(obj(view.map)).toEqual({ b: 4 })
        await view.syncWith(s, q)
      })
    },
  },
  {
    name: 'a keys subscription gets txns restricted to its keys',
    needs: { mutable: true, ops: ['set', 'del'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        await put(s, 'b', 'b0')
        const view = await start(s, keys('a', 'b'))
        const v1 = await s.mutate(txnOf({ a: set(1), x: set(2), b: del(), y: set(3) }))
        await s.mutate(txnOf({ x: set(4), y: del() }))
        const v3 = await s.mutate(txnOf({ x: set(5), b: set('b3') }))
        const recs = await view.txns(2)
        expect(versionsIn(recs)).toEqual([ver(v1), ver(v3)])
        expect(keysIn(recs)).toEqual([['a', 'b'], ['b']])
        await expectNextIs(view, () => s.mutate(txnOf({ a: set('last'), z: set(0) })), 'after a txn on other keys')
        expect(obj(view.map)).toEqual({ a: 'last', b: 'b3' })
      })
    },
  },
  {
    name: 'a range subscription without limit sees keys created and deleted in its range, and no others',
    needs: { mutable: true, ops: ['set', 'del'], queries: ['range'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        await s.mutate(txnOf({ 'p/a': set(1), q: set(0) }))
        const q = prefix('p/')
        const view = await start(s, q)
        expect(obj(view.map)).toEqual({ 'p/a': 1 })
        const v1 = await put(s, 'p/b', 2)
        await put(s, 'q', 1)
        await put(s, 'p', 1)
        const v2 = await s.mutate(txnOf({ 'p/a': del() }))
        const v3 = await s.mutate(txnOf({ 'p/c': set(3), o: set(3), 'p/': set(0) }))
        const recs = await view.txns(3)
        expect(versionsIn(recs)).toEqual([v1, v2, v3].map(ver))
        expect(keysIn(recs)).toEqual([['p/b'], ['p/a'], ['p/', 'p/c']])
        expect(obj(view.map)).toEqual({ 'p/': 0, 'p/b': 2, 'p/c': 3 })
        await view.syncWith(s, q)
        await expectNextIs(view, () => put(s, 'p/z', 9), 'after writes outside the range')
      })
    },
  },
  {
    name: 'subscribe fromVersion yields exactly the missed txns, then live ones',
    needs: { history: true, mutable: true, ops: ['set'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const v1 = await put(s, 'a', 1)
        const v2 = await put(s, 'b', 2)
        await put(s, 'c', 3)
        const v4 = await put(s, 'a', 4)
        const q = keys('a', 'b')
        const view = new View(s.subscribe(q, { fromVersion: v1 }))
        const past = await s.fetch(q, { atVersion: v1 })
        for (const [k, v] of past.results) view.map.set(k, v)
        const missed = await view.txns(2)
        expect(versionsIn(missed)).toEqual([ver(v2), ver(v4)])
        for (const u of view.updates) expect(u.replace, 'a resumed subscription yields txns, not replace').toBeUndefined()
        expect(obj(view.map)).toEqual({ a: 4, b: 2 })
        const v5 = await put(s, 'b', 5)
        await put(s, 'c', 6)
        const v7 = await put(s, 'a', 7)
        expect(versionsIn(await view.txns(2))).toEqual([ver(v5), ver(v7)])
        await view.syncWith(s, q)
        // Resuming from the current version yields only live txns.
        const now = await versionsOf(s)
        const live = new View(s.subscribe(q, { fromVersion: now }))
        const v8 = await put(s, 'a', 8)
        expect(versionsIn(await live.txns(1))).toEqual([ver(v8)])
        for (const u of live.updates) expect(u.replace).toBeUndefined()
      })
    },
  },
  {
    name: 'subscribe fromVersion on a limited range brings a past window to the current one',
    needs: { history: true, mutable: true, ops: ['set', 'del'], queries: ['range'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const v1 = await s.mutate(txnOf({ 'w/b': set(1), 'w/c': set(2), 'w/d': set(3) }))
        await s.mutate(txnOf({ 'w/a': set(0), 'w/c': del() }))
        await put(s, 'w/b', 'changed')
        const q = prefix('w/', { limit: 2 })
        const view = new View(s.subscribe(q, { fromVersion: v1 }))
        for (const [k, v] of (await s.fetch(q, { atVersion: v1 })).results) view.map.set(k, v)
        await view.syncWith(s, q)
        expect(obj(view.map)).toEqual({ 'w/a': 0, 'w/b': 'changed' })
        await s.mutate(txnOf({ 'w/a': del() }))
        await view.syncWith(s, q, 'after a live delete: ')
        expect(obj(view.map)).toEqual({ 'w/b': 'changed', 'w/d': 3 })
      })
    },
  },
  {
    name: 'subscriptions carry the meta stored with each txn',
    needs: { mutable: true, ops: ['set'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const view = await start(s, keys('a'))
        await put(s, 'a', 1, { meta: { user: 'u1', nested: { n: [1] } } })
        await put(s, 'a', 2)
        const recs = await view.txns(2)
        expect(recs[0]?.meta).toEqual({ user: 'u1', nested: { n: [1] } })
        expect(recs[1]?.meta).toBeUndefined()
      })
    },
  },
  {
    name: 'two subscriptions each get every txn once',
    needs: { mutable: true, ops: ['set', 'del'], queries: ['range', 'keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const a = await start(s, range())
        const b = await start(s, range())
        const c = await start(s, keys('k1', 'k3'))
        const w: Versions[] = []
        for (let i = 0; i < 6; i++) w.push(await (i === 4 ? s.mutate(txnOf({ k1: del() })) : put(s, `k${i}`, i)))
        expect(versionsIn(await a.txns(6))).toEqual(w.map(ver))
        expect(versionsIn(await b.txns(6))).toEqual(w.map(ver))
        expect(versionsIn(await c.txns(3))).toEqual([w[1], w[3], w[4]].map(v => ver(v as Versions)))
        await expectNextIs(a, () => put(s, 'k3', 'last'), 'subscription a')
        const [recB] = await b.txns(1)
        const [recC] = await c.txns(1)
        expect(ver((recB as TxnRecord).versions)).toBe(ver((recC as TxnRecord).versions))
        expect(obj(a.map)).toEqual(obj(b.map))
      })
    },
  },
  {
    name: 'subscription versions increase with every update',
    needs: { mutable: true, ops: ['set'], queries: ['range'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const view = await start(s, prefix('v/'))
        const start0 = ver(view.updates[0]?.versions ?? {})
        const matching: number[] = []
        for (let i = 0; i < 10; i++) {
          const v = ver(await put(s, i % 3 === 0 ? 'other' : `v/${i}`, i))
          if (i % 3 !== 0) matching.push(v)
        }
        const recs = await view.txns(6)
        const seen = view.updates.map(u => ver(u.versions))
        for (let i = 1; i < seen.length; i++) expect(seen[i], `update ${i} went back in versions: ${seen.join(', ')}`).toBeGreaterThanOrEqual(seen[i - 1] as number)
        const rv = versionsIn(recs)
        expect(rv).toEqual(matching)
        expect(rv[0]).toBeGreaterThan(start0)
        for (let i = 1; i < rv.length; i++) expect(rv[i]).toBeGreaterThan(rv[i - 1] as number)
        for (const u of view.updates.slice(1)) for (const r of u.txns) expect(ver(u.versions)).toBeGreaterThanOrEqual(ver(r.versions))
        expect(seen[seen.length - 1]).toBeGreaterThanOrEqual(matching[matching.length - 1] as number)
      })
    },
  },
  {
    name: '200 sequential writes all reach a subscriber, in order',
    needs: { mutable: true, ops: ['set'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const view = await start(s, keys('counter'))
        const w: number[] = []
        for (let i = 0; i < 200; i++) w.push(ver(await put(s, 'counter', i)))
        const recs = await view.txns(200, testKitConfig.timeoutMs * 5)
        expect(versionsIn(recs)).toEqual(w)
        expect(recs.map(r => (r.txn.get('counter') as { value: unknown } | undefined)?.value)).toEqual(w.map((_, i) => i))
        expect(view.map.get('counter')).toBe(199)
      })
    },
  },
  {
    name: 'concurrent OT edits reach subscribers as applied (transformed)',
    needs: { mutable: true, ops: ['set', 'text'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const base = await put(s, 't', 'hello')
        const view = await start(s, keys('t'))
        await s.mutate(txnOf({ t: text([5, ' world']) }), { baseVersions: base })
        await s.mutate(txnOf({ t: text(['>']) }), { baseVersions: base })
        await s.mutate(txnOf({ t: text([1, { d: 4 }]) }), { baseVersions: base }) // removes "ello"
        await view.txns(3)
        expect(view.map.get('t')).toBe('>h world')
        await view.syncWith(s, keys('t'))
      })
    },
  },
  {
    name: 'closing a subscription ends its iteration; the store and other subscriptions go on',
    needs: { mutable: true, ops: ['set'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const sub = s.subscribe(keys('a'))
        await nextUpdate(sub)
        const other = await start(s, keys('a'))
        const ended = expectEnds(sub) // a read is pending when close() comes
        sub.close()
        await ended
        const v = await put(s, 'a', 1)
        expect(versionsIn(await other.txns(1))).toEqual([ver(v)])
        // Breaking out of a for-await loop ends a subscription too.
        const looped = s.subscribe(keys('a'))
        let n = 0
        for await (const u of looped) {
          n++
          expect(obj(u.replace)).toEqual({ a: 1 })
          break
        }
        expect(n).toBe(1)
        await put(s, 'a', 2)
        expect(versionsIn(await other.txns(1))).toHaveLength(1)
        other.sub.close()
      })
    },
  },
]
