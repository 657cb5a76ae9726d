// Conformance cases for values: JSON and binary round-trips, falsy values, isolation of values
// handed in and out, value validation, and key order.
import { expect } from 'vitest'
import { keys, range } from '@statecraft/core'
import type { Json, Value } from '@statecraft/core'
import { expectCode, put, set, txnOf, valueOf, versionsOf, withStore } from '../helpers.ts'
import type { StoreTestCase } from '../store-test-case.ts'

const allBytes = (): Uint8Array => Uint8Array.from({ length: 256 }, (_, i) => i)

/** Tries to change a value in place; a frozen value throws, which is fine. */
function tamper(fn: () => void): void {
  try {
    fn()
  } catch {
    // frozen: the store protected itself
  }
}

export const valueCases: StoreTestCase[] = [
  {
    name: 'falsy JSON values (null, false, 0, "", [], {}) are stored and present',
    needs: { mutable: true, ops: ['set'], queries: ['keys', 'range'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const vals: Record<string, Json> = { null: null, false: false, zero: 0, empty: '', list: [], obj: {} }
        await s.mutate(txnOf(Object.fromEntries(Object.entries(vals).map(([k, v]) => [k, set(v)]))))
        const r = await s.fetch(keys(...Object.keys(vals)))
        expect(r.results.size).toBe(6)
        for (const [k, v] of Object.entries(vals)) {
          expect(r.results.has(k), `${k} is missing`).toBe(true)
          expect(r.results.get(k)).toEqual(v)
        }
        expect(r.results.get('null')).toBeNull()
        const all = await s.fetch(range())
        expect(all.results.size).toBe(6)
      })
    },
  },
  {
    name: 'JSON values round-trip deeply (unicode, numbers, nesting, odd object keys)',
    needs: { mutable: true, ops: ['set'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const doc: Json = {
          s: 'héllo 😀 \u0000 "quoted" \\ \n\t',
          lone: '\uD800',
          n: [0, -1, 1.5, 1e300, -1e-300, 9007199254740991, -9007199254740991],
          b: [true, false, null],
          nested: { a: { b: { c: [[], {}, [[1]]] } } },
          '': 'empty key',
          'with space.and.dots': 1,
          '0': 'digit key',
        }
        const big = 'x'.repeat(10_000)
        await s.mutate(txnOf({ doc: set(doc), str: set('just a string'), num: set(-42.25), big: set(big), arr: set([0, 1, 255]) }))
        const r = await s.fetch(keys('doc', 'str', 'num', 'big', 'arr'))
        expect(r.results.get('doc')).toEqual(doc)
        expect(r.results.get('str')).toBe('just a string')
        expect(r.results.get('num')).toBe(-42.25)
        expect(r.results.get('big')).toBe(big)
        const arr = r.results.get('arr')
        expect(Array.isArray(arr), 'a JSON array of byte-sized numbers came back as something else').toBe(true)
        expect(arr).toEqual([0, 1, 255])
      })
    },
  },
  {
    name: 'binary values (all 256 byte values, empty, a view into a larger buffer) round-trip byte for byte',
    needs: { mutable: true, ops: ['set'], queries: ['keys', 'range'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const backing = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7 + 3) & 255)
        const view = new Uint8Array(backing.buffer, 100, 50)
        await s.mutate(txnOf({ all: set(allBytes()), empty: set(new Uint8Array(0)), view: set(view) }))
        for (const r of [await s.fetch(keys('all', 'empty', 'view')), await s.fetch(range())]) {
          const all = r.results.get('all')
          expect(all).toBeInstanceOf(Uint8Array)
          expect([...(all as Uint8Array)]).toEqual([...allBytes()])
          const empty = r.results.get('empty')
          expect(empty).toBeInstanceOf(Uint8Array)
          expect((empty as Uint8Array).length).toBe(0)
          const v = r.results.get('view')
          expect(v).toBeInstanceOf(Uint8Array)
          expect([...(v as Uint8Array)]).toEqual([...backing.subarray(100, 150)])
        }
      })
    },
  },
  {
    name: 'binary values are copies: mutating the one passed in or one returned does not change the store',
    needs: { mutable: true, ops: ['set'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const input = allBytes()
        await put(s, 'bin', input)
        input.fill(7)
        const first = (await valueOf(s, 'bin')) as Uint8Array
        expect([...first]).toEqual([...allBytes()])
        first.fill(9)
        first[0] = 200
        const second = (await valueOf(s, 'bin')) as Uint8Array
        expect([...second]).toEqual([...allBytes()])
        const ks = await s.fetch(keys('bin'))
        ;(ks.results.get('bin') as Uint8Array).fill(1)
        expect([...((await valueOf(s, 'bin')) as Uint8Array)]).toEqual([...allBytes()])
      })
    },
  },
  {
    name: 'returned JSON cannot be used to change the store',
    needs: { mutable: true, ops: ['set'], queries: ['keys', 'range'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const doc = { a: { b: [1, 2] }, s: 'x' }
        await put(s, 'j', { a: { b: [1, 2] }, s: 'x' })
        const got = (await valueOf(s, 'j')) as { a: { b: number[]; c?: number }; s: string }
        tamper(() => got.a.b.push(3))
        tamper(() => (got.s = 'changed'))
        tamper(() => (got.a.c = 1))
        tamper(() => ((got.a.b as number[])[0] = 100))
        const ranged = (await s.fetch(range())).results.get('j') as Record<string, unknown>
        tamper(() => delete ranged.a)
        tamper(() => (ranged.extra = true))
        expect(await valueOf(s, 'j')).toEqual(doc)
        expect((await s.fetch(range())).results.get('j')).toEqual(doc)
      })
    },
  },
  {
    name: 'JSON passed to mutate is not shared: changing it afterwards does not change the store',
    needs: { mutable: true, ops: ['set'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const input = { list: [1, 2], inner: { x: 1 } }
        await put(s, 'j', input)
        tamper(() => input.list.push(3))
        tamper(() => (input.inner.x = 2))
        expect(await valueOf(s, 'j')).toEqual({ list: [1, 2], inner: { x: 1 } })
      })
    },
  },
  {
    name: 'set value validation: undefined, NaN, Infinity, a Date, a function and other non-JSON values are invalid',
    needs: { mutable: true, ops: ['set'], queries: ['keys'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        const v0 = await versionsOf(s)
        class Thing {
          x = 1
        }
        const bad: [string, unknown][] = [
          ['undefined', undefined],
          ['NaN', NaN],
          ['Infinity', Infinity],
          ['-Infinity', -Infinity],
          ['a Date', new Date(0)],
          ['a function', () => 1],
          ['a Map', new Map([['a', 1]])],
          ['a Set', new Set([1])],
          ['a bigint', 10n],
          ['a symbol', Symbol('s')],
          ['a class instance', new Thing()],
          ['nested NaN', { a: [1, NaN] }],
          ['a nested Date', { when: new Date(0) }],
        ]
        for (const [what, v] of bad) {
          await expectCode(s.mutate(txnOf({ k: set(v as Value), other: set('ok') })), 'invalid', `set of ${what}`)
        }
        const r = await s.fetch(keys('k', 'other'))
        expect(r.results.size).toBe(0)
        expect(r.versions).toEqual(v0)
      })
    },
  },
  {
    name: 'keys are ordered by UTF-16 code unit',
    needs: { mutable: true, ops: ['set'], queries: ['keys', 'range'] },
    async run(makeStore) {
      await withStore(makeStore, async s => {
        // UTF-16 order, which differs from code point (and UTF-8 byte) order for the last three.
        const ordered = ['', 'B', 'a', 'a\u0000', 'ab', 'é', '\uD83D\uDE00', '\uE000', '\uFFFF']
        const shuffled = [ordered[5], ordered[0], ordered[8], ordered[2], ordered[6], ordered[1], ordered[4], ordered[7], ordered[3]] as string[]
        await s.mutate(new Map(shuffled.map((k, i) => [k, set(i)])))
        const fwd = await s.fetch(range())
        expect([...fwd.results.keys()]).toEqual(ordered)
        const rev = await s.fetch(range({ reverse: true }))
        expect([...rev.results.keys()]).toEqual([...ordered].reverse())
        const ks = await s.fetch(keys(...ordered))
        expect(ks.results.size).toBe(ordered.length)
        const mid = await s.fetch(range({ from: 'é', to: '\uFFFF' }))
        expect([...mid.results.keys()]).toEqual(['é', '\uD83D\uDE00', '\uE000'])
        const emoji = await s.fetch(range({ prefix: '\uD83D' }))
        expect([...emoji.results.keys()]).toEqual(['\uD83D\uDE00'])
      })
    },
  },
]
