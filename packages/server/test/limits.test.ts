// Per-connection limits: frame size, subscriptions, requests in flight, and a slow reader's send
// buffer, each configurable; hitting one refuses or drops only what is over it.
import { afterEach, expect, test } from 'vitest'
import { WebSocket } from 'ws'
import { applyUpdate, keys, memoryStore, prefix, type Key, type Store, type Value } from '@statecraft/core'
import { connect, type RemoteStore } from '@statecraft/client'
import { decodeServerFrame, encode, type LocalPort, type ServerMessage } from '@statecraft/protocol'
import { createServer, type LogEvent, type ServerLimits, type StatecraftServer } from '@statecraft/server'
import { RawClient } from './raw-client.ts'

const cleanup: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f()
})

async function setup(limits: Partial<ServerLimits>, storeOpts: { historyLimit?: number } = {}): Promise<{ store: Store; server: StatecraftServer; logs: LogEvent[] }> {
  const store = memoryStore({ uid: 's', ...storeOpts })
  const logs: LogEvent[] = []
  const server = await createServer({ store, limits, log: e => logs.push(e) })
  cleanup.push(async () => {
    await server.close()
    await store.close()
  })
  return { store, server, logs }
}

async function eventually(what: string, ok: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(r => setTimeout(r, 5))
  }
}

test('subscriptions past maxSubscriptions are refused with rate-limited; the others live on', async () => {
  const { server, store } = await setup({ maxSubscriptions: 3 })
  const c = await RawClient.open(server, 'local')
  await c.hello()
  for (let id = 1; id <= 4; id++) c.send({ type: 'subscribe', id, query: { kind: 'range' } })
  expect(await c.next(m => m.type === 'error')).toMatchObject({ id: 4, error: { code: 'rate-limited', details: { limit: 'maxSubscriptions' } } })
  for (let id = 1; id <= 3; id++) await c.next(m => m.type === 'update' && m.id === id)
  await store.mutate(new Map([['a', { type: 'set', value: 1 }]]))
  for (let id = 1; id <= 3; id++) await c.next(m => m.type === 'update' && m.id === id)
  c.send({ type: 'unsubscribe', id: 1 })
  await c.next(m => m.type === 'unsubscribed')
  c.send({ type: 'subscribe', id: 4, query: { kind: 'range' } })
  await c.next(m => m.type === 'update' && m.id === 4)
})

test('requests past maxInFlight are refused with rate-limited', async () => {
  const { server } = await setup({ maxInFlight: 2 })
  const c = await RawClient.open(server, 'local')
  await c.hello()
  for (let id = 1; id <= 4; id++) c.send({ type: 'fetch', id, query: { kind: 'range' } })
  const got = [await c.next(), await c.next(), await c.next(), await c.next()]
  const byId = new Map(got.map(m => ['id' in m ? m.id : -1, m.type === 'error' ? m.error.code : m.type]))
  expect(byId).toEqual(new Map<number, string>([[1, 'fetched'], [2, 'fetched'], [3, 'rate-limited'], [4, 'rate-limited']]))
})

test('the remote store keeps within maxInFlight by itself: a burst of writes all succeed', async () => {
  const { server, store, logs } = await setup({ maxInFlight: 2 })
  const remote = await connect(() => server.connectLocal(), { log: () => {} })
  cleanup.push(() => remote.close())
  await Promise.all(Array.from({ length: 60 }, (_, i) => remote.mutate(new Map([[`k${i}`, { type: 'set', value: i }]]))))
  expect((await store.fetch(keys())).versions).toEqual({ s: 60 })
  expect(logs).toEqual([])
})

test('a write over maxFrameBytes fails with too-large before it is sent; the store goes on', async () => {
  const { server, logs } = await setup({ maxFrameBytes: 2048 })
  const remote = await connect(server.url, { log: () => {} })
  cleanup.push(() => remote.close())
  await expect(remote.mutate(new Map([['big', { type: 'set', value: 'x'.repeat(4096) }]]))).rejects.toMatchObject({ code: 'too-large' })
  await remote.mutate(new Map([['small', { type: 'set', value: 'x' }]]))
  expect(logs).toEqual([])
})

test('a frame over the hard limit closes that WebSocket (1009); others are unharmed', async () => {
  const { server } = await setup({ maxFrameBytes: 1024, hardMaxFrameBytes: 4096 })
  const good = await RawClient.open(server, 'ws')
  await good.hello()
  const bad = await RawClient.open(server, 'ws')
  await bad.hello()
  bad.sendFrame(new Uint8Array(3000))
  expect(await bad.next()).toMatchObject({ type: 'error', error: { code: 'too-large' } })
  bad.sendFrame(new Uint8Array(5000))
  expect(await bad.closed()).toBe(1009)
  await good.fetchOk(1)
})

/** Reads a subscription into a view, checking each txn comes once and in order. */
function watch(remote: RemoteStore): { view: Map<Key, Value>; last: () => number; error: () => unknown } {
  const view = new Map<Key, Value>()
  let last = 0
  let error: unknown
  void (async () => {
    try {
      for await (const u of remote.subscribe(prefix(''))) {
        for (const rec of u.txns) {
          if (rec.versions.s !== last + 1) throw new Error(`txn ${rec.versions.s} after ${last}`)
          last = rec.versions.s
        }
        applyUpdate(view, u)
        last = u.versions.s as number
      }
    } catch (e) {
      error = e
    }
  })()
  return { view, last: () => last, error: () => error }
}

test('a slow reader (in-process) loses its subscriptions, not the server its memory; it resumes with no gap', async () => {
  const { server, store, logs } = await setup({ maxBufferedBytes: 32 * 1024 })
  let port: LocalPort | undefined
  const remote = await connect(() => (port = server.connectLocal()), { log: () => {} })
  cleanup.push(() => remote.close())
  const w = watch(remote)
  await eventually('the first update', () => server.backend.stats().subscriptions === 1)
  port?.pause()
  const value = 'v'.repeat(1024)
  for (let i = 1; i <= 200; i++) await store.mutate(new Map([[`k${i % 20}`, { type: 'set', value: `${i}${value}` }]]))
  expect(server.backend.stats().subscriptions).toBe(0)
  expect(port?.bufferedAmount).toBeLessThan(64 * 1024)
  expect(logs.filter(l => l.message.startsWith('dropped'))).toHaveLength(1)
  port?.resume()
  await eventually('the reader to catch up', () => w.last() === 200 || w.error() !== undefined)
  expect(w.error()).toBeUndefined()
  expect(w.view).toEqual((await store.fetch(prefix(''))).results)
  expect(server.backend.stats().subscriptions).toBe(1)
})

test('a slow reader on a real socket (paused WebSocket) has its subscriptions dropped with rate-limited', async () => {
  const { server, store } = await setup({ maxBufferedBytes: 256 * 1024 }, { historyLimit: 50 })
  const ws = new WebSocket(server.url)
  const got: ServerMessage[] = []
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    const p = decodeServerFrame(isBinary ? new Uint8Array(data) : data.toString())
    if (p.ok) got.push(p.msg)
  })
  await new Promise(r => ws.once('open', r))
  cleanup.push(async () => ws.terminate())
  ws.send(encode({ type: 'hello', protocol: 1 }))
  ws.send(encode({ type: 'subscribe', id: 1, query: { kind: 'range' } }))
  await eventually('the subscription', () => got.some(m => m.type === 'update'))
  ws.pause()
  const value = 'v'.repeat(32 * 1024)
  for (let i = 0; i < 3000 && server.backend.stats().subscriptions > 0; i++) {
    await store.mutate(new Map([[`k${i % 10}`, { type: 'set', value }]]))
    if (i % 20 === 0) await new Promise(r => setTimeout(r, 1))
  }
  expect(server.backend.stats().subscriptions).toBe(0)
  ws.resume()
  await eventually('the drop notice', () => got.some(m => m.type === 'error'))
  expect(got.find(m => m.type === 'error')).toMatchObject({ id: 1, error: { code: 'rate-limited', details: { reason: 'slow-reader' } } })
  expect(server.backend.stats().connections).toBe(1)
})

test('a connection that reads nothing at all is closed past hardMaxBufferedBytes', async () => {
  const { server, store, logs } = await setup({ maxBufferedBytes: 16 * 1024, hardMaxBufferedBytes: 64 * 1024 })
  await store.mutate(new Map([['big', { type: 'set', value: 'x'.repeat(20_000) }]]))
  const c = await RawClient.open(server, 'local')
  await c.hello()
  ;(c.port as LocalPort).pause()
  for (let id = 1; id <= 10; id++) c.send({ type: 'fetch', id, query: { kind: 'keys', keys: ['big'] } })
  await eventually('the connection to be closed', () => server.backend.stats().connections === 0)
  expect(logs.some(l => l.message.startsWith('closed a connection'))).toBe(true)
})
