// Conformance cases for live range queries with `limit`: the window stays right as keys enter and
// leave it (checked against a fresh fetch after every step), including a seeded random sequence.
import { expect } from 'vitest'
import { keys, prefix, range } from '@statecraft/core'
import type { Json, Key, Op, Query, RangeQuery, Store } from '@statecraft/core'
import { del, describeValue, put, set, txnOf, withStore } from '../helpers.ts'
import { View } from '../subscription-reader.ts'
import { chooseSeed, withSeed } from '../random.ts'
import type { StoreTestCase } from '../store-test-case.ts'

const needs = { mutable: true, ops: ['set' as const, 'del' as const], queries: ['range' as const] }

async function startView(s: Store, q: Query): Promise<View> {
  const view = new View(s.subscribe(q))
  const first = await view.step()
  expect(first.replace, 'the first update carries replace').toBeInstanceOf(Map)
  return view
}

/** Runs each step, then checks the view against a fresh fetch and against the keys expected. */
async function steps(s: Store, view: View, q: RangeQuery, plan: [string, () => Promise<unknown>, Key[]][]): Promise<void> {
  await view.syncWith(s, q, 'at start: ')
  for (const [label, write, want] of plan) {
    await write()
    await view.syncWith(s, q, `after ${label}: `)
    const have = [...view.map.keys()].sort()
    expect(have, `after ${label}: the window holds the wrong keys`).toEqual([...want].sort())
  }
}

export const windowCases: StoreTestCase[] = [
  {
    name: 'a limit window sees a key enter and another leave, as a fresh fetch does',
    needs,
    async run(makeStore) {
      await withStore(makeStore, async s => {
        await s.mutate(txnOf({ 'w/b': set('b'), 'w/c': set('c'), 'w/d': set('d'), x: set('x') }))
        const q = prefix('w/', { limit: 2 })
        const view = await startView(s, q)
        expect([...view.map.keys()].sort()).toEqual(['w/b', 'w/c'])
        await steps(s, view, q, [
          ['a key entering at the front', () => put(s, 'w/a', 'a'), ['w/a', 'w/b']],
          ['deleting that key', () => s.mutate(txnOf({ 'w/a': del() })), ['w/b', 'w/c']],
          ['changing a key in the window', () => put(s, 'w/c', 'c2'), ['w/b', 'w/c']],
          ['changing a key past the window', () => put(s, 'w/d', 'd2'), ['w/b', 'w/c']],
          ['deleting the first key', () => s.mutate(txnOf({ 'w/b': del() })), ['w/c', 'w/d']],
          ['adding a key past the window', () => put(s, 'w/z', 'z'), ['w/c', 'w/d']],
          ['writing outside the range', () => put(s, 'x', 'x2'), ['w/c', 'w/d']],
          ['one txn adding a key and deleting one', () => s.mutate(txnOf({ 'w/0': set('0'), 'w/c': del() })), ['w/0', 'w/d']],
          ['deleting every key in the window', () => s.mutate(txnOf({ 'w/0': del(), 'w/d': del() })), ['w/z']],
          ['deleting the last key', () => s.mutate(txnOf({ 'w/z': del() })), []],
          ['refilling', () => s.mutate(txnOf({ 'w/m': set(1), 'w/n': set(2), 'w/o': set(3) })), ['w/m', 'w/n']],
        ])
        expect(view.map.get('w/m')).toBe(1)
      })
    },
  },
  {
    name: 'a reverse limit window (the last N keys) follows keys entering and leaving',
    needs,
    async run(makeStore) {
      await withStore(makeStore, async s => {
        await s.mutate(txnOf({ 'w/a': set(1), 'w/b': set(2), 'w/c': set(3), 'x/a': set(0) }))
        const q = prefix('w/', { limit: 2, reverse: true })
        const view = await startView(s, q)
        await steps(s, view, q, [
          ['a key entering at the end', () => put(s, 'w/d', 4), ['w/c', 'w/d']],
          ['a key before the window', () => put(s, 'w/0', 0), ['w/c', 'w/d']],
          ['deleting the last key', () => s.mutate(txnOf({ 'w/d': del() })), ['w/b', 'w/c']],
          ['writing just past the range', () => put(s, 'x/b', 1), ['w/b', 'w/c']],
          ['deleting both', () => s.mutate(txnOf({ 'w/b': del(), 'w/c': del() })), ['w/0', 'w/a']],
        ])
      })
    },
  },
  {
    name: 'a from/to window with limit follows keys entering and leaving at both bounds',
    needs,
    async run(makeStore) {
      await withStore(makeStore, async s => {
        await s.mutate(txnOf({ b: set(1), c: set(2), d: set(3), e: set(4) }))
        const q = range({ from: 'b', to: 'e', limit: 2 })
        const view = await startView(s, q)
        await steps(s, view, q, [
          ['a key at the exclusive bound', () => put(s, 'e', 5), ['b', 'c']],
          ['a key before from', () => put(s, 'a', 0), ['b', 'c']],
          ['deleting from', () => s.mutate(txnOf({ b: del() })), ['c', 'd']],
          ['a key at from', () => put(s, 'b', 'back'), ['b', 'c']],
          ['a key between', () => put(s, 'bb', 'between'), ['b', 'bb']],
        ])
      })
    },
  },
  {
    name: 'live queries follow a seeded random sequence of inserts and deletes',
    needs: { mutable: true, ops: ['set', 'del'], queries: ['range', 'keys'] },
    async run(makeStore) {
      await withSeed(chooseSeed(), async r => {
        await withStore(makeStore, async s => {
          const pool = 'abcdefghijkl'.split('').map(c => `r/${c}`).concat(['q/x', 'r', 's'])
          const queries: Query[] = [
            prefix('r/', { limit: 3 }),
            prefix('r/', { limit: 3, reverse: true }),
            range({ from: 'r/c', to: 'r/j', limit: 2 }),
            range({ from: 'r/c', to: 'r/j', limit: 2, reverse: true }),
            prefix('r/', { limit: 1 }),
            prefix('r/'),
            keys('r/a', 'r/e', 'q/x'),
          ]
          // Start with a few keys so windows begin full.
          await s.mutate(txnOf({ 'r/b': set(0), 'r/e': set(0), 'r/h': set(0), 'r/k': set(0) }))
          const views = await Promise.all(queries.map(q => startView(s, q)))
          const value = (): Json => (r.int(3) === 0 ? { n: r.int(100) } : r.int(1000))
          for (let step = 0; step < 80; step++) {
            const txn = new Map<Key, Op>()
            const n = 1 + (r.int(4) === 0 ? r.int(3) : 0)
            for (let i = 0; i < n; i++) txn.set(r.pick(pool), r.int(2) === 0 ? del() : set(value()))
            await s.mutate(txn)
            for (const [i, view] of views.entries()) {
              await view.syncWith(s, queries[i] as Query, `step ${step} (${describeValue(Object.fromEntries(txn))}): `)
            }
          }
        })
      })
    },
  },
]
