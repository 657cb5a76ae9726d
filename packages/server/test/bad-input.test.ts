// Every frame from a client is untrusted. Each kind of bad frame gets a `protocol` (or
// `too-large`) error, is logged once, changes nothing, and leaves the connection working.
import { afterEach, beforeEach, describe, expect, test } from 'vitest'
import { memoryStore, prefix, type Store } from '@statecraft/core'
import { createServer, type LogEvent, type StatecraftServer } from '@statecraft/server'
import { RawClient } from './raw-client.ts'

let store: Store
let server: StatecraftServer
let logs: LogEvent[]

beforeEach(async () => {
  store = memoryStore({ uid: 's' })
  await store.mutate(new Map([['a', { type: 'set', value: 1 }]]))
  logs = []
  server = await createServer({ store, log: e => logs.push(e), limits: { maxFrameBytes: 4096 } })
})

afterEach(async () => {
  await server.close()
  await store.close()
})

const snapshot = async (): Promise<unknown> => {
  const r = await store.fetch(prefix(''))
  return [[...r.results], r.versions]
}

type Case = [name: string, send: (c: RawClient) => void, expected: { code: string; id?: number }]

const helloed: Case[] = [
  ['malformed JSON', c => c.sendFrame('{"type": "fetch", "id": 1,'), { code: 'protocol' }],
  ['malformed MessagePack', c => c.sendFrame(new Uint8Array([0x92, 0x01])), { code: 'protocol' }],
  ['an empty frame', c => c.sendFrame(''), { code: 'protocol' }],
  ['a JSON array', c => c.sendFrame('[1,2]'), { code: 'protocol' }],
  ['an unknown message type', c => c.send({ type: 'drop-table', id: 7 }), { code: 'protocol', id: 7 }],
  ['a wrong field type', c => c.send({ type: 'fetch', id: 8, query: { kind: 'keys', keys: 'a' } }), { code: 'protocol', id: 8 }],
  ['a missing field', c => c.send({ type: 'mutate', id: 9 }), { code: 'protocol', id: 9 }],
  ['an id that is not an integer', c => c.send({ type: 'fetch', id: 'x', query: { kind: 'keys', keys: [] } }), { code: 'protocol' }],
  ['a value that is not JSON', c => c.send({ type: 'mutate', id: 10, txn: [['a', { type: 'set', value: NaN }]] }), { code: 'protocol', id: 10 }],
  ['a huge frame', c => c.sendFrame('x'.repeat(5000)), { code: 'too-large' }],
  ['a huge binary frame', c => c.sendFrame(new Uint8Array(5000)), { code: 'too-large' }],
  ['an unsubscribe of an unknown id', c => c.send({ type: 'unsubscribe', id: 99 }), { code: 'protocol', id: 99 }],
  ['a second hello', c => c.send({ type: 'hello', protocol: 1 }), { code: 'protocol' }],
]

describe.each(['local', 'ws'] as const)('over %s', transport => {
  test.each(helloed)('%s', async (_name, send, expected) => {
    const c = await RawClient.open(server, transport)
    await c.hello()
    const before = await snapshot()
    send(c)
    const err = await c.next(m => m.type === 'error')
    expect(err).toMatchObject({ type: 'error', error: { code: expected.code } })
    expect(err.type === 'error' ? err.id : undefined).toBe(expected.id)
    expect(logs).toHaveLength(1)
    expect(logs[0]).toMatchObject({ level: 'warn', code: expected.code })
    await c.fetchOk(1000)
    expect(await snapshot()).toEqual(before)
    expect(c.received).toEqual([])
    c.port.close()
  })

  test('requests before hello are refused, then hello works', async () => {
    const c = await RawClient.open(server, transport)
    c.send({ type: 'mutate', id: 1, txn: [['b', { type: 'set', value: 2 }]] })
    c.send({ type: 'subscribe', id: 2, query: { kind: 'range' } })
    expect(await c.next()).toMatchObject({ type: 'error', id: 1, error: { code: 'protocol' } })
    expect(await c.next()).toMatchObject({ type: 'error', id: 2, error: { code: 'protocol' } })
    expect(logs).toHaveLength(2)
    await c.hello()
    await c.fetchOk(3)
    expect((await store.fetch(prefix(''))).versions).toEqual({ s: 1 })
    c.port.close()
  })

  test('an id in use is refused without naming it; the open request goes on', async () => {
    const c = await RawClient.open(server, transport)
    await c.hello()
    c.send({ type: 'subscribe', id: 5, query: { kind: 'range' } })
    expect(await c.next()).toMatchObject({ type: 'update', id: 5 })
    c.send({ type: 'fetch', id: 5, query: { kind: 'range' } })
    c.send({ type: 'subscribe', id: 5, query: { kind: 'range' } })
    const errs = [await c.next(), await c.next()]
    for (const e of errs) {
      expect(e).toMatchObject({ type: 'error', error: { code: 'protocol' } })
      expect('id' in e ? e.id : undefined).toBeUndefined()
    }
    expect(logs).toHaveLength(2)
    await store.mutate(new Map([['b', { type: 'set', value: 2 }]]))
    expect(await c.next()).toMatchObject({ type: 'update', id: 5, versions: { s: 2 } })
    c.send({ type: 'unsubscribe', id: 5 })
    expect(await c.next()).toMatchObject({ type: 'unsubscribed', id: 5 })
    // Free again once closed.
    await c.fetchOk(5)
    c.port.close()
  })

  test('a hello of another protocol version is refused and closed', async () => {
    const c = await RawClient.open(server, transport)
    c.send({ type: 'hello', protocol: 99 })
    expect(await c.next()).toMatchObject({ type: 'error', error: { code: 'unsupported' } })
    expect(await c.closed()).toBe(4000)
    expect(logs).toHaveLength(1)
  })

  test('a bad frame on one connection does not touch another', async () => {
    const good = await RawClient.open(server, transport)
    await good.hello()
    good.send({ type: 'subscribe', id: 1, query: { kind: 'range' } })
    await good.next(m => m.type === 'update')
    const bad = await RawClient.open(server, transport)
    await bad.hello()
    for (let i = 0; i < 50; i++) bad.sendFrame(i % 2 === 0 ? '{oops' : new Uint8Array([0xc1, i]))
    for (let i = 0; i < 50; i++) await bad.next(m => m.type === 'error')
    expect(logs).toHaveLength(50)
    await store.mutate(new Map([['c', { type: 'set', value: 3 }]]))
    expect(await good.next()).toMatchObject({ type: 'update', id: 1 })
    await good.fetchOk(2)
    await bad.fetchOk(3)
    good.port.close()
    bad.port.close()
  })
})
