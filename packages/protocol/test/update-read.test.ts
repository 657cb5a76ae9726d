// The one-pass update reader accepts only what the hand-written check accepts, and gives the same
// message; the frames a server sends take it.
import { expect, test } from 'vitest'
import fc from 'fast-check'
import { readUpdateMessage } from '../src/msgpack-read.ts'
import { fastServerMessage } from '../src/fast-check.ts'
import { decode, decodeServerFrame, encode, encodeUpdateBody, updateFrame, updateToWire } from '@statecraft/protocol'

const general = (bytes: Uint8Array): unknown => fastServerMessage(decode(bytes))

const str = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('k', 'f7a17365-4de1-43a9-939b-9fe4f9ac5910', '__proto__', 'type', 'é😀'))
const json = fc.letrec(tie => ({
  v: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null), fc.boolean(), fc.integer(), fc.double(), str,
    fc.array(tie('v'), { maxLength: 3 }),
    fc.dictionary(str, tie('v'), { maxKeys: 3 }),
  ),
})).v
const anything = fc.oneof(json, fc.uint8Array({ maxLength: 3 }), fc.constant(-1), fc.constant(1.5))
const id = fc.oneof(fc.nat(), fc.constantFrom(0, 127, 128, 65536, 2 ** 32, 2 ** 53 - 1))
const versions = fc.oneof(fc.dictionary(str, id, { maxKeys: 2 }), fc.dictionary(str, anything, { maxKeys: 2 }))
const op = fc.oneof(
  fc.record({ type: fc.constant('set'), value: fc.oneof(json, fc.uint8Array({ maxLength: 3 })) }),
  fc.record({ type: fc.constant('del') }),
  fc.record({ type: fc.constantFrom('json1', 'text', 'x'), op: json }),
  fc.record({ type: fc.constantFrom('set', 'del', 'json1'), value: json, op: json }, { requiredKeys: ['type'] }),
  fc.record({ op: json, type: fc.constant('json1') }),
  anything,
)
const txn = fc.oneof(fc.array(fc.tuple(str, op), { maxLength: 3 }), fc.array(fc.oneof(fc.tuple(anything, op), fc.array(str, { maxLength: 3 })), { maxLength: 2 }))
const record = fc.oneof(
  fc.record({ versions, txn, meta: fc.oneof(fc.dictionary(str, json, { maxKeys: 2 }), anything) }, { requiredKeys: ['versions', 'txn'] }),
  fc.record({ versions, txn, extra: json }, { requiredKeys: [] }),
)
const entries = fc.oneof(fc.array(fc.tuple(str, fc.oneof(json, fc.uint8Array({ maxLength: 2 }))), { maxLength: 3 }), fc.array(anything, { maxLength: 2 }))
const update = fc.record(
  {
    type: fc.oneof(fc.constant('update'), fc.constant('mutated'), anything),
    id: fc.oneof(id, anything),
    txns: fc.oneof(fc.array(record, { maxLength: 3 }), anything),
    versions,
    caughtUp: fc.oneof(fc.boolean(), anything),
    replace: entries,
    leave: fc.oneof(fc.array(str, { maxLength: 3 }), anything),
    enter: entries,
    mutated: fc.oneof(fc.array(fc.record({ id, versions }), { maxLength: 2 }), fc.array(fc.record({ id: anything, versions, x: json }, { requiredKeys: [] }), { maxLength: 2 }), anything),
    other: json,
  },
  { requiredKeys: [] },
)

const goodVersions = fc.dictionary(str, id, { maxKeys: 2 })
const goodOp = fc.oneof(
  fc.record({ type: fc.constant('set'), value: json }),
  fc.record({ type: fc.constant('del') }),
  fc.record({ type: fc.constantFrom('json1', 'text'), op: json }),
)
const goodRecord = fc.record({ versions: goodVersions, txn: fc.array(fc.tuple(str, goodOp), { maxLength: 3 }), meta: fc.dictionary(str, json, { maxKeys: 2 }) }, { requiredKeys: ['versions', 'txn'] })
const goodEntries = fc.array(fc.tuple(str, json), { maxLength: 3 })
const goodUpdate = fc.record(
  {
    type: fc.constant('update'),
    id,
    txns: fc.array(goodRecord, { maxLength: 3 }),
    versions: goodVersions,
    caughtUp: fc.boolean(),
    replace: goodEntries,
    leave: fc.array(str, { maxLength: 3 }),
    enter: goodEntries,
    mutated: fc.array(fc.record({ id, versions: goodVersions }), { maxLength: 2 }),
  },
  { requiredKeys: ['type', 'id', 'txns', 'versions', 'caughtUp'] },
)

test('accepts only what the check accepts, and gives the same message', () => {
  let read = 0
  fc.assert(
    fc.property(fc.oneof(goodUpdate, update), fc.boolean(), (m, typeFirst) => {
      const msg: Record<string, unknown> = typeFirst ? { type: m.type, id: m.id, ...m } : m
      const frame = encode(msg)
      if (typeof frame === 'string') return
      const mine = readUpdateMessage(frame)
      if (mine === undefined) return
      read++
      const theirs = general(frame)
      expect(theirs).toBeDefined()
      expect(mine).toEqual(theirs)
    }),
    { numRuns: 4000 },
  )
  expect(read).toBeGreaterThan(300)
})

test('the frames a server sends are read in one pass, with or without replies riding in them', () => {
  const u = {
    txns: [
      { versions: { s: 4 }, txn: new Map<string, never>([['k', { type: 'set', value: { i: 1, t: 1.5 } } as never], ['j', { type: 'del' } as never]]), meta: { c: 'client', s: 2 } },
      { versions: { s: 5 }, txn: new Map<string, never>([['t', { type: 'text', op: [3, 'hi'] } as never]]) },
    ],
    versions: { s: 5 },
    caughtUp: true,
    replace: new Map([['k', 'v']]),
    leave: ['x'],
    enter: new Map([['y', [1, 2]]]),
  }
  const frames = [
    encode(updateToWire(7, u)),
    updateFrame(300, encodeUpdateBody(u, 'msgpack')),
    encode({ ...updateToWire(9, u), mutated: [{ id: 3, versions: { s: 5 } }] }),
  ]
  for (const f of frames) {
    expect(typeof f).not.toBe('string')
    const mine = readUpdateMessage(f as Uint8Array)
    expect(mine).toBeDefined()
    expect(mine).toEqual(general(f as Uint8Array))
    expect(decodeServerFrame(f)).toEqual({ ok: true, msg: mine, encoding: 'msgpack' })
  }
  // Binary values and other messages take the general path.
  expect(readUpdateMessage(encode(updateToWire(1, { ...u, replace: new Map([['b', new Uint8Array([1])]]) })) as Uint8Array)).toBeUndefined()
  expect(readUpdateMessage(encode({ type: 'mutated', id: 1, versions: { s: 1 } }) as Uint8Array)).toBeUndefined()
})
