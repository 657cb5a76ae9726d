// Message schemas: well-formed messages of both directions parse; wrong ones become `protocol`
// errors that keep the request id when it is readable; wire forms convert to core types and back.
import { describe, expect, test } from 'vitest'
import { StatecraftError, checkValue, isJson, type Update, type Value } from '@statecraft/core'
import {
  CLIENT_MESSAGE_TYPES, decodeClientFrame, decodeServerFrame, encode, fetchedFromWire, fetchedToWire, txnFromWire,
  txnToWire, updateFromWire, updateToWire, type ClientMessage, type ServerMessage,
} from '@statecraft/protocol'

const good: ClientMessage[] = [
  { type: 'hello', protocol: 1, token: 't', encoding: 'json', capabilities: [] },
  { type: 'hello', protocol: 1 },
  { type: 'fetch', id: 0, query: { kind: 'keys', keys: ['a'] }, atVersion: { s: 1 } },
  { type: 'fetch', id: 1, query: { kind: 'range', prefix: 'a/', limit: 3, reverse: true } },
  { type: 'fetch', id: 2, query: { kind: 'native', backend: 'sql', query: { q: 'select' } } },
  { type: 'getOps', id: 3, query: { kind: 'range' }, from: { s: 0 }, to: { s: 4 }, limit: 10 },
  { type: 'mutate', id: 4, txn: [['a', { type: 'set', value: new Uint8Array([1]) }], ['b', { type: 'del' }], ['c', { type: 'text', op: ['x'] }]], clientId: 'c', seq: 1, meta: { why: 'test' } },
  { type: 'subscribe', id: 5, query: { kind: 'keys', keys: [] }, fromVersion: { s: 2 } },
  { type: 'unsubscribe', id: 5 },
  { type: 'ping', nonce: 3 },
  { type: 'pong' },
  { type: 'presence-join', id: 6, room: 'docs/1', state: { x: 1, name: 'ann' } },
  { type: 'presence-join', id: 7, room: 'docs/1' },
  { type: 'presence-set', room: 'docs/1', state: { x: 2 } },
  { type: 'presence-set', room: 'docs/1', state: null },
  { type: 'presence-leave', room: 'docs/1' },
]

describe.each(['json', 'msgpack'] as const)('client messages in %s', enc => {
  test.each(good.map(m => [m.type, m]))('%s parses', (_t, m) => {
    const p = decodeClientFrame(encode(m, enc))
    expect(p).toMatchObject({ ok: true, encoding: enc })
    if (p.ok) expect(p.msg).toEqual(m)
  })
})

test('every client message type has a good example', () => {
  expect(new Set(good.map(m => m.type))).toEqual(new Set(CLIENT_MESSAGE_TYPES))
})

const bad: [string, unknown, number | undefined][] = [
  ['not an object', 42, undefined],
  ['no type', { id: 1 }, 1],
  ['unknown type', { type: 'drop', id: 1 }, 1],
  ['negative id', { type: 'fetch', id: -1, query: { kind: 'keys', keys: [] } }, undefined],
  ['float id', { type: 'fetch', id: 1.5, query: { kind: 'keys', keys: [] } }, undefined],
  ['keys not strings', { type: 'fetch', id: 2, query: { kind: 'keys', keys: [1] } }, 2],
  ['unknown query kind', { type: 'fetch', id: 3, query: { kind: 'sql' } }, 3],
  ['limit negative', { type: 'fetch', id: 4, query: { kind: 'range', limit: -1 } }, 4],
  ['versions not ints', { type: 'fetch', id: 5, query: { kind: 'keys', keys: [] }, atVersion: { s: 'x' } }, 5],
  ['txn not pairs', { type: 'mutate', id: 6, txn: { a: { type: 'del' } } }, 6],
  ['set without value', { type: 'mutate', id: 7, txn: [['a', { type: 'set' }]] }, 7],
  ['OT op not JSON', { type: 'mutate', id: 8, txn: [['a', { type: 'text', op: new Uint8Array(1) }]] }, 8],
  ['meta not an object', { type: 'mutate', id: 9, txn: [], meta: [1] }, 9],
  ['hello without version', { type: 'hello' }, undefined],
  ['presence-join without room', { type: 'presence-join', id: 11 }, 11],
  ['presence-join with an empty room', { type: 'presence-join', id: 12, room: '' }, 12],
  ['presence-join with a long room', { type: 'presence-join', id: 13, room: 'r'.repeat(1025) }, 13],
  ['presence-set with binary state', { type: 'presence-set', room: 'r', state: new Uint8Array(2) }, undefined],
  ['presence-set without state', { type: 'presence-set', room: 'r' }, undefined],
  ['presence-leave with a number room', { type: 'presence-leave', room: 7 }, undefined],
  ['explicit null for an optional field', { type: 'fetch', id: 10, query: { kind: 'keys', keys: [] }, atVersion: null }, 10],
]

test.each(bad)('%s is a protocol error', (_name, raw, id) => {
  for (const enc of ['json', 'msgpack'] as const) {
    const p = decodeClientFrame(encode(raw as object, enc))
    expect(p.ok).toBe(false)
    if (p.ok) continue
    expect(p.error).toBeInstanceOf(StatecraftError)
    expect(p.error.code).toBe('protocol')
    expect(p.id).toBe(id)
  }
})

test('a value that is not JSON (NaN, a Date from msgpack) is refused', () => {
  const p = decodeClientFrame(encode({ type: 'mutate', id: 1, txn: [['a', { type: 'set', value: { n: NaN } }]] }, 'msgpack'))
  expect(p.ok).toBe(false)
  const d = decodeClientFrame(encode({ type: 'mutate', id: 1, txn: [['a', { type: 'set', value: new Date(0) }]] }, 'msgpack'))
  expect(d.ok).toBe(false)
})

test('the wire takes exactly the nesting core takes: 1000 levels of arrays and objects, not 1001', () => {
  const nest = (n: number, inner: unknown): unknown => {
    for (let i = 0; i < n; i++) inner = [inner]
    return inner
  }
  for (const [value, ok] of [[nest(999, []), true], [nest(999, { a: 1 }), true], [nest(1000, 1), true], [nest(1000, []), false], [nest(1000, {}), false]] as const) {
    expect(isJson(value)).toBe(ok)
    if (ok) expect(() => checkValue(value)).not.toThrow()
    else expect(() => checkValue(value)).toThrow(StatecraftError)
    for (const enc of ['json', 'msgpack'] as const) {
      const p = decodeClientFrame(encode({ type: 'mutate', id: 1, txn: [['a', { type: 'set', value }]] }, enc))
      expect(p.ok).toBe(ok)
    }
  }
})

test('server messages parse, and wire forms convert back to core types', () => {
  const u: Update = {
    replace: new Map<string, Value>([['a', 1], ['b', new Uint8Array([9])]]),
    txns: [{ versions: { s: 2 }, txn: new Map([['a', { type: 'set', value: 2 }]]), meta: { m: 1 } }],
    leave: ['c'],
    enter: new Map([['d', 'x']]),
    versions: { s: 2 },
    caughtUp: true,
  }
  const msgs: ServerMessage[] = [
    {
      type: 'welcome', protocol: 1, encoding: 'msgpack', connectionId: 'c1',
      info: { uid: 'u', sources: ['u'], capabilities: { queries: ['keys'], opTypes: ['set'], mutable: true, history: false } },
      limits: { maxFrameBytes: 1, maxSubscriptions: 2, maxInFlight: 3 }, heartbeatMs: 10, capabilities: [],
    },
    fetchedToWire(1, { results: new Map([['a', 1]]), versions: { s: 1 }, more: false }),
    { type: 'ops', id: 2, txns: [] },
    { type: 'mutated', id: 3, versions: { s: 3 } },
    updateToWire(4, u),
    { type: 'unsubscribed', id: 4 },
    { type: 'error', id: 5, error: { code: 'conflict', message: 'no', details: { key: 'a' } } },
    { type: 'error', error: { code: 'protocol', message: 'bad frame' } },
    { type: 'ping' },
    { type: 'pong', nonce: 1 },
    { type: 'presence', id: 6, room: 'r', peer: 'p1', peers: [{ peer: 'p2', state: { x: 1 } }] },
    { type: 'presence-update', room: 'r', peer: 'p2', state: { x: 2 } },
    { type: 'presence-update', room: 'r', peer: 'p2', state: null },
    {
      type: 'welcome', protocol: 1, encoding: 'json', connectionId: 'c2',
      info: { uid: 'u', sources: ['u'], capabilities: { queries: ['keys'], opTypes: ['set'], mutable: true, history: false } },
      limits: { maxFrameBytes: 1, maxSubscriptions: 2, maxInFlight: 3, maxPresenceRooms: 4, maxPresenceStateBytes: 5, presenceIntervalMs: 6 },
      heartbeatMs: 10, capabilities: ['presence'],
    },
  ]
  for (const enc of ['json', 'msgpack'] as const) {
    for (const m of msgs) {
      const p = decodeServerFrame(encode(m, enc))
      expect(p.ok, m.type).toBe(true)
      if (p.ok) expect(p.msg).toEqual(m)
    }
    const p = decodeServerFrame(encode(updateToWire(4, u), enc))
    if (!p.ok || p.msg.type !== 'update') throw new Error('update did not parse')
    expect(updateFromWire(p.msg)).toEqual(u)
  }
  expect(fetchedFromWire(fetchedToWire(1, { results: new Map([['a', 1]]), versions: { s: 1 } }))).toEqual({ results: new Map([['a', 1]]), versions: { s: 1 } })
  const txn = new Map([['k', { type: 'del' as const }]])
  expect(txnFromWire(txnToWire(txn))).toEqual(txn)
})
