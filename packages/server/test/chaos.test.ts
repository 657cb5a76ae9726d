// Chaos: during bursts of writes and new subscriptions, connections are killed at random points,
// from the server side and from the client side, 50 times per transport. Afterwards every
// acknowledged write is on the server exactly once, and every subscriber holds exactly the
// server's state, having seen each txn once, in order. Seeded (replay with STATECRAFT_SEED=…).
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import type { Socket } from 'node:net'
import { isDeepStrictEqual } from 'node:util'
import { expect, test } from 'vitest'
import { WebSocket } from 'ws'
import { applyUpdate, keys, memoryStore, prefix, range, type Key, type Query, type Store, type Value, type Versions } from '@statecraft/core'
import { connect, type RemoteStore, type WebSocketConstructor } from '@statecraft/client'
import { pair, type LocalPort } from '@statecraft/protocol'
import { createServer, type StatecraftServer } from '@statecraft/server'
import { chooseSeed, withSeed, type Rng } from '@statecraft/test-kit'

const ROUNDS = 50
const WRITERS = 2
const WRITES = 24
const sleep = (ms: number): Promise<void> => new Promise(r => setTimeout(r, ms))

/** A subscriber's view, checked as it goes: versions only move forward, each txn once. */
class Watcher {
  readonly view = new Map<Key, Value>()
  last: Versions | undefined
  error: unknown
  readonly done: Promise<void>

  constructor(
    readonly store: Store,
    readonly query: Query,
    readonly contiguous: boolean,
  ) {
    const sub = store.subscribe(query)
    this.done = (async () => {
      try {
        for await (const u of sub) {
          const prev = this.last?.s
          for (const rec of u.txns) {
            const v = rec.versions.s as number
            if (prev !== undefined && u.replace === undefined && v <= prev) throw new Error(`txn ${v} again after ${prev}`)
            if (this.contiguous && prev !== undefined && u.replace === undefined && v !== (this.last?.s ?? 0) + 1) throw new Error(`gap: txn ${v} after ${this.last?.s}`)
            this.last = rec.versions
          }
          applyUpdate(this.view, u)
          this.last = u.versions
        }
      } catch (e) {
        this.error = e
      }
    })()
    this.close = () => sub.close()
  }

  readonly close: () => void
}

interface Killers {
  /** Cuts one live connection from the server's side; false when none. */
  server(r: Rng): boolean
  client(r: Rng): boolean
}

interface Rig {
  server: StatecraftServer
  dial(): Promise<RemoteStore>
  killers: Killers
  close(): Promise<void>
}

async function wsRig(store: Store): Promise<Rig> {
  const serverSockets = new Set<Socket>()
  const clientSockets = new Set<WebSocket>()
  const http: HttpServer = createHttpServer()
  http.on('connection', s => {
    serverSockets.add(s)
    s.on('close', () => serverSockets.delete(s))
  })
  await new Promise<void>(r => http.listen(0, '127.0.0.1', r))
  const server = await createServer({ store, server: http, path: '/sync', log: () => {} })
  class Tracked extends WebSocket {
    constructor(url: string) {
      super(url)
      clientSockets.add(this)
      this.on('close', () => clientSockets.delete(this))
    }
  }
  const pick = <T>(r: Rng, s: Set<T>): T | undefined => (s.size === 0 ? undefined : [...s][r.int(s.size)])
  return {
    server,
    dial: () => connect(server.url, { WebSocket: Tracked as unknown as WebSocketConstructor, reconnect: { minDelayMs: 2, maxDelayMs: 40 }, log: () => {} }),
    killers: {
      server: r => {
        const s = pick(r, serverSockets)
        s?.destroy()
        return s !== undefined
      },
      client: r => {
        const ws = pick(r, clientSockets)
        ws?.terminate()
        return ws !== undefined
      },
    },
    close: async () => {
      await server.close()
      for (const s of serverSockets) s.destroy()
      await new Promise<void>(r => http.close(() => r()))
    },
  }
}

async function localRig(store: Store): Promise<Rig> {
  const server = await createServer({ store, log: () => {} })
  const ends: [LocalPort, LocalPort][] = []
  const live = (r: Rng, side: 0 | 1): boolean => {
    const open = ends.filter(e => !e[side].closed)
    if (open.length === 0) return false
    r.pick(open)[side].terminate()
    return true
  }
  return {
    server,
    dial: () =>
      connect(
        () => {
          const [c, s] = pair()
          ends.push([c, s])
          server.backend.accept(s)
          return c
        },
        { reconnect: { minDelayMs: 1, maxDelayMs: 20 }, log: () => {} },
      ),
    killers: { server: r => live(r, 1), client: r => live(r, 0) },
    close: () => server.close(),
  }
}

async function eventually(what: string, ok: () => boolean | Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

async function round(r: Rng, makeRig: (s: Store) => Promise<Rig>): Promise<number> {
  const store = memoryStore({ uid: 's' })
  const rig = await makeRig(store)
  let kills = 0
  const clients: RemoteStore[] = []
  const watchers: Watcher[] = []
  try {
    for (let i = 0; i < WRITERS + 2; i++) clients.push(await rig.dial())
    const queries: [Query, boolean][] = [
      [prefix(''), true],
      [prefix('k/'), false],
      [keys('log/0', 'k/1/0', 'nothing'), false],
      [range({ prefix: 'k/', limit: 3, reverse: r.next() < 0.5 }), false],
    ]
    const watch = (): void => {
      const [q, contiguous] = r.pick(queries)
      watchers.push(new Watcher(r.pick(clients), q, contiguous))
    }
    watch()

    // The burst: each writer pipelines its writes a few at a time.
    const writes: Promise<Versions>[] = []
    const writer = async (w: number): Promise<void> => {
      const c = clients[w] as RemoteStore
      for (let i = 0; i < WRITES; ) {
        const batch: Promise<Versions>[] = []
        for (let n = 1 + r.int(4); n > 0 && i < WRITES; n--, i++) {
          const txn = new Map([
            [`log/${w}`, { type: 'text' as const, op: [`${i},`] }],
            [`k/${w}/${i % 5}`, { type: 'set' as const, value: { w, i } }],
          ])
          batch.push(c.mutate(txn))
        }
        writes.push(...batch)
        await Promise.all(batch)
      }
    }
    // Chaos: new subscriptions and kills at random moments while the writers run.
    let writing = true
    const chaos = (async () => {
      while (writing) {
        await sleep(r.int(6))
        const what = r.int(10)
        if (what < 3) watch()
        else if (what < 6) kills += rig.killers.server(r) ? 1 : 0
        else if (what < 9) kills += rig.killers.client(r) ? 1 : 0
      }
    })()
    // At least one kill lands mid-burst.
    setTimeout(() => {
      kills += (r.next() < 0.5 ? rig.killers.server(r) : rig.killers.client(r)) ? 1 : 0
    }, r.int(4))
    await Promise.all(Array.from({ length: WRITERS }, (_, w) => writer(w)))
    writing = false
    await chaos
    await Promise.all(writes)

    // Every acknowledged write is on the server exactly once: one version each, one token each.
    const all = await store.fetch(prefix(''))
    expect(all.versions).toEqual({ s: WRITERS * WRITES })
    for (let w = 0; w < WRITERS; w++) {
      const tokens = (all.results.get(`log/${w}`) as string).split(',').filter(t => t !== '').map(Number).sort((a, b) => a - b)
      expect(tokens).toEqual(Array.from({ length: WRITES }, (_, i) => i))
    }
    // Every subscriber ends with exactly the server's state.
    // (A subscriber hears only of txns its query sees, so it is done when its view is the server's.)
    for (const wt of watchers) {
      const want = (await store.fetch(wt.query)).results
      await eventually(`a subscriber of ${JSON.stringify(wt.query)} to catch up (at ${JSON.stringify(wt.last)})`, () => wt.error !== undefined || isDeepStrictEqual(wt.view, want))
      expect(wt.error).toBeUndefined()
      expect(wt.view).toEqual(want)
      if (wt.contiguous) expect(wt.last).toEqual({ s: WRITERS * WRITES })
    }
    return kills
  } finally {
    for (const w of watchers) w.close()
    for (const c of clients) await c.close()
    await rig.close()
    await store.close()
  }
}

test.each([
  ['WebSocket', wsRig],
  ['in-process', localRig],
] as const)('%s: 50 rounds of killed connections lose no write, apply none twice, leave every subscriber right', async (_name, rig) => {
  const seed = chooseSeed()
  await withSeed(seed, async r => {
    let kills = 0
    for (let i = 0; i < ROUNDS; i++) kills += await round(r, rig)
    expect(kills).toBeGreaterThanOrEqual(ROUNDS)
  })
}, 60_000)
