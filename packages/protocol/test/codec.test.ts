// Frame codecs: every value a store holds survives both encodings byte for byte, and the JSON
// escaping of {"$b": …} lookalikes is exact.
import { describe, expect, test } from 'vitest'
import { codecOf, decode, decodeClientFrame, encode, jsonCodec, msgpackCodec, type Frame } from '@statecraft/protocol'

const awkward: unknown[] = [
  null, true, false, 0, -1, 1.5, 1e300, -(2 ** 53) + 1, 2 ** 53 - 1, '', 'plain', 'é😀\u0000\u2028',
  '\uD83D', 'a\uDE00b', [], {}, [[[]]], { a: { b: { c: [1, 'x', null] } } },
  { $b: 'AAEC' }, { $b: 5 }, { $$b: 'x' }, { $: 1 }, { $x: { $b: 'y' } }, { $b: 'x', other: 1 }, { '': '', __proto__x: 1 },
  { '\uD800': 'lone key' }, new Uint8Array(0), new Uint8Array([0, 1, 2, 255, 0xef, 0xbf, 0xbd]),
]

describe.each([jsonCodec, msgpackCodec])('$encoding codec', codec => {
  test.each(awkward.map(v => [v]))('round-trips %j', v => {
    const msg = { type: 'x', value: v, list: [v, { v }] }
    const frame = codec.encode(msg)
    expect(decode(frame)).toEqual(msg)
  })

  test('binary comes back as a plain Uint8Array with the same bytes', () => {
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 7) & 255)
    const out = decode(codec.encode({ v: bytes })) as { v: Uint8Array }
    expect(out.v.constructor).toBe(Uint8Array)
    expect(out.v).toEqual(bytes)
  })
})

test('a user object shaped like an escape is not read as binary', () => {
  const f = jsonCodec.encode({ v: { $b: 'AAEC' } })
  expect(f).toBe('{"v":{"$$b":"AAEC"}}')
  expect(decode(f)).toEqual({ v: { $b: 'AAEC' } })
  expect(decode('{"v":{"$b":"AAEC"}}')).toEqual({ v: new Uint8Array([0, 1, 2]) })
})

test('frame type picks the codec; msgpack frames with lone surrogates fall back to JSON text', () => {
  expect(codecOf('{}')).toBe(jsonCodec)
  expect(codecOf(new Uint8Array([0x80]))).toBe(msgpackCodec)
  expect(typeof encode({ k: 'ok' })).not.toBe('string')
  const f: Frame = encode({ k: 'a\uD800' })
  expect(typeof f).toBe('string')
  expect(decode(f)).toEqual({ k: 'a\uD800' })
  // A real U+FFFD stays in MessagePack.
  expect(typeof encode({ k: '\uFFFD' })).not.toBe('string')
})

test('malformed frames throw (callers turn that into a protocol error)', () => {
  for (const f of ['', '{', 'nul', '{"$b": 3}', '{"$b":"***"}'] as Frame[]) expect(() => decode(f), String(f)).toThrow()
  for (const f of [new Uint8Array([0x92, 0x01]), new Uint8Array([0xd7, 0x00]), new Uint8Array([0x01, 0x02])]) expect(() => decode(f)).toThrow()
  // 0xC1 ("never used") decodes to a marker object, which no schema accepts.
  expect(decodeClientFrame(new Uint8Array([0xc1]))).toMatchObject({ ok: false })
})
