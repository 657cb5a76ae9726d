// Conformance cases for range queries: bounds, prefixes, limit and `more`, reverse.
import { expect } from 'vitest'
import { prefix, range } from '@statecraft/core'
import type { FetchResult, Key, Store } from '@statecraft/core'
import { set, withStore } from '../helpers.ts'
import type { StoreTestCase } from '../store-test-case.ts'

const needs = { mutable: true, ops: ['set' as const], queries: ['range' as const] }

async function seed(s: Store, ks: Key[]): Promise<void> {
  await s.mutate(new Map(ks.map(k => [k, set(`v:${k}`)])))
}

const keysOf = (r: FetchResult): Key[] => [...r.results.keys()]

export const rangeCases: StoreTestCase[] = [
  {
    name: 'range: from is inclusive, to is exclusive',
    needs,
    async run(makeStore) {
      await withStore(makeStore, async s => {
        await seed(s, ['a', 'b', 'c', 'd', 'e'])
        expect(keysOf(await s.fetch(range({ from: 'b', to: 'd' })))).toEqual(['b', 'c'])
        expect(keysOf(await s.fetch(range({ from: 'bb', to: 'dd' })))).toEqual(['c', 'd'])
        expect(keysOf(await s.fetch(range({ from: 'c' })))).toEqual(['c', 'd', 'e'])
        expect(keysOf(await s.fetch(range({ to: 'c' })))).toEqual(['a', 'b'])
        expect(keysOf(await s.fetch(range({ from: 'c', to: 'c' })))).toEqual([])
        expect(keysOf(await s.fetch(range({ from: 'd', to: 'b' })))).toEqual([])
        const r = await s.fetch(range({ from: 'b', to: 'c' }))
        expect(r.results.get('b')).toBe('v:b')
      })
    },
  },
  {
    name: 'range: prefix narrows the range, alone or with from/to',
    needs,
    async run(makeStore) {
      await withStore(makeStore, async s => {
        await seed(s, ['p', 'p/', 'p/a', 'p/b', 'p/b/c', 'p0', 'pa', 'q', 'o'])
        expect(keysOf(await s.fetch(prefix('p/')))).toEqual(['p/', 'p/a', 'p/b', 'p/b/c'])
        expect(keysOf(await s.fetch(prefix('p')))).toEqual(['p', 'p/', 'p/a', 'p/b', 'p/b/c', 'p0', 'pa'])
        expect(keysOf(await s.fetch(prefix('p/', { from: 'p/a0' })))).toEqual(['p/b', 'p/b/c'])
        expect(keysOf(await s.fetch(prefix('p/', { to: 'p/b' })))).toEqual(['p/', 'p/a'])
        expect(keysOf(await s.fetch(prefix('p/', { from: 'a', to: 'z' })))).toEqual(['p/', 'p/a', 'p/b', 'p/b/c'])
        expect(keysOf(await s.fetch(prefix('')))).toHaveLength(9)
        expect(keysOf(await s.fetch(prefix('nothing/')))).toEqual([])
      })
    },
  },
  {
    name: 'range: a prefix ending in \\uFFFF is bounded correctly',
    needs,
    async run(makeStore) {
      await withStore(makeStore, async s => {
        await seed(s, ['x', 'x\uFFFE', 'x\uFFFF', 'x\uFFFFa', 'x\uFFFF\uFFFF', 'y', '\uFFFF', '\uFFFF\uFFFF'])
        expect(keysOf(await s.fetch(prefix('x\uFFFF')))).toEqual(['x\uFFFF', 'x\uFFFFa', 'x\uFFFF\uFFFF'])
        expect(keysOf(await s.fetch(prefix('\uFFFF')))).toEqual(['\uFFFF', '\uFFFF\uFFFF'])
        expect(keysOf(await s.fetch(prefix('x')))).toEqual(['x', 'x\uFFFE', 'x\uFFFF', 'x\uFFFFa', 'x\uFFFF\uFFFF'])
      })
    },
  },
  {
    name: 'range: limit keeps the first N keys and sets more when keys remain',
    needs,
    async run(makeStore) {
      await withStore(makeStore, async s => {
        await seed(s, ['k1', 'k2', 'k3', 'k4', 'k5', 'z'])
        const two = await s.fetch(prefix('k', { limit: 2 }))
        expect(keysOf(two)).toEqual(['k1', 'k2'])
        expect(two.more).toBe(true)
        const all = await s.fetch(prefix('k', { limit: 5 }))
        expect(keysOf(all)).toEqual(['k1', 'k2', 'k3', 'k4', 'k5'])
        expect(all.more ?? false).toBe(false)
        const over = await s.fetch(prefix('k', { limit: 50 }))
        expect(keysOf(over)).toHaveLength(5)
        expect(over.more ?? false).toBe(false)
        const zero = await s.fetch(prefix('k', { limit: 0 }))
        expect(keysOf(zero)).toEqual([])
        expect(zero.more).toBe(true)
        const bounded = await s.fetch(range({ from: 'k2', to: 'k5', limit: 2 }))
        expect(keysOf(bounded)).toEqual(['k2', 'k3'])
        expect(bounded.more).toBe(true)
      })
    },
  },
  {
    name: 'range: reverse returns keys in descending order',
    needs,
    async run(makeStore) {
      await withStore(makeStore, async s => {
        await seed(s, ['a', 'b', 'c', 'd', 'e'])
        expect(keysOf(await s.fetch(range({ reverse: true })))).toEqual(['e', 'd', 'c', 'b', 'a'])
        expect(keysOf(await s.fetch(range({ from: 'b', to: 'e', reverse: true })))).toEqual(['d', 'c', 'b'])
        expect(keysOf(await s.fetch(range({ reverse: false })))).toEqual(['a', 'b', 'c', 'd', 'e'])
      })
    },
  },
  {
    name: 'range: reverse with limit returns the last N keys in descending order',
    needs,
    async run(makeStore) {
      await withStore(makeStore, async s => {
        await seed(s, ['a', 'p/1', 'p/2', 'p/3', 'p/4', 'q'])
        const last2 = await s.fetch(prefix('p/', { reverse: true, limit: 2 }))
        expect(keysOf(last2)).toEqual(['p/4', 'p/3'])
        expect(last2.more).toBe(true)
        const bounded = await s.fetch(range({ from: 'p/1', to: 'p/4', reverse: true, limit: 2 }))
        expect(keysOf(bounded)).toEqual(['p/3', 'p/2'])
        expect(bounded.more).toBe(true)
        const all = await s.fetch(prefix('p/', { reverse: true, limit: 4 }))
        expect(keysOf(all)).toEqual(['p/4', 'p/3', 'p/2', 'p/1'])
        expect(all.more ?? false).toBe(false)
        expect(all.results.get('p/3')).toBe('v:p/3')
      })
    },
  },
]
