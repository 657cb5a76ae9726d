// Conformance cases for OT ops (json1, text): creating keys, editing, and concurrent edits on
// one base being transformed (ShareDB-style) rather than rejected or applied blindly.
import { expect } from 'vitest'
import { applyOp, keys, transformOp } from '@statecraft/core'
import type { Op } from '@statecraft/core'
import { del, expectCode, json1, put, set, text, txnOf, valueOf, ver, versionsOf, withStore } from '../helpers.ts'
import type { StoreTestCase } from '../store-test-case.ts'

export const otCases: StoreTestCase[] = [
  {
    name: 'a json1 op on a missing key creates it',
    needs: { mutable: true, ops: ['json1'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const v0 = ver(await versionsOf(s))
        const v = await s.mutate(txnOf({ doc: json1([{ i: { title: 'new', tags: ['a'] } }]) }))
        expect(ver(v)).toBe(v0 + 1)
        expect(await valueOf(s, 'doc')).toEqual({ title: 'new', tags: ['a'] })
      })
    },
  },
  {
    name: 'a text op on a missing key creates a string',
    needs: { mutable: true, ops: ['text'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const v0 = ver(await versionsOf(s))
        const v = await s.mutate(txnOf({ t: text(['hi']) }))
        expect(ver(v)).toBe(v0 + 1)
        expect(await valueOf(s, 't')).toBe('hi')
      })
    },
  },
  {
    name: 'json1 and text ops edit existing values',
    needs: { mutable: true, ops: ['set', 'json1', 'text'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        await s.mutate(txnOf({ doc: set({ n: 1, list: [1, 2] }), t: set('hello') }))
        await s.mutate(txnOf({ doc: json1([['list', 1, { i: 'x' }], ['n', { r: 1, i: 2 }]]), t: text([5, ' world']) }))
        await s.mutate(txnOf({ t: text([{ d: 1 }, 'H']) }))
        await s.mutate(txnOf({ doc: json1(['list', 0, { r: 1 }]) }))
        const r = await s.fetch(keys('doc', 't'))
        expect(r.results.get('doc')).toEqual({ n: 2, list: ['x', 2] })
        expect(r.results.get('t')).toBe('Hello world')
        // A json1 op removing the root deletes the key.
        await s.mutate(txnOf({ doc: json1([{ r: true }]) }))
        expect((await s.fetch(keys('doc'))).results.has('doc')).toBe(false)
      })
    },
  },
  {
    name: 'concurrent text inserts on one base both land, transformed',
    needs: { mutable: true, ops: ['set', 'text'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const base = await put(s, 't', 'hello')
        const a: Op = text([5, ' world'])
        const b: Op = text(['>'])
        const va = await s.mutate(txnOf({ t: a }), { baseVersions: base })
        const vb = await s.mutate(txnOf({ t: b }), { baseVersions: base })
        expect([ver(va), ver(vb)]).toEqual([ver(base) + 1, ver(base) + 2])
        // The same result as applying a, then b transformed over a.
        const expected = applyOp(applyOp('hello', a), transformOp(b, a, 'left') as Op)
        expect(expected).toBe('>hello world')
        expect(await valueOf(s, 't')).toBe(expected)
        // Inserts at the same place both land, in one order or the other.
        const base2 = await versionsOf(s)
        await s.mutate(txnOf({ t: text(['A']) }), { baseVersions: base2 })
        await s.mutate(txnOf({ t: text(['B']) }), { baseVersions: base2 })
        expect(['AB>hello world', 'BA>hello world']).toContain(await valueOf(s, 't'))
      })
    },
  },
  {
    name: 'a concurrent text delete and insert on one base are transformed',
    needs: { mutable: true, ops: ['set', 'text'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const base = await put(s, 't', 'abcdef')
        await s.mutate(txnOf({ t: text([2, { d: 2 }]) }), { baseVersions: base }) // abef
        await s.mutate(txnOf({ t: text([4, 'X']) }), { baseVersions: base }) // after "abcd": lands between b and e
        await s.mutate(txnOf({ t: text([6, '!']) }), { baseVersions: base }) // at the end
        expect(await valueOf(s, 't')).toBe('abXef!')
      })
    },
  },
  {
    name: 'concurrent json1 edits on one base all land',
    needs: { mutable: true, ops: ['set', 'json1'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const base = await put(s, 'doc', { list: ['m'], n: 1 })
        await s.mutate(txnOf({ doc: json1(['x', { i: 1 }]) }), { baseVersions: base })
        await s.mutate(txnOf({ doc: json1(['y', { i: 2 }]) }), { baseVersions: base })
        await s.mutate(txnOf({ doc: json1(['list', 0, { i: 'a' }]) }), { baseVersions: base })
        await s.mutate(txnOf({ doc: json1(['list', 1, { i: 'z' }]) }), { baseVersions: base })
        await s.mutate(txnOf({ doc: json1(['n', { r: 1 }]) }), { baseVersions: base })
        expect(await valueOf(s, 'doc')).toEqual({ list: ['a', 'm', 'z'], x: 1, y: 2 })
      })
    },
  },
  {
    name: 'an OT op on a key set or deleted since its base is a conflict',
    needs: { mutable: true, ops: ['set', 'del', 'text', 'json1'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const base = await s.mutate(txnOf({ t: set('abc'), d: set({ a: 1 }) }))
        await s.mutate(txnOf({ t: set('zzz'), d: del() }))
        const before = await versionsOf(s)
        await expectCode(s.mutate(txnOf({ t: text(['x']) }), { baseVersions: base }), 'conflict', 'a text op over a set')
        await expectCode(s.mutate(txnOf({ d: json1(['b', { i: 2 }]) }), { baseVersions: base }), 'conflict', 'a json1 op over a del')
        const r = await s.fetch(keys('t', 'd'))
        expect(r.results.get('t')).toBe('zzz')
        expect(r.results.has('d')).toBe(false)
        expect(r.versions).toEqual(before)
      })
    },
  },
  {
    name: 'a conflictKeys key edited by an OT op since the base is a conflict',
    needs: { mutable: true, ops: ['set', 'text'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const base = await put(s, 't', 'abc')
        await s.mutate(txnOf({ t: text([3, 'd']) }))
        await expectCode(put(s, 'w', 1, { baseVersions: base, conflictKeys: ['t'] }), 'conflict', 'a write whose read key was edited')
        expect((await s.fetch(keys('w'))).results.has('w')).toBe(false)
        expect(await valueOf(s, 't')).toBe('abcd')
      })
    },
  },
]
