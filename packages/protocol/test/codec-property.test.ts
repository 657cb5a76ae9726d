// Property: any storable value (JSON with any strings and keys, or binary) survives encode → decode
// in both encodings, inside any message shape.
import { describe, expect, test } from 'vitest'
import fc from 'fast-check'
import { codecs, decode, decodeClientFrame } from '@statecraft/protocol'

/** Any UTF-16 code unit, lone surrogates included; `$` and quotes often. */
const unit = fc.oneof(fc.integer({ min: 0, max: 0xffff }).map(c => String.fromCharCode(c)), fc.constantFrom('$', '$$', 'b', '"', '\\'))
const str = fc.string({ unit, maxLength: 12 })
const key = fc.oneof(str, fc.constantFrom('$b', '$$b', '$', '$x', '__proto__', 'constructor', ''))

const json = fc.letrec(tie => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    str,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 3 }),
  ),
})).value

const value = fc.oneof(json, fc.uint8Array({ maxLength: 40 }))

/** What JSON and MessagePack both do to a number: -0 reads back as 0. */
function normalized(v: unknown): unknown {
  if (Object.is(v, -0)) return 0
  if (Array.isArray(v)) return v.map(normalized)
  if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: normalized(x), enumerable: true, writable: true, configurable: true })
    return out
  }
  return v
}

describe.each(['json', 'msgpack'] as const)('%s', enc => {
  test('values round-trip exactly', () => {
    fc.assert(
      fc.property(value, v => {
        const msg = { type: 'mutate', id: 1, txn: [['k', { type: 'set', value: v }]] }
        const p = decodeClientFrame(codecs[enc].encode(msg))
        expect(p.ok).toBe(true)
        if (p.ok) expect(p.msg).toEqual(normalized(msg))
      }),
      { numRuns: 500 },
    )
  })

  test('arbitrary structures round-trip through the codec', () => {
    fc.assert(
      fc.property(fc.dictionary(key, value, { maxKeys: 4 }), o => {
        expect(decode(codecs[enc].encode({ o }))).toEqual(normalized({ o }))
      }),
      { numRuns: 300 },
    )
  })
})
