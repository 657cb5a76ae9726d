// Updates pushed to many connections: the subscription hands them to the Agent synchronously and
// the shared part is encoded once per encoding; every connection still gets exactly its own
// message (its id, its encoding), in order, as `encode(updateToWire(id, u))` would make it.
import { afterEach, expect, test } from 'vitest'
import { keys, memoryStore, prefix, type Store } from '@statecraft/core'
import { levelStore } from '@statecraft/level'
import { createServer, type StatecraftServer } from '@statecraft/server'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { RawClient } from './raw-client.ts'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

async function serve(store: Store): Promise<StatecraftServer> {
  const server = await createServer({ store, log: () => {} })
  cleanup.push(async () => {
    await server.close()
    await store.close()
  })
  return server
}

test.each(['memory', 'level'] as const)('%s store: connections of both encodings get the same updates under their own ids, in order', async kind => {
  let store: Store
  if (kind === 'memory') store = memoryStore({ uid: 's' })
  else {
    const dir = mkdtempSync(join(tmpdir(), 'statecraft-fanout-'))
    cleanup.push(async () => rmSync(dir, { recursive: true, force: true }))
    store = levelStore(dir, { sync: false })
  }
  const server = await serve(store)
  const clients: RawClient[] = []
  for (const [i, enc] of (['msgpack', 'json', 'msgpack', 'json'] as const).entries()) {
    const c = await RawClient.open(server, i < 2 ? 'ws' : 'local', enc)
    await c.hello()
    // Different ids on each connection, one of them large; one subscription sees only part of a txn.
    c.send({ type: 'subscribe', id: 1000 + i * 70_000, query: { kind: 'keys', keys: ['a'] } })
    c.send({ type: 'subscribe', id: 3, query: { kind: 'range', prefix: '' } })
    await c.next(m => m.type === 'update' && m.id === 1000 + i * 70_000)
    await c.next(m => m.type === 'update' && m.id === 3)
    clients.push(c)
  }
  for (let n = 0; n < 5; n++) await store.mutate(new Map([['a', { type: 'set', value: { n, s: 'é\uD83D\uDE00' } }]]), { meta: { c: 'w', s: n } })
  await store.mutate(new Map([['a', { type: 'del' }], ['b', { type: 'set', value: new Uint8Array([1, 2]) }]]))
  for (const [i, c] of clients.entries()) {
    const id = 1000 + i * 70_000
    const mine = []
    for (let n = 0; n < 6; n++) mine.push(await c.next(m => m.type === 'update' && m.id === id))
    expect(mine.map(m => m.type === 'update' && m.txns[0]?.txn)).toEqual([
      ...[0, 1, 2, 3, 4].map(n => [['a', { type: 'set', value: { n, s: 'é\uD83D\uDE00' } }]]),
      [['a', { type: 'del' }]],
    ])
    expect(mine[0]).toMatchObject({ txns: [{ meta: { c: 'w', s: 0 } }], caughtUp: true })
    const all = []
    for (let n = 0; n < 6; n++) all.push(await c.next(m => m.type === 'update' && m.id === 3))
    expect(all[5]).toMatchObject({ txns: [{ txn: [['a', { type: 'del' }], ['b', { type: 'set', value: new Uint8Array([1, 2]) }]] }] })
  }
})

test('a subscription the store ends is reported once with its error; unsubscribe stops updates at once', async () => {
  const store = memoryStore({ uid: 's' })
  const server = await serve(store)
  const c = await RawClient.open(server, 'local')
  await c.hello()
  c.send({ type: 'subscribe', id: 1, query: keys('a') })
  c.send({ type: 'subscribe', id: 2, query: prefix('') })
  await c.next(m => m.type === 'update' && m.id === 1)
  await c.next(m => m.type === 'update' && m.id === 2)
  c.send({ type: 'unsubscribe', id: 1 })
  await c.next(m => m.type === 'unsubscribed')
  await store.mutate(new Map([['a', { type: 'set', value: 1 }]]))
  await c.next(m => m.type === 'update' && m.id === 2)
  await store.close()
  expect(await c.next(m => m.type === 'error')).toMatchObject({ id: 2, error: { code: 'closed' } })
  await new Promise(r => setTimeout(r, 20))
  expect(c.received.filter(m => 'id' in m && m.id === 1)).toEqual([])
})

test.each(['msgpack', 'json'] as const)('mutated-in-update (%s): a write\'s reply rides in the update carrying it, to a client that asked; others get it alone', async enc => {
  const store = memoryStore({ uid: 's' })
  const server = await serve(store)
  const asks = await RawClient.open(server, 'local', enc)
  asks.send({ type: 'hello', protocol: 1, capabilities: ['mutated-in-update'] })
  expect(await asks.next(m => m.type === 'welcome')).toMatchObject({ capabilities: expect.arrayContaining(['mutated-in-update']) as unknown })
  const plain = await RawClient.open(server, 'local', enc)
  await plain.hello()
  for (const c of [asks, plain]) {
    c.send({ type: 'subscribe', id: 1, query: keys('a') })
    await c.next(m => m.type === 'update')
  }
  asks.send({ type: 'mutate', id: 2, txn: [['a', { type: 'set', value: 1 }]] })
  expect(await asks.next(m => m.type === 'update')).toMatchObject({ id: 1, txns: [{ versions: { s: 1 } }], mutated: [{ id: 2, versions: { s: 1 } }] })
  plain.send({ type: 'mutate', id: 3, txn: [['a', { type: 'set', value: 2 }]] })
  expect(await plain.next(m => m.type === 'mutated')).toEqual({ type: 'mutated', id: 3, versions: { s: 2 } })
  const u = await plain.next(m => m.type === 'update')
  expect(u).not.toHaveProperty('mutated')
  // The other write's update reached `asks` with no reply in it; a write on a key it does not watch is answered alone.
  expect(await asks.next(m => m.type === 'update')).not.toHaveProperty('mutated')
  asks.send({ type: 'mutate', id: 4, txn: [['z', { type: 'set', value: 1 }]] })
  expect(await asks.next(m => m.type === 'mutated')).toEqual({ type: 'mutated', id: 4, versions: { s: 3 } })
  // Unsubscribed while its update is held: no update after `unsubscribed`, and the reply still comes.
  asks.send({ type: 'mutate', id: 5, txn: [['a', { type: 'set', value: 3 }]] })
  asks.send({ type: 'unsubscribe', id: 1 })
  await asks.next(m => m.type === 'unsubscribed')
  expect(await asks.next(m => m.type === 'mutated' || (m.type === 'update' && m.mutated !== undefined))).toMatchObject({ id: 5, versions: { s: 4 } })
  await new Promise(r => setTimeout(r, 20))
  expect(asks.received.filter(m => m.type === 'update')).toEqual([])
})

test('mutated-in-update over the remote store: writes resolve with their versions, in order, the subscription sees each once', async () => {
  const store = memoryStore({ uid: 's' })
  const server = await serve(store)
  const { connect } = await import('@statecraft/client')
  const remote = await connect(() => server.connectLocal(), { log: () => {} })
  cleanup.push(() => remote.close())
  const sub = remote.subscribe(keys('a'))
  const it = sub[Symbol.asyncIterator]()
  await it.next()
  const vs = await Promise.all(Array.from({ length: 20 }, (_, i) => remote.mutate(new Map([['a', { type: 'set', value: i }]]))))
  expect(vs).toEqual(Array.from({ length: 20 }, (_, i) => ({ s: i + 1 })))
  const seen: number[] = []
  while (seen.length < 20) {
    const u = (await it.next()).value as { txns: { versions: { s: number } }[] }
    for (const r of u.txns) seen.push(r.versions.s)
  }
  expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => i + 1))
})
