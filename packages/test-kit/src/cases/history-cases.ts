// Conformance cases for history: getOps bounds, filtering, limit and meta; fetch atVersion; versions
// ahead of the store; isolation of returned records; and the kept window (version-too-old).
import { expect } from 'vitest'
import { keys, prefix, range } from '@statecraft/core'
import type { FetchResult, Json, Key, SetOp, TxnRecord, Versions } from '@statecraft/core'
import { bump, del, expectCode, json1, put, set, text, txnOf, ver, versionsOf, withStore } from '../helpers.ts'
import { collectTxns, expectSubscribeCode } from '../subscription-reader.ts'
import type { StoreTestCase } from '../store-test-case.ts'

const versionsIn = (recs: TxnRecord[]): number[] => recs.map(r => ver(r.versions))
const keysIn = (recs: TxnRecord[]): Key[][] => recs.map(r => [...r.txn.keys()].sort())
const obj = (r: FetchResult): Record<Key, unknown> => Object.fromEntries(r.results)

const allBytes = (): Uint8Array => Uint8Array.from({ length: 256 }, (_, i) => i)

function tamper(fn: () => void): void {
  try {
    fn()
  } catch {
    // frozen: fine
  }
}

export const historyCases: StoreTestCase[] = [
  {
    name: 'getOps (from, to] excludes from and includes to',
    needs: { history: true, mutable: true, ops: ['set', 'del'], queries: ['keys', 'range'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const v0 = await versionsOf(s)
        const v1 = await put(s, 'a', 1)
        const v2 = await put(s, 'b', 2)
        const v3 = await put(s, 'a', 3)
        const v4 = await s.mutate(txnOf({ b: del() }))
        const all = await s.getOps(range(), v0)
        expect(versionsIn(all)).toEqual([v1, v2, v3, v4].map(ver))
        expect(all.map(r => r.versions)).toEqual([v1, v2, v3, v4])
        expect(all[0]?.txn.get('a')).toEqual({ type: 'set', value: 1 })
        expect(all[3]?.txn.get('b')).toEqual({ type: 'del' })
        expect(versionsIn(await s.getOps(range(), v1, v3))).toEqual([ver(v2), ver(v3)])
        expect(versionsIn(await s.getOps(keys('a', 'b'), v0, v4))).toEqual([v1, v2, v3, v4].map(ver))
        expect(versionsIn(await s.getOps(range(), v3))).toEqual([ver(v4)])
        expect(await s.getOps(range(), v2, v2)).toEqual([])
        expect(await s.getOps(range(), v4)).toEqual([])
      })
    },
  },
  {
    name: 'getOps restricts each txn to keys the query matches and leaves out records with none',
    needs: { history: true, mutable: true, ops: ['set', 'del'], queries: ['keys', 'range'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const v0 = await versionsOf(s)
        const v1 = await s.mutate(txnOf({ a: set(1), b: set(2), c: set(3) }))
        const v2 = await s.mutate(txnOf({ c: set(4) }))
        const v3 = await s.mutate(txnOf({ b: del(), d: set(5) }))
        const byKeys = await s.getOps(keys('a', 'b'), v0)
        expect(versionsIn(byKeys)).toEqual([ver(v1), ver(v3)])
        expect(keysIn(byKeys)).toEqual([['a', 'b'], ['b']])
        expect(byKeys[0]?.txn.get('b')).toEqual({ type: 'set', value: 2 })
        const fromC = await s.getOps(range({ from: 'c' }), v0)
        expect(versionsIn(fromC)).toEqual([v1, v2, v3].map(ver))
        expect(keysIn(fromC)).toEqual([['c'], ['c'], ['d']])
        const onlyB = await s.getOps(range({ from: 'b', to: 'c' }), v0)
        expect(keysIn(onlyB)).toEqual([['b'], ['b']])
        expect(await s.getOps(prefix('zzz'), v0)).toEqual([])
        expect(await s.getOps(keys(), v0)).toEqual([])
      })
    },
  },
  {
    name: 'getOps respects limit, oldest first',
    needs: { history: true, mutable: true, ops: ['set'], queries: ['keys', 'range'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const v0 = await versionsOf(s)
        const vs: Versions[] = []
        for (let i = 0; i < 10; i++) vs.push(await put(s, i % 2 === 0 ? 'even' : 'odd', i))
        expect(versionsIn(await s.getOps(range(), v0, undefined, { limit: 3 }))).toEqual(vs.slice(0, 3).map(ver))
        expect(versionsIn(await s.getOps(keys('odd'), v0, undefined, { limit: 2 }))).toEqual([vs[1], vs[3]].map(v => ver(v as Versions)))
        expect(versionsIn(await s.getOps(range(), vs[4] as Versions, vs[8], { limit: 2 }))).toEqual([vs[5], vs[6]].map(v => ver(v as Versions)))
        expect(await s.getOps(range(), v0, undefined, { limit: 100 })).toHaveLength(10)
      })
    },
  },
  {
    name: 'getOps returns the meta stored with each txn',
    needs: { history: true, mutable: true, ops: ['set'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const v0 = await versionsOf(s)
        const meta = { user: 'u1', n: 1, nested: { tags: ['x'] } }
        await put(s, 'a', 1, { meta })
        await put(s, 'a', 2)
        await s.mutate(txnOf({ a: set(3), b: set(4) }), { meta: { user: 'u2' } })
        const ops = await s.getOps(keys('a'), v0)
        expect(ops).toHaveLength(3)
        expect(ops[0]?.meta).toEqual(meta)
        expect(ops[1]?.meta).toBeUndefined()
        expect(ops[2]?.meta).toEqual({ user: 'u2' })
      })
    },
  },
  {
    name: 'fetch atVersion reads the past (set, del, json1, text)',
    needs: { history: true, mutable: true, ops: ['set', 'del', 'json1', 'text'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const v0 = await versionsOf(s)
        const v1 = await s.mutate(txnOf({ a: set(1), j: set({}), t: set('abc') }))
        const v2 = await s.mutate(txnOf({ a: set(2), j: json1(['x', { i: 1 }]), t: text([3, 'd']) }))
        const v3 = await s.mutate(txnOf({ a: del(), j: json1(['x', { r: 1, i: 2 }]), t: text([{ d: 1 }]) }))
        const v4 = await put(s, 'n', 'new')
        const q = keys('a', 'j', 't', 'n')
        const at = (v: Versions): Promise<FetchResult> => s.fetch(q, { atVersion: v })
        expect(obj(await at(v0))).toEqual({})
        expect(obj(await at(v1))).toEqual({ a: 1, j: {}, t: 'abc' })
        expect(obj(await at(v2))).toEqual({ a: 2, j: { x: 1 }, t: 'abcd' })
        const r3 = await at(v3)
        expect(obj(r3)).toEqual({ j: { x: 2 }, t: 'bcd' })
        expect(r3.results.has('a')).toBe(false)
        expect(r3.versions).toEqual(v3)
        expect((await at(v1)).versions).toEqual(v1)
        expect(obj(await at(v4))).toEqual({ j: { x: 2 }, t: 'bcd', n: 'new' })
        // Reading the past changed nothing now.
        expect(obj(await s.fetch(q))).toEqual({ j: { x: 2 }, t: 'bcd', n: 'new' })
      })
    },
  },
  {
    name: 'fetch atVersion reads past ranges (with limit and reverse)',
    needs: { history: true, mutable: true, ops: ['set', 'del'], queries: ['range'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const v1 = await s.mutate(txnOf({ 'r/a': set('a1'), 'r/b': set('b1'), 'r/c': set('c1'), x: set(0) }))
        const v2 = await s.mutate(txnOf({ 'r/b': del(), 'r/d': set('d2') }))
        await s.mutate(txnOf({ 'r/0': set('new'), 'r/a': set('a3'), 'r/c': del() }))
        expect(obj(await s.fetch(prefix('r/'), { atVersion: v1 }))).toEqual({ 'r/a': 'a1', 'r/b': 'b1', 'r/c': 'c1' })
        const at1 = await s.fetch(prefix('r/'), { atVersion: v1 })
        expect([...at1.results.keys()]).toEqual(['r/a', 'r/b', 'r/c'])
        const at2 = await s.fetch(prefix('r/'), { atVersion: v2 })
        expect([...at2.results.keys()]).toEqual(['r/a', 'r/c', 'r/d'])
        const lim = await s.fetch(prefix('r/', { limit: 2 }), { atVersion: v1 })
        expect([...lim.results.keys()]).toEqual(['r/a', 'r/b'])
        expect(lim.more).toBe(true)
        const rev = await s.fetch(prefix('r/', { limit: 2, reverse: true }), { atVersion: v2 })
        expect([...rev.results.keys()]).toEqual(['r/d', 'r/c'])
        expect(rev.results.get('r/c')).toBe('c1')
        expect([...(await s.fetch(prefix('r/'))).results.keys()]).toEqual(['r/0', 'r/a', 'r/d'])
      })
    },
  },
  {
    name: 'atVersion, getOps from and subscribe fromVersion ahead of the store are invalid',
    needs: { history: true, mutable: true, ops: ['set'], queries: ['keys', 'range'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const now = await put(s, 'a', 1)
        await expectCode(s.fetch(keys('a'), { atVersion: bump(now, 1) }), 'invalid', 'fetch atVersion ahead')
        await expectCode(s.getOps(range(), bump(now, 2)), 'invalid', 'getOps from ahead')
        await expectSubscribeCode(s, keys('a'), 'invalid', { fromVersion: bump(now, 2) })
      })
    },
  },
  {
    name: 'records from getOps and subscriptions cannot be used to change the store',
    needs: { history: true, mutable: true, ops: ['set'], queries: ['keys', 'range'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const v0 = await versionsOf(s)
        await s.mutate(txnOf({ bin: set(allBytes()), j: set({ a: [1] }) }), { meta: { m: [1] } })
        const spoil = (rec: TxnRecord | undefined): void => {
          expect(rec).toBeDefined()
          const r = rec as TxnRecord
          tamper(() => ((r.txn.get('bin') as SetOp).value as Uint8Array).fill(0))
          tamper(() => ((r.txn.get('j') as SetOp).value as { a: Json[] }).a.push(2))
          tamper(() => ((r.meta as { m: Json[] }).m).push(2))
          tamper(() => r.txn.set('j', set('replaced')))
          tamper(() => r.txn.delete('bin'))
        }
        spoil((await s.getOps(range(), v0))[0])
        const sub = s.subscribe(range(), { fromVersion: v0 })
        spoil((await collectTxns(sub, 1)).records[0])
        sub.close()
        const again = (await s.getOps(range(), v0))[0]
        expect(again?.txn.get('j')).toEqual({ type: 'set', value: { a: [1] } })
        const bin = again?.txn.get('bin') as SetOp | undefined
        expect(bin?.value).toEqual(allBytes())
        expect(again?.meta).toEqual({ m: [1] })
        const sub2 = s.subscribe(keys('bin', 'j'), { fromVersion: v0 })
        const rec = (await collectTxns(sub2, 1)).records[0]
        sub2.close()
        expect((rec?.txn.get('bin') as SetOp | undefined)?.value).toEqual(allBytes())
        expect(rec?.txn.get('j')).toEqual({ type: 'set', value: { a: [1] } })
        const now = await s.fetch(keys('bin', 'j'))
        expect(obj(now)).toEqual({ bin: allBytes(), j: { a: [1] } })
      })
    },
  },
  {
    name: 'history window: versions before the kept history are version-too-old',
    needs: { history: true, historyLimit: true, mutable: true, ops: ['set', 'text'], queries: ['keys', 'range'] },
    async run(_makeStore, ctx) {
      const make = ctx?.makeStoreWithHistory
      if (make === undefined) throw new Error('this case needs makeStoreWithHistory')
      await withStore(() => make(3), async s => {
        const v0 = await versionsOf(s)
        const base = await put(s, 't', 'a')
        const vs = [base]
        for (let i = 0; i < 9; i++) vs.push(await s.mutate(txnOf({ t: text([{ d: 1 }, String(i)]) })))
        const at = (i: number): Versions => vs[i - 1] as Versions // version i (1-based)
        // The last 3 txns are kept.
        expect(versionsIn(await s.getOps(range(), at(7)))).toEqual([8, 9, 10].map(i => ver(at(i))))
        expect((await s.fetch(keys('t'), { atVersion: at(7) })).results.get('t')).toBe('5')
        expect((await s.fetch(keys('t'), { atVersion: at(10) })).results.get('t')).toBe('8')
        // Far older is gone.
        await expectCode(s.fetch(keys('t'), { atVersion: at(1) }), 'version-too-old', 'fetch atVersion outside history')
        await expectCode(s.fetch(keys('t'), { atVersion: v0 }), 'version-too-old', 'fetch atVersion 0 outside history')
        await expectCode(s.getOps(range(), at(1)), 'version-too-old', 'getOps outside history')
        await expectSubscribeCode(s, keys('t'), 'version-too-old', { fromVersion: at(1) })
        const before = await versionsOf(s)
        await expectCode(s.mutate(txnOf({ t: text(['x']) }), { baseVersions: base }), 'version-too-old', 'an OT op whose base is outside history')
        expect(await versionsOf(s)).toEqual(before)
      })
    },
  },
]
