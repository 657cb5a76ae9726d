// Conformance cases for the basics: store info, keys queries, missing keys, versions per txn,
// set/del, atomic multi-key txns, and validation of queries and txns.
import { expect } from 'vitest'
import { keys } from '@statecraft/core'
import type { Op, Query, Txn } from '@statecraft/core'
import { bump, del, expectCode, put, set, text, txnOf, valueOf, ver, versionsOf, withStore } from '../helpers.ts'
import { expectSubscribeCode } from '../subscription-reader.ts'
import type { StoreTestCase } from '../store-test-case.ts'

export const basicCases: StoreTestCase[] = [
  {
    name: 'info: uid, sources and capabilities are well-formed; versions name only its sources',
    needs: { queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const { uid, sources, capabilities: c } = s.info
        expect(typeof uid).toBe('string')
        expect(uid).not.toBe('')
        expect(Array.isArray(sources)).toBe(true)
        expect(sources.length).toBeGreaterThan(0)
        for (const src of sources) expect(typeof src).toBe('string')
        expect(Array.isArray(c.queries) && Array.isArray(c.opTypes)).toBe(true)
        expect(typeof c.mutable).toBe('boolean')
        expect(typeof c.history).toBe('boolean')
        const { versions } = await s.fetch(keys('a'))
        for (const [src, v] of Object.entries(versions)) {
          expect(sources, `versions name source ${src}, which info.sources does not list`).toContain(src)
          expect(Number.isSafeInteger(v) && v >= 0, `version ${v} of ${src} is not a non-negative integer`).toBe(true)
        }
      })
    },
  },
  {
    name: 'an empty keys query returns empty results',
    needs: { mutable: true, ops: ['set'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const empty = await s.fetch(keys())
        expect(empty.results.size).toBe(0)
        await put(s, 'a', 1)
        const r = await s.fetch(keys())
        expect(r.results).toBeInstanceOf(Map)
        expect(r.results.size).toBe(0)
        expect(ver(r.versions)).toBe(ver(empty.versions) + 1)
      })
    },
  },
  {
    name: 'a missing key is absent from results, never undefined-valued',
    needs: { mutable: true, ops: ['set'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        await put(s, 'here', 'yes')
        const r = await s.fetch(keys('nope', 'here', 'also-nope'))
        expect(r.results.has('nope')).toBe(false)
        expect(r.results.has('also-nope')).toBe(false)
        expect([...r.results.keys()]).toEqual(['here'])
        expect(r.results.get('here')).toBe('yes')
        for (const v of r.results.values()) expect(v).not.toBeUndefined()
      })
    },
  },
  {
    name: 'a fetch after a write sees it, at versions at least those the write returned',
    needs: { mutable: true, ops: ['set'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const v = await put(s, 'k', { n: 1 })
        const r = await s.fetch(keys('k'))
        expect(r.results.get('k')).toEqual({ n: 1 })
        for (const [src, n] of Object.entries(v)) expect(r.versions[src] ?? -1).toBeGreaterThanOrEqual(n)
      })
    },
  },
  {
    name: 'each committed txn advances the version by one',
    needs: { mutable: true, ops: ['set', 'del'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const v0 = ver(await versionsOf(s))
        const got: number[] = []
        got.push(ver(await put(s, 'a', 1)))
        got.push(ver(await put(s, 'a', 2)))
        got.push(ver(await put(s, 'b', 3)))
        got.push(ver(await s.mutate(txnOf({ a: del() }))))
        got.push(ver(await s.mutate(txnOf({ b: set(4), c: set(5) }))))
        expect(got).toEqual([v0 + 1, v0 + 2, v0 + 3, v0 + 4, v0 + 5])
        expect(ver(await versionsOf(s))).toBe(v0 + 5)
      })
    },
  },
  {
    name: 'set then del leaves the key absent, one version each',
    needs: { mutable: true, ops: ['set', 'del'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const v0 = ver(await versionsOf(s))
        const v1 = await put(s, 'x', 'hello')
        expect(ver(v1)).toBe(v0 + 1)
        expect(await valueOf(s, 'x')).toBe('hello')
        const v2 = await s.mutate(txnOf({ x: del() }))
        expect(ver(v2)).toBe(v0 + 2)
        const r = await s.fetch(keys('x'))
        expect(r.results.has('x')).toBe(false)
        expect(r.results.size).toBe(0)
        expect(ver(r.versions)).toBe(v0 + 2)
      })
    },
  },
  {
    name: 'del of a never-existing key succeeds and advances the version',
    needs: { mutable: true, ops: ['del'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const v0 = ver(await versionsOf(s))
        const v1 = await s.mutate(txnOf({ ghost: del() }))
        expect(ver(v1)).toBe(v0 + 1)
        const r = await s.fetch(keys('ghost'))
        expect(r.results.has('ghost')).toBe(false)
        expect(ver(r.versions)).toBe(v0 + 1)
      })
    },
  },
  {
    name: 'a multi-key txn applies all its ops at one version',
    needs: { mutable: true, ops: ['set', 'del'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        await s.mutate(txnOf({ gone: set('old'), keep: set('k') }))
        const v0 = ver(await versionsOf(s))
        const v = await s.mutate(txnOf({ a: set(1), b: set([2]), c: set({ three: 3 }), gone: del() }))
        expect(ver(v)).toBe(v0 + 1)
        const r = await s.fetch(keys('a', 'b', 'c', 'gone', 'keep'))
        expect(Object.fromEntries(r.results)).toEqual({ a: 1, b: [2], c: { three: 3 }, keep: 'k' })
        expect(ver(r.versions)).toBe(v0 + 1)
      })
    },
  },
  {
    name: 'a keys query returns each existing key once, whatever the order or repeats asked',
    needs: { mutable: true, ops: ['set'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        await s.mutate(txnOf({ a: set(1), b: set(2), c: set(3) }))
        const r = await s.fetch(keys('c', 'a', 'c', 'zz', 'a'))
        expect(r.results.size).toBe(2)
        expect(r.results.get('a')).toBe(1)
        expect(r.results.get('c')).toBe(3)
        expect(r.results.has('b')).toBe(false)
      })
    },
  },
  {
    name: 'malformed queries are invalid',
    needs: { queries: ['keys', 'range'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const bad: unknown[] = [
          null,
          'keys',
          { kind: 'nope' },
          { kind: 'keys' },
          { kind: 'keys', keys: 'a' },
          { kind: 'keys', keys: ['a', 1] },
          { kind: 'range', limit: -1 },
          { kind: 'range', limit: 1.5 },
          { kind: 'range', from: 3 },
          { kind: 'range', reverse: 'yes' },
        ]
        for (const q of bad) await expectCode(s.fetch(q as Query), 'invalid', `fetch(${JSON.stringify(q)})`)
      })
    },
  },
  {
    name: 'native queries are unsupported unless declared (and unknown backends always)',
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const native = s.info.capabilities.queries.includes('native')
        const q: Query = { kind: 'native', backend: native ? 'statecraft-test-kit-no-such-backend' : 'sql', query: 'select 1' }
        await expectCode(s.fetch(q), 'unsupported', 'fetch of a native query')
        if (s.info.capabilities.history) await expectCode(s.getOps(q, {}), 'unsupported', 'getOps of a native query')
        await expectSubscribeCode(s, q, 'unsupported')
      })
    },
  },
  {
    name: 'txn validation: not a Map, or an empty Map, is invalid and writes nothing',
    needs: { mutable: true, ops: ['set'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const v0 = await versionsOf(s)
        const bad: unknown[] = [new Map(), { a: { type: 'set', value: 1 } }, [['a', { type: 'set', value: 1 }]], null, undefined, 'a']
        for (const t of bad) await expectCode(s.mutate(t as Txn), 'invalid', `mutate(${String(t)})`)
        expect(await versionsOf(s)).toEqual(v0)
        expect((await s.fetch(keys('a'))).results.size).toBe(0)
      })
    },
  },
  {
    name: 'malformed ops are invalid and write nothing',
    needs: { mutable: true, ops: ['set', 'text', 'json1'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        await put(s, 'a', 'before')
        const v0 = await versionsOf(s)
        const bad: unknown[] = [
          null,
          'set',
          {},
          { type: 'set' },
          { type: 42 },
          { type: 'text', op: 'not an array' },
          { type: 'text', op: [{ bogus: 1 }] },
          { type: 'json1', op: 'bad' },
          { type: 'json1', op: [{ zz: 1 }] },
        ]
        for (const op of bad) {
          await expectCode(s.mutate(new Map([['a', op as Op]])), 'invalid', `mutate with op ${JSON.stringify(op)}`)
        }
        await expectCode(s.mutate(new Map([[7 as unknown as string, set(1)]])), 'invalid', 'mutate with a number key')
        await expectCode(s.mutate(new Map([['a', { type: 'no-such-op-type', op: [] } as unknown as Op]])), ['invalid', 'unsupported'], 'an unknown op type')
        expect(await versionsOf(s)).toEqual(v0)
        expect(await valueOf(s, 'a')).toBe('before')
      })
    },
  },
  {
    name: 'a failed txn (one op does not fit its value) leaves every key as it was',
    needs: { mutable: true, ops: ['set', 'text', 'json1'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        await s.mutate(txnOf({ n: set(5), t: set('text'), b: set(new Uint8Array([1, 2])) }))
        const v0 = await versionsOf(s)
        await expectCode(s.mutate(txnOf({ a: set('new'), t: text([4, '!']), n: text(['x']) })), 'invalid', 'a text op on a number')
        await expectCode(s.mutate(txnOf({ a: set('new'), t: set('changed'), b: { type: 'json1', op: ['x', { i: 1 }] } })), 'invalid', 'a json1 op on binary')
        await expectCode(s.mutate(txnOf({ a: set('new'), t: text([100, 'x']) })), 'invalid', 'a text op past the end of the string')
        const r = await s.fetch(keys('a', 'n', 't', 'b'))
        expect(r.versions).toEqual(v0)
        expect(r.results.has('a')).toBe(false)
        expect(r.results.get('n')).toBe(5)
        expect(r.results.get('t')).toBe('text')
        expect(r.results.get('b')).toEqual(new Uint8Array([1, 2]))
      })
    },
  },
  {
    name: 'minVersion ahead of the store is invalid; at or behind it reads now',
    needs: { mutable: true, ops: ['set'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const v1 = await put(s, 'a', 1)
        await put(s, 'a', 2)
        const now = await versionsOf(s)
        await expectCode(s.fetch(keys('a'), { minVersion: bump(now, 5) }), 'invalid', 'fetch with minVersion ahead')
        const r = await s.fetch(keys('a'), { minVersion: v1 })
        expect(r.results.get('a')).toBe(2)
        expect(r.versions).toEqual(now)
      })
    },
  },
]
