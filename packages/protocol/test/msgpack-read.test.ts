// The lean MessagePack reader gives exactly what msgpackr gives (the codec's options), or leaves the
// frame to msgpackr (BAIL); its strings are never slices of a frame-sized string.
import { expect, test } from 'vitest'
import fc from 'fast-check'
import { Packr, Unpackr } from 'msgpackr'
import { BAIL, readMsgpack } from '../src/msgpack-read.ts'
import { msgpackCodec } from '@statecraft/protocol'

const options = { useRecords: false, mapsAsObjects: true, moreTypes: false, structuredClone: false, int64AsType: 'number' } as const
const packr = new Packr(options)
const unpackr = new Unpackr(options)
const bytesOf = (v: unknown): Uint8Array => {
  const b = packr.pack(v)
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength)
}

/** Same values, same key order, same types (Object.is on leaves). */
function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => same(x, b[i]))
  if (Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false
  const ka = Object.keys(a)
  const kb = Object.keys(b)
  return ka.length === kb.length && ka.every((k, i) => k === kb[i] && same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]))
}

function agrees(bytes: Uint8Array): void {
  const mine = readMsgpack(bytes)
  if (mine === BAIL) return
  expect(same(mine, unpackr.unpack(bytes)), JSON.stringify(mine)).toBe(true)
}

const unit = fc.oneof(fc.integer({ min: 0, max: 0xffff }).map(c => String.fromCharCode(c)), fc.constantFrom('a', '$', 'é', '😀', '_'))
const str = fc.oneof(fc.string({ unit, maxLength: 12 }), fc.string({ maxLength: 80 }), fc.string({ unit: 'grapheme', maxLength: 300 }))
const key = fc.oneof(str, fc.constantFrom('__proto__', 'constructor', '', '0', '12', 'type', 'f7a17365-4de1-43a9-939b-9fe4f9ac5910'))
const num = fc.oneof(fc.integer(), fc.double(), fc.constantFrom(0, -0, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, -32, -33, -128, -129, -32768, -32769, -(2 ** 31), -(2 ** 31) - 1, 2 ** 53 - 1, -(2 ** 53) + 1, NaN, Infinity, -Infinity))
const value = fc.letrec(tie => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    num,
    str,
    fc.uint8Array({ maxLength: 10 }),
    fc.array(tie('v'), { maxLength: 5 }),
    fc.dictionary(key, tie('v'), { maxKeys: 5 }),
  ),
})).v

test('agrees with msgpackr on any value, or leaves it to msgpackr', () => {
  fc.assert(
    fc.property(value, v => {
      agrees(bytesOf(v))
      agrees(bytesOf({ type: 'update', id: 3, v }))
    }),
    { numRuns: 2000 },
  )
})

test('reads the common frames itself', () => {
  const msg = {
    type: 'update', id: 2,
    txns: [{ versions: { 'f7a17365-4de1-43a9-939b-9fe4f9ac5910': 2 }, txn: [['k', { type: 'set', value: { i: 5, t: 1267.856593, s: 'é😀', n: -3, big: 2 ** 40, neg: -(2 ** 40) } }]], meta: { c: 'b17d018f-6a25-4d7a-bc42-e4ed2b3d11aa', s: 2 } }],
    versions: { 'f7a17365-4de1-43a9-939b-9fe4f9ac5910': 2 }, caughtUp: true, long: 'x'.repeat(70_000), arr: Array.from({ length: 20 }, () => 1),
  }
  const out = readMsgpack(bytesOf(msg))
  expect(out).not.toBe(BAIL)
  expect(out).toEqual(msg)
  // Twice: keys now come from the cache.
  expect(readMsgpack(bytesOf(msg))).toEqual(msg)
})

test('binary, extensions, __proto__ keys, truncated and trailing bytes go to msgpackr', () => {
  expect(readMsgpack(bytesOf({ v: new Uint8Array([1, 2]) }))).toBe(BAIL)
  expect(readMsgpack(bytesOf({ d: new Date(0) }))).toBe(BAIL)
  expect(readMsgpack(Uint8Array.from([0x81, 0xa9, ...Array.from('__proto__', c => c.charCodeAt(0)), 0x01]))).toBe(BAIL)
  expect(readMsgpack(Uint8Array.from([0x81, 0x01, 0x02]))).toBe(BAIL) // a number key
  expect(readMsgpack(Uint8Array.from([0x92, 0x01]))).toBe(BAIL)
  expect(readMsgpack(Uint8Array.from([0x01, 0x02]))).toBe(BAIL)
  expect(readMsgpack(Uint8Array.from([0xc1]))).toBe(BAIL)
  expect(readMsgpack(Uint8Array.from([0xa2, 0xed, 0xa0]))).toBe(BAIL) // invalid UTF-8
  expect(readMsgpack(Uint8Array.from([0xdd, 0xff, 0xff, 0xff, 0xff]))).toBe(BAIL)
  // And the codec still reads them as before.
  expect(msgpackCodec.decode(bytesOf({ v: new Uint8Array([1, 2]) }))).toEqual({ v: new Uint8Array([1, 2]) })
  expect(msgpackCodec.decode(Uint8Array.from([0x81, 0xa9, ...Array.from('__proto__', c => c.charCodeAt(0)), 0x01]))).toEqual({ __proto_: 1 })
})

test('deep nesting does not throw', () => {
  let v: unknown = 1
  for (let i = 0; i < 100_000; i++) v = [v]
  const bytes = new Uint8Array(100_001).fill(0x91)
  bytes[100_000] = 0x01
  expect(() => readMsgpack(bytes)).not.toThrow()
})

test('keys cached from a Node Buffer frame are copies: reusing the buffer changes nothing', () => {
  const buf = Buffer.from(bytesOf({ reusedkey1: 1 }))
  expect(readMsgpack(buf)).toEqual({ reusedkey1: 1 })
  // The buffer is reused for other bytes (a key that differs only where the cache does not look).
  const other = bytesOf({ rexsedkey1: 2 })
  buf.set(other)
  expect(readMsgpack(bytesOf({ rexsedkey1: 2 }))).toEqual({ rexsedkey1: 2 })
  expect(readMsgpack(bytesOf({ reusedkey1: 3 }))).toEqual({ reusedkey1: 3 })
})
