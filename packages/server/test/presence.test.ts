// Presence on the wire, with raw protocol clients over WebSocket and the in-process transport:
// snapshots and deltas, peers cleared when they leave, close, are killed or go silent, coalescing,
// limits, permissions, and nothing ever written to the store.
import { once } from 'node:events'
import { afterEach, describe, expect, test } from 'vitest'
import { WebSocket } from 'ws'
import { StatecraftError, memoryStore, range, type Store } from '@statecraft/core'
import type { ServerMessage } from '@statecraft/protocol'
import { createServer, wsPort, type ServerOptions, type StatecraftServer } from '@statecraft/server'
import { RawClient } from './raw-client.ts'

type Transport = 'ws' | 'local'
const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms))

let store: Store
let server: StatecraftServer
const clients: RawClient[] = []

afterEach(async () => {
  for (const c of clients.splice(0)) c.port.close()
  await server.close()
  await store.close()
})

async function setup(opts: Partial<ServerOptions<{ user: string }>> = {}): Promise<void> {
  store = memoryStore({ uid: 's' })
  server = await createServer<{ user: string }>({ log: () => {}, ...opts, store })
}

/** A raw client past its welcome. With `kill`, over a socket the test can cut without a close frame. */
async function open(transport: Transport, token?: string): Promise<RawClient & { kill(): void }> {
  let c: RawClient
  let kill: () => void
  if (transport === 'ws') {
    const ws = new WebSocket(server.url)
    await once(ws, 'open')
    c = new RawClient(wsPort(ws))
    kill = () => ws.terminate()
  } else {
    const port = server.connectLocal()
    c = new RawClient(port)
    kill = () => port.terminate()
  }
  clients.push(c)
  await c.hello(token)
  return Object.assign(c, { kill })
}

let nextId = 1
async function join(c: RawClient, room: string, state?: unknown): Promise<ServerMessage> {
  const id = nextId++
  c.send(state === undefined ? { type: 'presence-join', id, room } : { type: 'presence-join', id, room, state })
  return c.next(m => (m.type === 'presence' || m.type === 'error') && m.id === id)
}

async function joined(c: RawClient, room: string, state?: unknown): Promise<{ peer: string; peers: { peer: string; state: unknown }[] }> {
  const m = await join(c, room, state)
  if (m.type !== 'presence') throw new Error(`join refused: ${JSON.stringify(m)}`)
  expect(m.room).toBe(room)
  return m
}

const update = (room: string, peer?: string) => (m: ServerMessage): boolean =>
  m.type === 'presence-update' && m.room === room && (peer === undefined || m.peer === peer)

async function nextState(c: RawClient, room: string, peer: string): Promise<unknown> {
  const m = await c.next(update(room, peer))
  return m.type === 'presence-update' ? m.state : undefined
}

const version = async (): Promise<number> => (await store.fetch(range())).versions.s ?? 0

describe.each(['local', 'ws'] as const)('over %s', transport => {
  test('join, snapshot, updates and leave among three peers; the store is never written', async () => {
    await setup()
    await store.mutate(new Map([['doc', { type: 'set', value: 1 }]]))
    const before = await version()
    const [a, b, c] = [await open(transport), await open(transport), await open(transport)]
    const ja = await joined(a, 'room', { name: 'ann', x: 1 })
    expect(ja.peers).toEqual([])
    const jb = await joined(b, 'room', { name: 'bob' })
    expect(jb.peers).toEqual([{ peer: ja.peer, state: { name: 'ann', x: 1 } }])
    expect(jb.peer).not.toBe(ja.peer)
    expect(await nextState(a, 'room', jb.peer)).toEqual({ name: 'bob' })

    // c joins with no state: it sees both, and nobody hears of it until it sets one.
    const jc = await joined(c, 'room')
    expect(new Map(jc.peers.map(p => [p.peer, p.state]))).toEqual(new Map<string, unknown>([[ja.peer, { name: 'ann', x: 1 }], [jb.peer, { name: 'bob' }]]))
    a.send({ type: 'presence-set', room: 'room', state: { name: 'ann', x: 2 } })
    expect(await nextState(b, 'room', ja.peer)).toEqual({ name: 'ann', x: 2 })
    expect(await nextState(c, 'room', ja.peer)).toEqual({ name: 'ann', x: 2 })
    c.send({ type: 'presence-set', room: 'room', state: 'here' })
    expect(await nextState(a, 'room', jc.peer)).toBe('here')
    expect(await nextState(b, 'room', jc.peer)).toBe('here')

    // null clears a state: the others see the peer go, as on leave.
    c.send({ type: 'presence-set', room: 'room', state: null })
    expect(await nextState(a, 'room', jc.peer)).toBe(null)
    a.send({ type: 'presence-leave', room: 'room' })
    expect(await nextState(b, 'room', ja.peer)).toBe(null)
    expect(await nextState(c, 'room', ja.peer)).toBe(null)
    a.send({ type: 'presence-leave', room: 'room' }) // not in it: a no-op
    await a.fetchOk(nextId++)
    // a gets nothing from the room any more; b's sets reach c only.
    b.send({ type: 'presence-set', room: 'room', state: { name: 'bob', x: 9 } })
    expect(await nextState(c, 'room', jb.peer)).toEqual({ name: 'bob', x: 9 })
    await sleep(20)
    expect(a.received.filter(m => m.type === 'presence-update')).toEqual([])
    expect(a.received.filter(m => m.type === 'error')).toEqual([])

    // One peer id per connection, in every room; rooms are separate.
    const jb2 = await joined(b, 'other', 1)
    expect(jb2.peer).toBe(jb.peer)
    expect(jb2.peers).toEqual([])
    expect(await version()).toBe(before)
    expect((await store.fetch(range())).results).toEqual(new Map([['doc', 1]]))
    expect(server.backend.presenceStats()).toEqual({ rooms: 2, members: 3 })
  })

  test('a peer that closes, or whose socket is killed, is cleared for the others', async () => {
    await setup()
    const [a, b, c] = [await open(transport), await open(transport), await open(transport)]
    const ja = await joined(a, 'r', 'a')
    const jb = await joined(b, 'r', 'b')
    await joined(c, 'r', 'c')
    a.port.close(1000, 'bye')
    expect(await nextState(b, 'r', ja.peer)).toBe(null)
    expect(await nextState(c, 'r', ja.peer)).toBe(null)
    b.kill()
    expect(await nextState(c, 'r', jb.peer)).toBe(null)
    await sleep(10)
    expect(server.backend.presenceStats()).toEqual({ rooms: 1, members: 1 })
    // A newcomer sees only the live peer.
    const d = await open(transport)
    expect((await joined(d, 'r')).peers.map(p => p.state)).toEqual(['c'])
  })

  test('rapid sets are coalesced per interval, and the last state always arrives', async () => {
    await setup({ limits: { presenceIntervalMs: 50 } })
    const [a, b] = [await open(transport), await open(transport)]
    const ja = await joined(a, 'r')
    await joined(b, 'r')
    for (let i = 1; i <= 100; i++) a.send({ type: 'presence-set', room: 'r', state: i })
    await sleep(120)
    const started = Date.now()
    for (let i = 101; i <= 120; i++) {
      a.send({ type: 'presence-set', room: 'r', state: i })
      await sleep(5)
    }
    const elapsed = Date.now() - started
    const deadline = Date.now() + 2000
    for (;;) {
      const states = b.received.filter(update('r', ja.peer)).map(m => (m.type === 'presence-update' ? m.state : undefined))
      if (states.at(-1) === 120) {
        // 1 at once, 100 at the end of its interval; then one per 50 ms at most while the sets go on.
        expect(states.slice(0, 2)).toEqual([1, 100])
        expect(states.length).toBeLessThanOrEqual(2 + Math.ceil(elapsed / 50) + 1)
        expect(states.length).toBeLessThan(20)
        expect(states).toEqual([...states].sort((x, y) => (x as number) - (y as number)))
        break
      }
      if (Date.now() > deadline) throw new Error(`never got 120: ${JSON.stringify(states)}`)
      await sleep(10)
    }
    // A newcomer's snapshot has the latest state even while a send is still due.
    a.send({ type: 'presence-set', room: 'r', state: 121 })
    a.send({ type: 'presence-set', room: 'r', state: 122 })
    const c = await open(transport)
    expect((await joined(c, 'r')).peers).toEqual([{ peer: ja.peer, state: 122 }])
  })

  test('limits and bad input get clear errors; the connection goes on', async () => {
    await setup({ limits: { maxPresenceRooms: 2, maxPresenceStateBytes: 20 } })
    const a = await open(transport)
    const w = await a.hello().catch((e: unknown) => e)
    expect(w).toBeInstanceOf(Error) // a second hello is refused
    const big = { text: 'x'.repeat(20) }
    expect(await join(a, 'r1', big)).toMatchObject({ type: 'error', error: { code: 'too-large', details: { limit: 20, room: 'r1' } } })
    await joined(a, 'r1', 'ok')
    expect(await join(a, 'r1')).toMatchObject({ type: 'error', error: { code: 'protocol', message: expect.stringContaining('already in') } })
    await joined(a, 'r2')
    expect(await join(a, 'r3')).toMatchObject({ type: 'error', error: { code: 'rate-limited', details: { limit: 'maxPresenceRooms' } } })
    a.send({ type: 'presence-set', room: 'r1', state: big })
    expect(await a.next(m => m.type === 'error')).toMatchObject({ error: { code: 'too-large', details: { room: 'r1' } } })
    a.send({ type: 'presence-set', room: 'nope', state: 1 })
    expect(await a.next(m => m.type === 'error')).toMatchObject({ error: { code: 'protocol', message: expect.stringContaining('not in presence room') } })
    expect(await join(a, '')).toMatchObject({ type: 'error', error: { code: 'protocol' } })
    a.send({ type: 'presence-set', room: 'r1', state: new Uint8Array(3) })
    expect(await a.next(m => m.type === 'error')).toMatchObject({ error: { code: 'protocol' } })
    // Leaving frees a place.
    a.send({ type: 'presence-leave', room: 'r2' })
    await joined(a, 'r3')
    await a.fetchOk(nextId++)

    // Before the welcome, nothing presence is run.
    const raw = transport === 'ws' ? new RawClient(wsPort(await openSocket())) : new RawClient(server.connectLocal())
    clients.push(raw)
    raw.send({ type: 'presence-join', id: 1, room: 'r1' })
    expect(await raw.next()).toMatchObject({ type: 'error', id: 1, error: { code: 'protocol' } })
    raw.send({ type: 'presence-set', room: 'r1', state: 1 })
    expect(await raw.next()).toMatchObject({ type: 'error', error: { code: 'protocol' } })
  })

  test('a peer that goes silent is cleared after the heartbeat closes it', async () => {
    await setup({ heartbeatMs: 60 })
    const [a, b] = [await open(transport), await open(transport)]
    const ja = await joined(a, 'r', 'silent')
    await joined(b, 'r')
    // b keeps talking; a says nothing more (it does not answer pings).
    const keepAlive = setInterval(() => b.send({ type: 'pong' }), 20)
    try {
      expect(await nextState(b, 'r', ja.peer)).toBe(null)
      expect(a.closedWith ?? (await a.closed())).toBe(4003)
    } finally {
      clearInterval(keepAlive)
    }
  })
})

async function openSocket(): Promise<WebSocket> {
  const ws = new WebSocket(server.url)
  await once(ws, 'open')
  return ws
}

/** A store that shows a connection only the keys under `${user}/` and `public/` (reads); writes pass. */
function ownKeys(inner: Store, claims: { user: string }): Store {
  const visible = (k: string): boolean => k.startsWith(`${claims.user}/`) || k.startsWith('public/')
  return {
    info: inner.info,
    async fetch(q, o) {
      const r = await inner.fetch(q, o)
      return { ...r, results: new Map([...r.results].filter(([k]) => visible(k))) }
    },
    getOps: (q, from, to, o) => inner.getOps(q, from, to, o),
    mutate: (txn, o) => inner.mutate(txn, o),
    subscribe: (q, o) => inner.subscribe(q, o),
    close: async () => {},
  }
}

const users = (token: string | undefined): { user: string } | null => (token === undefined ? null : { user: token })

test('with rules, a room is a key: joining needs it to exist and be readable', async () => {
  await setup({ authenticate: users, rules: ownKeys })
  await store.mutate(new Map([['alice/doc', { type: 'set', value: 1 }], ['public/doc', { type: 'set', value: 2 }]]))
  const alice = await open('local', 'alice')
  const bob = await open('ws', 'bob')
  const ja = await joined(alice, 'alice/doc', 'hi')
  expect(ja.peer).not.toContain('alice')
  expect(await join(bob, 'alice/doc')).toMatchObject({ type: 'error', error: { code: 'forbidden', details: { room: 'alice/doc' } } })
  expect(await join(bob, 'public/missing')).toMatchObject({ type: 'error', error: { code: 'forbidden' } })
  await joined(alice, 'public/doc', 'a')
  expect((await joined(bob, 'public/doc', 'b')).peers).toEqual([{ peer: ja.peer, state: 'a' }])
  // A refused join leaves no trace: bob's set for it is refused, alice hears nothing.
  bob.send({ type: 'presence-set', room: 'alice/doc', state: 'sneak' })
  expect(await bob.next(m => m.type === 'error')).toMatchObject({ error: { code: 'protocol' } })
  await sleep(20)
  expect(alice.received.filter(update('alice/doc'))).toEqual([])
})

test('presenceAllowed decides instead; sets during the check become the first state; leaving cancels it', async () => {
  let release: () => void = () => {}
  const gate = new Promise<void>(r => (release = r))
  await setup({
    authenticate: users,
    rules: ownKeys,
    presenceAllowed: async (room, claims, s) => {
      expect(s).not.toBe(store) // the connection's own (rules) store
      if (room === 'slow') await gate
      if (room === 'boom') throw new StatecraftError('forbidden', 'not today')
      return room.startsWith('team/') || room === 'slow' || claims.user === 'admin'
    },
  })
  const a = await open('local', 'alice')
  const b = await open('ws', 'bob')
  const ja = await joined(a, 'team/x', 1) // no such key: presenceAllowed alone decides
  expect(await join(b, 'other')).toMatchObject({ type: 'error', error: { code: 'forbidden' } })
  expect(await join(b, 'boom')).toMatchObject({ type: 'error', error: { code: 'forbidden', message: 'not today' } })
  expect(await join(b, 'team/x')).toMatchObject({ type: 'presence', peers: [{ peer: ja.peer, state: 1 }] })

  // Pipelined: join (its check waits), then sets; the snapshot comes after the check, the last set is the state.
  a.send({ type: 'presence-join', id: 900, room: 'slow' })
  a.send({ type: 'presence-set', room: 'slow', state: 'first' })
  a.send({ type: 'presence-set', room: 'slow', state: 'second' })
  b.send({ type: 'presence-join', id: 901, room: 'slow' })
  b.send({ type: 'presence-leave', room: 'slow' })
  expect(await b.next(m => m.type === 'error' && m.id === 901)).toMatchObject({ error: { code: 'closed' } })
  release()
  expect(await a.next(m => m.type === 'presence' && m.id === 900)).toMatchObject({ peers: [] })
  const c = await open('local', 'carol')
  expect(await join(c, 'slow')).toMatchObject({ type: 'presence', peers: [{ peer: ja.peer, state: 'second' }] })
  await sleep(20)
  expect(b.received.filter(m => m.type === 'presence' && m.id === 901)).toEqual([])
})

test('welcome announces presence and its limits', async () => {
  await setup({ limits: { maxPresenceRooms: 7 } })
  const c = new RawClient(server.connectLocal())
  clients.push(c)
  const w = await c.hello()
  expect(w.capabilities).toContain('presence')
  expect(w.limits).toMatchObject({ maxPresenceRooms: 7, maxPresenceStateBytes: 4096, presenceIntervalMs: 30 })
})
