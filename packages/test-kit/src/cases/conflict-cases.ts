// Conformance cases for conditional writes (baseVersions, conflictKeys) and exactly-once writes
// ({clientId, seq}).
import { expect } from 'vitest'
import { keys } from '@statecraft/core'
import { bump, del, expectCode, put, set, text, txnOf, valueOf, ver, versionsOf, withStore } from '../helpers.ts'
import type { StoreTestCase } from '../store-test-case.ts'

export const conflictCases: StoreTestCase[] = [
  {
    name: 'a set on an up-to-date base succeeds',
    needs: { mutable: true, ops: ['set'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const v1 = await put(s, 'k', 1)
        const v2 = await put(s, 'k', 2, { baseVersions: v1 })
        expect(ver(v2)).toBe(ver(v1) + 1)
        const v3 = await put(s, 'k', 3, { baseVersions: await versionsOf(s), conflictKeys: ['k', 'other'] })
        expect(ver(v3)).toBe(ver(v2) + 1)
        expect(await valueOf(s, 'k')).toBe(3)
      })
    },
  },
  {
    name: 'a stale set on the same key is a conflict and writes nothing',
    needs: { mutable: true, ops: ['set'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const empty = await versionsOf(s)
        const base = await put(s, 'k', 'one')
        await put(s, 'k', 'two')
        const before = await versionsOf(s)
        const e = await expectCode(put(s, 'k', 'three', { baseVersions: base }), 'conflict', 'a set based before the last write')
        expect(e.message).not.toBe('')
        await expectCode(put(s, 'k', 'four', { baseVersions: empty }), 'conflict', 'a set based before the key existed')
        const r = await s.fetch(keys('k'))
        expect(r.results.get('k')).toBe('two')
        expect(r.versions).toEqual(before)
      })
    },
  },
  {
    name: 'a stale del on the same key is a conflict and deletes nothing',
    needs: { mutable: true, ops: ['set', 'del'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const base = await put(s, 'k', 'one')
        await put(s, 'k', 'two')
        const before = await versionsOf(s)
        await expectCode(s.mutate(txnOf({ k: del() }), { baseVersions: base }), 'conflict', 'a del based before the last write')
        const r = await s.fetch(keys('k'))
        expect(r.results.get('k')).toBe('two')
        expect(r.versions).toEqual(before)
        // A set based before a del is stale too.
        const afterSet = await versionsOf(s)
        await s.mutate(txnOf({ k: del() }))
        await expectCode(put(s, 'k', 'back', { baseVersions: afterSet }), 'conflict', 'a set based before a del')
        expect((await s.fetch(keys('k'))).results.has('k')).toBe(false)
      })
    },
  },
  {
    name: 'writes to different keys on the same base both succeed',
    needs: { mutable: true, ops: ['set', 'del'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const base = await s.mutate(txnOf({ a: set(0), d: set('to delete') }))
        const v1 = await put(s, 'b', 1, { baseVersions: base })
        const v2 = await put(s, 'c', 2, { baseVersions: base })
        const v3 = await put(s, 'a', 3, { baseVersions: base })
        const v4 = await s.mutate(txnOf({ d: del() }), { baseVersions: base })
        expect([v1, v2, v3, v4].map(ver)).toEqual([1, 2, 3, 4].map(n => ver(base) + n))
        // The key written since the base now conflicts.
        await expectCode(put(s, 'a', 4, { baseVersions: base }), 'conflict', 'a second write on the same base to key a')
        const r = await s.fetch(keys('a', 'b', 'c', 'd'))
        expect(Object.fromEntries(r.results)).toEqual({ a: 3, b: 1, c: 2 })
      })
    },
  },
  {
    name: 'a conflictKeys key changed since the base (set, del or created) is a conflict',
    needs: { mutable: true, ops: ['set', 'del'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const base = await s.mutate(txnOf({ r: set(1), gone: set(1) }))
        await put(s, 'r', 2)
        await s.mutate(txnOf({ gone: del() }))
        await put(s, 'fresh', 1)
        const before = await versionsOf(s)
        for (const k of ['r', 'gone', 'fresh']) {
          await expectCode(put(s, 'w', 'x', { baseVersions: base, conflictKeys: [k] }), 'conflict', `a write whose read key ${k} changed`)
          await expectCode(put(s, 'w', 'x', { baseVersions: base, conflictKeys: ['untouched', k] }), 'conflict', `a write whose read keys include ${k}`)
        }
        const r = await s.fetch(keys('w'))
        expect(r.results.has('w')).toBe(false)
        expect(r.versions).toEqual(before)
      })
    },
  },
  {
    name: 'conflictKeys that did not change since the base do not conflict',
    needs: { mutable: true, ops: ['set'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        await put(s, 'read', 'r')
        const base = await versionsOf(s)
        await put(s, 'elsewhere', 1)
        const v = await put(s, 'w', 'ok', { baseVersions: base, conflictKeys: ['read', 'never-written'] })
        expect(ver(v)).toBe(ver(base) + 2)
        expect(await valueOf(s, 'w')).toBe('ok')
      })
    },
  },
  {
    name: 'a conflict on one key of a multi-key txn writes none of its keys',
    needs: { mutable: true, ops: ['set', 'del'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const base = await s.mutate(txnOf({ x: set('x0'), y: set('y0') }))
        await put(s, 'x', 'x1')
        const before = await versionsOf(s)
        await expectCode(s.mutate(txnOf({ a: set('a'), y: del(), x: set('x2'), b: set('b') }), { baseVersions: base }), 'conflict', 'a txn with one stale key')
        await expectCode(s.mutate(txnOf({ a: set('a'), y: set('y1') }), { baseVersions: base, conflictKeys: ['x'] }), 'conflict', 'a txn with a changed read key')
        const r = await s.fetch(keys('a', 'b', 'x', 'y'))
        expect(Object.fromEntries(r.results)).toEqual({ x: 'x1', y: 'y0' })
        expect(r.versions).toEqual(before)
      })
    },
  },
  {
    name: 'baseVersions ahead of the store is invalid',
    needs: { mutable: true, ops: ['set'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const now = await put(s, 'k', 1)
        await expectCode(put(s, 'k', 2, { baseVersions: bump(now, 3) }), 'invalid', 'a write based on a future version')
        const r = await s.fetch(keys('k'))
        expect(r.results.get('k')).toBe(1)
        expect(r.versions).toEqual(now)
      })
    },
  },
  {
    name: 'exactly once: the same {clientId, seq} applies once and returns its original version',
    needs: { mutable: true, ops: ['text', 'set'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const v0 = await versionsOf(s)
        const once = { clientId: 'client-a', seq: 1 }
        const v1 = await s.mutate(txnOf({ t: text(['x']) }), once)
        expect(ver(v1)).toBe(ver(v0) + 1)
        const again = await s.mutate(txnOf({ t: text(['x']) }), once)
        expect(again).toEqual(v1)
        let r = await s.fetch(keys('t'))
        expect(r.results.get('t')).toBe('x')
        expect(r.versions).toEqual(v1)
        // Re-sent after other writes: still its original version, still not applied.
        await put(s, 'other', 1)
        const later = await s.mutate(txnOf({ t: text(['x']) }), once)
        expect(later).toEqual(v1)
        r = await s.fetch(keys('t'))
        expect(r.results.get('t')).toBe('x')
        expect(ver(r.versions)).toBe(ver(v1) + 1)
        // Sent twice at once: applied once, both get the same version.
        const [p, q] = await Promise.all([
          s.mutate(txnOf({ t: text(['y']) }), { clientId: 'client-a', seq: 2 }),
          s.mutate(txnOf({ t: text(['y']) }), { clientId: 'client-a', seq: 2 }),
        ])
        expect(p).toEqual(q)
        r = await s.fetch(keys('t'))
        expect(r.results.get('t')).toBe('yx')
        expect(ver(r.versions)).toBe(ver(v1) + 2)
      })
    },
  },
  {
    name: 'exactly once: new seqs and other clients each apply',
    needs: { mutable: true, ops: ['text'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const v0 = ver(await versionsOf(s))
        const a1 = await s.mutate(txnOf({ t: text(['a']) }), { clientId: 'a', seq: 1 })
        const a2 = await s.mutate(txnOf({ t: text(['b']) }), { clientId: 'a', seq: 2 })
        const b1 = await s.mutate(txnOf({ t: text(['c']) }), { clientId: 'b', seq: 1 })
        expect([a1, a2, b1].map(ver)).toEqual([v0 + 1, v0 + 2, v0 + 3])
        expect(await valueOf(s, 't')).toBe('cba')
        expect(await s.mutate(txnOf({ t: text(['z']) }), { clientId: 'b', seq: 1 })).toEqual(b1)
        expect(await s.mutate(txnOf({ t: text(['z']) }), { clientId: 'a', seq: 1 })).toEqual(a1)
        expect(await valueOf(s, 't')).toBe('cba')
      })
    },
  },
]
