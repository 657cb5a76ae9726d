// Heartbeats: the server pings, closes connections silent for a whole interval (before hello too),
// and the client, hearing nothing for 2.5 intervals, drops the link and reconnects.
import { afterEach, expect, test } from 'vitest'
import { memoryStore, type Store } from '@statecraft/core'
import { connect } from '@statecraft/client'
import type { LocalPort } from '@statecraft/protocol'
import { createServer, type StatecraftServer } from '@statecraft/server'
import { RawClient } from './raw-client.ts'

const HEARTBEAT = 100
let store: Store
let server: StatecraftServer

afterEach(async () => {
  await server.close()
  await store.close()
})

async function setup(): Promise<void> {
  store = memoryStore({ uid: 's' })
  server = await createServer({ store, heartbeatMs: HEARTBEAT, log: () => {} })
}

test.each(['local', 'ws'] as const)('over %s, a connection that stops answering is closed; one that answers is not', async transport => {
  await setup()
  const silent = await RawClient.open(server, transport)
  const welcome = await silent.hello()
  expect(welcome.heartbeatMs).toBe(HEARTBEAT)
  const live = await connect(transport === 'ws' ? server.url : () => server.connectLocal(), { log: () => {} })
  const started = Date.now()
  expect(await silent.closed(2000)).toBe(4003)
  expect(Date.now() - started).toBeLessThan(4 * HEARTBEAT + 200)
  expect(silent.received.some(m => m.type === 'ping')).toBe(true)
  await new Promise(r => setTimeout(r, 5 * HEARTBEAT))
  expect(live.connected).toBe(true)
  expect(server.backend.stats().connections).toBe(1)
  await live.close()
})

test('a connection that never says hello is closed', async () => {
  await setup()
  const c = await RawClient.open(server, 'local')
  expect(await c.closed(1000)).toBe(4002)
})

test('the client reconnects when the server goes quiet', async () => {
  await setup()
  const ports: LocalPort[] = []
  const remote = await connect(
    () => {
      const p = server.connectLocal()
      ports.push(p)
      return p
    },
    { reconnect: { minDelayMs: 1, maxDelayMs: 5 }, log: () => {} },
  )
  // Nothing reaches the client any more (a half-dead link).
  ports[0]?.pause()
  const deadline = Date.now() + 2000
  while (ports.length < 2 || !remote.connected) {
    if (Date.now() > deadline) throw new Error('no reconnect')
    await new Promise(r => setTimeout(r, 5))
  }
  await remote.mutate(new Map([['a', { type: 'set', value: 1 }]]))
  await remote.close()
})
