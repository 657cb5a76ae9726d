// Update frames built from a body encoded once: they decode to exactly the message
// `encode(updateToWire(id, u))` makes, for every id size and both encodings, and validate.
import { describe, expect, test } from 'vitest'
import type { Key, Update, Value } from '@statecraft/core'
import { decode, decodeServerFrame, encode, encodeUpdateBody, updateFrame, updateToWire } from '@statecraft/protocol'

const updates: [string, Update][] = [
  ['a txn', { txns: [{ versions: { s: 7 }, txn: new Map([['k', { type: 'set', value: { i: 1, t: 2.5 } }]]), meta: { c: 'x', s: 1 } }], versions: { s: 7 }, caughtUp: true }],
  ['a replace, leave and enter', {
    replace: new Map<Key, Value>([['a', 1], ['b', new Uint8Array([1, 2, 0xef, 0xbf, 0xbd])]]), txns: [], leave: ['c'],
    enter: new Map<Key, Value>([['d', { $b: 'lookalike' }]]), versions: { s: 1, t: 2 }, caughtUp: false,
  }],
  ['a lone surrogate (MessagePack falls back to JSON)', { txns: [{ versions: { s: 2 }, txn: new Map([['k', { type: 'text', op: ['a\uD800'] }]]) }], versions: { s: 2 }, caughtUp: true }],
  ['a __proto__ key', { txns: [{ versions: { s: 3 }, txn: new Map([['k', { type: 'set', value: JSON.parse('{"__proto__": 1}') as number }]]) }], versions: { s: 3 }, caughtUp: true }],
]
const ids = [0, 1, 127, 128, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1]

describe.each(['msgpack', 'json'] as const)('%s', enc => {
  test.each(updates)('%s', (_name, u) => {
    const body = encodeUpdateBody(u, enc)
    for (const id of ids) {
      const frame = updateFrame(id, body)
      const direct = encode(updateToWire(id, u), enc)
      expect(typeof frame).toBe(typeof direct)
      expect(decode(frame)).toEqual(decode(direct))
      const parsed = decodeServerFrame(frame)
      expect(parsed.ok && parsed.msg).toEqual(decode(direct))
    }
  })
})
