// remote.presence(room): three remote stores on one server, over WebSocket and in process. They
// see each other's states and changes, a peer that leaves, closes or is cut off is cleared for the
// others, a reconnect rejoins with the last state, limits and permissions fail clearly, and the
// store is never written.
import { afterEach, describe, expect, test } from 'vitest'
import { WebSocket } from 'ws'
import { memoryStore, range, type Json, type Store } from '@statecraft/core'
import { connect, type Presence, type RemoteStore, type WebSocketConstructor } from '@statecraft/client'
import type { LocalPort } from '@statecraft/protocol'
import { createServer, type ServerOptions, type StatecraftServer } from '@statecraft/server'
import { FakeServer } from './fake-server.ts'

type Transport = 'ws' | 'local'
const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms))
const fast = { reconnect: { minDelayMs: 1, maxDelayMs: 5 }, log: () => {} }

let store: Store
let server: StatecraftServer
const remotes: RemoteStore[] = []

afterEach(async () => {
  for (const r of remotes.splice(0)) await r.close()
  await server.close()
  await store.close()
})

async function setup(opts: Partial<ServerOptions<{ user: string }>> = {}): Promise<void> {
  store = memoryStore({ uid: 's' })
  server = await createServer<{ user: string }>({ log: () => {}, ...opts, store })
}

/** A remote store whose connections the test can cut without a close (socket killed / port terminated). */
async function client(transport: Transport, token?: string): Promise<RemoteStore & { kill(): void }> {
  const sockets: WebSocket[] = []
  const ports: LocalPort[] = []
  class Tracked extends WebSocket {
    constructor(url: string) {
      super(url)
      sockets.push(this)
    }
  }
  const auth = token === undefined ? {} : { auth: () => token }
  const remote =
    transport === 'ws'
      ? await connect(server.url, { ...fast, ...auth, WebSocket: Tracked as unknown as WebSocketConstructor })
      : await connect(() => {
          const p = server.connectLocal()
          ports.push(p)
          return p
        }, { ...fast, ...auth })
  remotes.push(remote)
  return Object.assign(remote, { kill: () => (transport === 'ws' ? sockets.at(-1)?.terminate() : ports.at(-1)?.terminate()) })
}

async function until(what: string, cond: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(3)
  }
}

/** The states `p` sees, in no particular order of peers. */
const states = (p: Presence): Json[] => [...p.peers.values()].sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)))

describe.each(['local', 'ws'] as const)('over %s', transport => {
  test('three clients see each other; updates and leaves arrive; the store is not written', async () => {
    await setup()
    const before = (await store.fetch(range())).versions
    const [a, b, c] = [await client(transport), await client(transport), await client(transport)]
    const pa = a.presence('doc/1')
    expect(a.presence('doc/1')).toBe(pa)
    pa.set({ name: 'ann', cursor: 0 })
    const pb = b.presence('doc/1')
    pb.set({ name: 'bob', cursor: 5 })
    const pc = c.presence('doc/1')
    await Promise.all([pa.ready(), pb.ready(), pc.ready()])
    await until('everyone sees the others', () => pa.peers.size === 1 && pb.peers.size === 1 && pc.peers.size === 2)
    expect(states(pc)).toEqual([{ name: 'ann', cursor: 0 }, { name: 'bob', cursor: 5 }])
    expect(pc.peers.get(pa.self as string)).toEqual({ name: 'ann', cursor: 0 })
    expect(pa.peers.get(pb.self as string)).toEqual({ name: 'bob', cursor: 5 })
    expect(pa.self).not.toBe(pb.self)

    const seen: number[] = []
    const off = pb.subscribe(peers => seen.push(peers.size))
    pa.set({ name: 'ann', cursor: 3 })
    await until('the update', () => pb.peers.get(pa.self as string) !== undefined && (pb.peers.get(pa.self as string) as { cursor: number }).cursor === 3)
    expect(pc.peers.get(pa.self as string)).toEqual({ name: 'ann', cursor: 3 })
    expect(seen.length).toBeGreaterThan(0)
    off()
    const peersBefore = pb.peers
    pa.set({ name: 'ann', cursor: 4 })
    await until('the next update', () => pb.peers !== peersBefore)
    expect(peersBefore.get(pa.self as string)).toEqual({ name: 'ann', cursor: 3 }) // snapshots are not changed in place

    // c sets a state and clears it again.
    pc.set('c')
    await until('c appears', () => pa.peers.size === 2)
    pc.set(null)
    await until('c goes', () => pa.peers.size === 1 && pb.peers.size === 1)

    const aPeer = pa.self as string
    pa.leave()
    pa.leave()
    expect(pa.peers.size).toBe(0)
    expect(() => pa.set(1)).toThrow(expect.objectContaining({ code: 'closed' }))
    await expect(pa.ready()).rejects.toMatchObject({ code: 'closed' })
    await until('a is gone for the others', () => !pb.peers.has(aPeer) && !pc.peers.has(aPeer))
    // A new handle joins again.
    const pa2 = a.presence('doc/1')
    expect(pa2).not.toBe(pa)
    pa2.set('back')
    await until('a is back', () => [...pb.peers.values()].includes('back'))

    expect((await store.fetch(range())).versions).toEqual(before)
    expect((await store.fetch(range())).results.size).toBe(0)
  })

  test('a client that closes, is disconnected or is killed is cleared; a reconnect restores it', async () => {
    await setup()
    const [a, b, c] = [await client(transport), await client(transport), await client(transport)]
    const [pa, pb, pc] = [a.presence('r'), b.presence('r'), c.presence('r')]
    pa.set('a')
    pb.set('b')
    pc.set('c')
    await until('all in', () => pa.peers.size === 2 && pb.peers.size === 2 && pc.peers.size === 2)

    // disconnect(): a's view empties at once; the others see a's old peer go and a new one come with its state.
    const old = pa.self as string
    a.disconnect()
    expect(pa.peers.size).toBe(0)
    expect(pa.joined).toBe(false)
    await until('a rejoined', () => pa.joined && pa.peers.size === 2)
    expect(pa.self).not.toBe(old)
    await until('the others see the new a only', () => !pb.peers.has(old) && pb.peers.get(pa.self as string) === 'a' && pc.peers.get(pa.self as string) === 'a')

    // A killed connection: no close frame from the client.
    const oldB = pb.self as string
    b.kill()
    await until('b is back', () => pb.joined && pb.self !== oldB && pb.peers.size === 2)
    await until('the others dropped the old b', () => !pa.peers.has(oldB) && !pc.peers.has(oldB) && pa.peers.get(pb.self as string) === 'b')
    // A state set while disconnected goes out on the next connection.
    b.kill()
    pb.set('b2')
    await until('b2 arrives', () => [...pc.peers.values()].includes('b2') && pc.peers.size === 2)

    // Closing the store ends its rooms; the others see it leave.
    const cPeer = pc.self as string
    await c.close()
    expect(pc.peers.size).toBe(0)
    await expect(pc.ready()).rejects.toMatchObject({ code: 'closed' })
    expect(() => c.presence('r')).toThrow(expect.objectContaining({ code: 'closed' }))
    await until('c is gone', () => !pa.peers.has(cPeer) && !pb.peers.has(cPeer))
    expect(states(pa)).toEqual(['b2'])
  })

  test('rapid sets: few messages, and the last state always arrives', async () => {
    await setup({ limits: { presenceIntervalMs: 40 } })
    const [a, b] = [await client(transport), await client(transport)]
    const [pa, pb] = [a.presence('r'), b.presence('r')]
    await Promise.all([pa.ready(), pb.ready()])
    let changes = 0
    pb.subscribe(() => changes++)
    const started = Date.now()
    for (let i = 0; i <= 500; i++) pa.set({ x: i })
    for (let i = 501; i <= 530; i++) {
      pa.set({ x: i })
      await sleep(2)
    }
    const elapsed = Date.now() - started
    await until('the last state', () => (pb.peers.get(pa.self as string) as { x: number } | undefined)?.x === 530)
    // One change per 40 ms interval at most (and the last one after the sets), not one per set.
    expect(changes).toBeLessThanOrEqual(Math.ceil(elapsed / 40) + 2)
    expect(changes).toBeLessThan(30)
  })
})

test('limits and bad input fail locally and clearly', async () => {
  await setup({ limits: { maxPresenceStateBytes: 50, maxPresenceRooms: 1 } })
  const a = await client('local')
  expect(() => a.presence('')).toThrow(expect.objectContaining({ code: 'invalid' }))
  const p = a.presence('r')
  expect(() => p.set({ s: 'x'.repeat(60) })).toThrow(expect.objectContaining({ code: 'too-large', details: { limit: 50, room: 'r' } }))
  expect(() => p.set({ f: () => 1 } as never)).toThrow(expect.objectContaining({ code: 'invalid' }))
  expect(() => p.set(Number.NaN)).toThrow(expect.objectContaining({ code: 'invalid' }))
  await p.ready()
  // Over maxPresenceRooms: the server refuses the join; the room is closed with that error.
  const q = a.presence('r2')
  await expect(q.ready()).rejects.toMatchObject({ code: 'rate-limited' })
  expect(q.error?.code).toBe('rate-limited')
  expect(() => q.set(1)).toThrow(expect.objectContaining({ code: 'rate-limited' }))
  // The caller's object is copied: changing it later changes nothing.
  const mine = { n: 1 }
  p.set(mine)
  mine.n = 2
  expect(p.state).toEqual({ n: 1 })
})

test('with rules, only readers of the room key may join', async () => {
  await setup({
    authenticate: token => (token === undefined ? null : { user: token }),
    rules: (inner, claims) => ({
      ...inner,
      info: inner.info,
      fetch: async (q, o) => {
        const r = await inner.fetch(q, o)
        return { ...r, results: new Map([...r.results].filter(([k]) => k.startsWith(`${claims.user}/`))) }
      },
      getOps: (q, f, t, o) => inner.getOps(q, f, t, o),
      mutate: (t, o) => inner.mutate(t, o),
      subscribe: (q, o) => inner.subscribe(q, o),
      close: async () => {},
    }),
  })
  await store.mutate(new Map([['alice/doc', { type: 'set', value: 1 }]]))
  const alice = await client('ws', 'alice')
  const bob = await client('local', 'bob')
  const pa = alice.presence('alice/doc')
  pa.set('hi')
  await pa.ready()
  const pb = bob.presence('alice/doc')
  await expect(pb.ready()).rejects.toMatchObject({ code: 'forbidden' })
  expect(pb.peers.size).toBe(0)
  // A fresh handle after a refusal asks again (and is refused again).
  await expect(bob.presence('alice/doc').ready()).rejects.toMatchObject({ code: 'forbidden' })
  await sleep(20)
  expect(pa.peers.size).toBe(0)
})

test('a server without presence: the room fails with unsupported', async () => {
  await setup()
  const fs = new FakeServer()
  const remote = await connect(fs.dial, fast)
  await expect(remote.presence('r').ready()).rejects.toMatchObject({ code: 'unsupported' })
  await sleep(5)
  expect(fs.last.received).toEqual([])
  await remote.close()
})
