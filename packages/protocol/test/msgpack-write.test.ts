// The lean MessagePack writer writes exactly msgpackr's bytes (the codec's options), or leaves the
// message to msgpackr (BAIL).
import { expect, test } from 'vitest'
import fc from 'fast-check'
import { Packr } from 'msgpackr'
import { BAIL } from '../src/msgpack-read.ts'
import { writeMsgpack } from '../src/msgpack-write.ts'
import { decode, msgpackCodec } from '@statecraft/protocol'

const packr = new Packr({ useRecords: false, mapsAsObjects: true, moreTypes: false, structuredClone: false, int64AsType: 'number' })
const msgpackrBytes = (v: unknown): Uint8Array => Uint8Array.from(packr.pack(v))

function agrees(v: unknown): boolean {
  const mine = writeMsgpack(v)
  if (mine === BAIL) return false
  expect(Array.from(mine)).toEqual(Array.from(msgpackrBytes(v)))
  return true
}

const unit = fc.oneof(fc.integer({ min: 0, max: 0xffff }).map(c => String.fromCharCode(c)), fc.constantFrom('a', '$', 'é', '😀', '\uD800', '\uDC00'))
const str = fc.oneof(fc.string({ unit, maxLength: 12 }), fc.string({ unit, minLength: 20, maxLength: 100 }), fc.string({ maxLength: 400 }), fc.string({ unit: 'grapheme', maxLength: 120 }))
const key = fc.oneof(str, fc.constantFrom('__proto__', 'constructor', 'hasOwnProperty', '', '0', '12', 'type'))
const num = fc.oneof(
  fc.integer(), fc.double(), fc.integer({ min: -(2 ** 53) + 1, max: 2 ** 53 - 1 }),
  fc.constantFrom(0, -0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 31, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, NaN, Infinity, -Infinity),
)
const value = fc.letrec(tie => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    num,
    str,
    fc.uint8Array({ maxLength: 4 }),
    fc.constant(undefined),
    fc.array(tie('v'), { maxLength: 18 }),
    fc.dictionary(key, tie('v'), { maxKeys: 18 }),
  ),
})).v

test('writes msgpackr’s bytes for any message, or leaves it to msgpackr', () => {
  let written = 0
  fc.assert(
    fc.property(value, v => {
      if (agrees(v)) written++
      if (agrees({ type: 'mutate', id: 7, txn: [['k', { type: 'set', value: v }]] })) written++
    }),
    { numRuns: 3000 },
  )
  expect(written).toBeGreaterThan(1000)
})

test('long strings and big containers', () => {
  for (const n of [31, 32, 63, 64, 85, 86, 255, 256, 300, 21_845, 21_846, 65_535, 65_536, 70_000]) {
    expect(agrees('x'.repeat(n))).toBe(true)
    expect(agrees('é'.repeat(n))).toBe(true)
    expect(agrees('😀'.repeat(n))).toBe(true)
    expect(agrees('a\uD800'.repeat(n))).toBe(true)
  }
  expect(agrees(Array.from({ length: 70_000 }, (_, i) => i))).toBe(true)
  expect(agrees(Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, i])))).toBe(true)
  // 2 MB: the scratch buffer grows, and shrinks back after.
  expect(agrees({ big: 'y'.repeat(2_000_000) })).toBe(true)
  expect(agrees({ small: 1 })).toBe(true)
})

test('what it leaves to msgpackr', () => {
  for (const v of [undefined, new Uint8Array(2), { a: undefined }, [1, undefined], new Date(0), new Map(), Object.create(null), 10n, () => 1, Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [`k${i}`, 1]))]) {
    expect(writeMsgpack(v)).toBe(BAIL)
  }
  let deep: unknown = 1
  for (let i = 0; i < 200_000; i++) deep = [deep]
  expect(writeMsgpack(deep)).toBe(BAIL)
})

test('the codec still sends a lone surrogate or a __proto__ key as JSON', () => {
  expect(typeof msgpackCodec.encode({ k: 'a\uD800' })).toBe('string')
  expect(decode(msgpackCodec.encode({ v: { ['__proto__']: 1 } }))).toEqual(JSON.parse('{"v":{"__proto__":1}}'))
  expect(typeof msgpackCodec.encode({ k: '\uFFFD' })).not.toBe('string')
})
