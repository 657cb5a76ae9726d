// A seeded convergence fuzz for offline-first clients: 3–5 replicas over a simulated network that
// delays frames (in order within a connection, in any order across connections), cuts connections,
// takes clients offline and restarts them from their persisted cache, while each makes random json1
// and text edits on a few keys. At the end every client must show exactly the server's state.
// The client and server under test come from the caller (test-kit depends on core only).
import { applyOp, keys as keysQuery, valuesEqual } from '@statecraft/core'
import type { Json, Key, Op, Store, Value } from '@statecraft/core'
import { rng, withSeed, type Rng } from './random.ts'

/** The part of a message Port the simulated network needs (structurally @statecraft/protocol's Port). */
export interface FuzzPort {
  send(frame: string | Uint8Array): void
  close(code?: number, reason?: string): void
  readonly bufferedAmount: number
  onframe: ((frame: string | Uint8Array) => void) | undefined
  onclose: ((code: number, reason: string) => void) | undefined
}
export type FuzzDial = () => FuzzPort | Promise<FuzzPort>

/** A client under test, as the fuzz drives it. */
export interface FuzzClient {
  /** The client's local value of `key` (server state + its pending writes). */
  value(key: Key): Value | undefined
  /**
   * A local write (applied at once). The server may refuse it (a conflict); if a promise is returned
   * it must settle — resolve or reject — by the end (no write left hanging).
   */
  write(key: Key, op: Op): Promise<unknown> | void
  goOffline(): void
  goOnline(): void
  whenSynced(): Promise<void>
  close(): Promise<void>
  /** Optional: the client's internal state of `key`, printed when it did not converge. */
  describe?(key: Key): string
}

export interface FuzzWorld {
  /** The server's store, read at the end. */
  store: Store
  /** A dial to the server (in-process transport). */
  dial: FuzzDial
  /** Client `i` over `dial`; `restart` = the same persisted cache as client `i`'s previous instance. */
  client(i: number, dial: FuzzDial, restart: boolean): FuzzClient | Promise<FuzzClient>
  close(): Promise<void>
}

export interface ConvergenceFuzzOptions {
  /** Builds the server and the client factory for one seed (`historyLimit` is chosen by the fuzz). */
  makeWorld(o: { historyLimit: number }): Promise<FuzzWorld>
  /** Random steps per run. Default 60. */
  steps?: number
  /** How long the final state may take to settle, ms. Default 5000. */
  settleMs?: number
}

const TEXT_KEYS = ['t/a', 't/b']
const JSON_KEYS = ['j/a', 'j/b']
const ALPHABET = 'abcdefgh é中'

const hop = (): Promise<void> =>
  new Promise(resolve => {
    const si = (globalThis as { setImmediate?: (f: () => void) => void }).setImmediate
    const done = (): void => resolve()
    let fired = false
    const once = (): void => {
      if (fired) return
      fired = true
      done()
    }
    if (si !== undefined) si(once)
    else setTimeout(once, 0)
  })

async function hops(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await hop()
}

/** A network link per client: frames are delayed a random number of event-loop turns, in order; `cut()` drops the link and what is in flight. */
export class SimulatedNetwork {
  private links = new Set<{ cut(): void; describe(): string }>()
  constructor(
    private readonly inner: FuzzDial,
    private readonly r: Rng,
  ) {}

  readonly dial: FuzzDial = async () => {
    const inner = await this.inner()
    const r = this.r
    let dead = false
    const queues: { up: (string | Uint8Array)[]; down: (string | Uint8Array)[] } = { up: [], down: [] }
    const busy = { up: false, down: false }
    const where = { up: '', down: '' }
    const outer: FuzzPort = {
      onframe: undefined,
      onclose: undefined,
      get bufferedAmount() {
        return inner.bufferedAmount
      },
      send(f) {
        if (dead) return
        queues.up.push(f)
        drain('up')
      },
      close(code = 1000, reason = '') {
        if (dead) return
        dead = true
        links.delete(link)
        inner.close(code, reason)
        void hop().then(() => outer.onclose?.(code, reason))
      },
    }
    const drain = (dir: 'up' | 'down'): void => {
      if (busy[dir]) return
      busy[dir] = true
      void (async () => {
        try {
          while (!dead && queues[dir].length > 0) {
            where[dir] = 'hops'
            await hops(r.int(4))
            where[dir] = 'after'
            if (dead) break
            const f = queues[dir].shift() as string | Uint8Array
            if (dir === 'up') inner.send(f)
            else outer.onframe?.(f)
          }
        } catch (e) {
          console.error('SIMNET', e)
        } finally {
          busy[dir] = false
        }
      })()
    }
    inner.onframe = f => {
      if (dead) return
      queues.down.push(f)
      drain('down')
    }
    inner.onclose = (code, reason) => {
      if (dead) return
      // Deliver what arrived before the close, then report it.
      void (async () => {
        while (queues.down.length > 0 && !dead) await hops(1)
        if (dead) return
        dead = true
        links.delete(link)
        outer.onclose?.(code, reason)
      })()
    }
    const links = this.links
    const link = {
      describe: () => `up=${queues.up.length}${busy.up ? '(busy)' : ''}${where.up} down=${queues.down.length}${busy.down ? '(busy)' : ''}${where.down} dead=${dead}`,
      cut: () => {
        if (dead) return
        dead = true
        links.delete(link)
        queues.up = []
        queues.down = []
        inner.close(1006, 'cut')
        // Reported a turn later, as a socket would (the owner may not have attached its handler yet).
        void hop().then(() => outer.onclose?.(1006, 'cut'))
      },
    }
    links.add(link)
    return outer
  }

  describe(): string {
    return [...this.links].map(l => l.describe()).join('; ')
  }

  /** Cuts every open link (frames in flight are lost). */
  cut(): void {
    for (const l of Array.from(this.links)) l.cut()
  }
}

function randomText(r: Rng, n: number): string {
  let s = ''
  for (let i = 0; i < n; i++) s += ALPHABET[r.int(ALPHABET.length)]
  return s
}

const cpLen = (s: string): number => Array.from(s).length

function textEdit(r: Rng, v: Value | undefined): Op {
  const s = typeof v === 'string' ? v : ''
  const len = cpLen(s)
  if (len > 0 && r.next() < 0.4) {
    const pos = r.int(len)
    const n = 1 + r.int(Math.min(5, len - pos))
    return { type: 'text', op: pos === 0 ? [{ d: n }] : [pos, { d: n }] }
  }
  const pos = r.int(len + 1)
  const ins = randomText(r, 1 + r.int(4))
  return { type: 'text', op: pos === 0 ? [ins] : [pos, ins] }
}

/** A random json1 edit of a doc shaped `{ n, s, l: [...], o: {...} }` (or a whole-value set, rarely). */
function jsonEdit(r: Rng, v: Value | undefined): Op {
  const doc = (v === undefined || typeof v !== 'object' || v === null || Array.isArray(v) || v instanceof Uint8Array ? undefined : v) as
    | Record<string, Json>
    | undefined
  if (doc === undefined) {
    const init = { n: r.int(10), s: randomText(r, 3), l: [1, 2], o: {} }
    return r.next() < 0.3 ? { type: 'set', value: init } : { type: 'json1', op: [{ i: init }] as never }
  }
  if (r.next() < 0.03) return { type: 'set', value: { n: -1, s: 'reset', l: [], o: {} } }
  if (r.next() < 0.02) return r.next() < 0.5 ? { type: 'del' } : { type: 'json1', op: [{ r: true }] as never }
  const c = r.int(6)
  if (c === 0) return { type: 'json1', op: ['n', 'n' in doc ? { r: true, i: r.int(100) } : { i: r.int(100) }] as never }
  if (c === 1 && typeof doc.s === 'string') {
    const len = cpLen(doc.s)
    const pos = r.int(len + 1)
    const es = len > 0 && r.next() < 0.3 ? (pos >= len ? [{ d: 1 }] : pos === 0 ? [{ d: 1 }] : [pos, { d: 1 }]) : pos === 0 ? [randomText(r, 2)] : [pos, randomText(r, 2)]
    return { type: 'json1', op: ['s', { es }] as never }
  }
  if (c === 2 && Array.isArray(doc.l)) {
    const len = doc.l.length
    if (len > 0 && r.next() < 0.4) return { type: 'json1', op: ['l', r.int(len), { r: true }] as never }
    return { type: 'json1', op: ['l', r.int(len + 1), { i: r.int(1000) }] as never }
  }
  if (c === 3 && typeof doc.o === 'object' && doc.o !== null && !Array.isArray(doc.o)) {
    const k = 'k' + String(r.int(4))
    const has = k in doc.o
    if (has && r.next() < 0.4) return { type: 'json1', op: ['o', k, { r: true }] as never }
    return { type: 'json1', op: ['o', k, has ? { r: true, i: r.int(50) } : { i: r.int(50) }] as never }
  }
  if (c === 4 && 's' in doc) return { type: 'json1', op: ['s', { r: true, i: randomText(r, 4) }] as never }
  return { type: 'json1', op: ['n', 'n' in doc ? { r: true, i: r.int(100) } : { i: r.int(100) }] as never }
}

/** One run of the convergence fuzz with `seed`. A failure's message names the seed to replay it with. */
export async function runConvergenceFuzz(seed: number, opts: ConvergenceFuzzOptions): Promise<void> {
  await withSeed(seed, async r => {
    const historyLimit = r.next() < 0.3 ? 3 + r.int(5) : 1000
    const world = await opts.makeWorld({ historyLimit })
    const n = 3 + r.int(3)
    const nets: SimulatedNetwork[] = []
    const clients: FuzzClient[] = []
    const offline: boolean[] = []
    const writes: { settled: boolean; what: string }[] = []
    try {
      for (let i = 0; i < n; i++) {
        nets.push(new SimulatedNetwork(world.dial, rng(seed * 31 + i)))
        clients.push(await world.client(i, (nets[i] as SimulatedNetwork).dial, false))
        offline.push(false)
      }
      const steps = opts.steps ?? 60
      for (let step = 0; step < steps; step++) {
        const i = r.int(n)
        const c = clients[i] as FuzzClient
        const x = r.next()
        if (x < 0.62) {
          const key = r.next() < 0.5 ? r.pick(TEXT_KEYS) : r.pick(JSON_KEYS)
          const v = c.value(key)
          const op = key.startsWith('t/') ? textEdit(r, v) : jsonEdit(r, v)
          // An op that does not fit the local value (it can, after a rollback) is skipped.
          try {
            applyOp(v, op)
          } catch {
            continue
          }
          const p = c.write(key, op)
          if (p !== undefined) {
            const w = { settled: false, what: `client ${i} ${key} ${JSON.stringify(op)}` }
            writes.push(w)
            p.then(
              () => (w.settled = true),
              () => (w.settled = true),
            )
          }
        } else if (x < 0.8) {
          await hops(r.int(6))
        } else if (x < 0.88) {
          if (offline[i] === true) c.goOnline()
          else c.goOffline()
          offline[i] = !offline[i]
        } else if (x < 0.94) {
          ;(nets[i] as SimulatedNetwork).cut()
        } else {
          await c.close()
          clients[i] = await world.client(i, (nets[i] as SimulatedNetwork).dial, true)
          if (offline[i] === true) (clients[i] as FuzzClient).goOffline()
        }
      }
      for (let i = 0; i < n; i++) if (offline[i] === true) (clients[i] as FuzzClient).goOnline()
      const allKeys = [...TEXT_KEYS, ...JSON_KEYS]
      const deadline = Date.now() + (opts.settleMs ?? 5000)
      for (;;) {
        await Promise.all(clients.map(c => c.whenSynced()))
        const server = (await world.store.fetch(keysQuery(...allKeys))).results
        const diffs: string[] = []
        clients.forEach((c, i) => {
          for (const k of allKeys) {
            if (!valuesEqual(c.value(k), server.get(k))) {
              diffs.push(`client ${i} ${k}: ${JSON.stringify(c.value(k))} but the server has ${JSON.stringify(server.get(k))}${c.describe === undefined ? '' : '\n  ' + c.describe(k)}`)
            }
          }
        })
        const hanging = writes.filter(w => !w.settled)
        if (diffs.length === 0 && hanging.length === 0) break
        if (diffs.length === 0 && Date.now() > deadline) throw new Error(`${hanging.length} writes never settled, e.g. ${hanging[0]?.what ?? ''}`)
        if (Date.now() > deadline) throw new Error(`clients did not converge:\n${diffs.join('\n')}\nnetwork: ${nets.map(x => x.describe()).join(' | ')}`)
        await hops(5)
      }
    } finally {
      for (const c of clients) await c.close().catch(() => {})
      await world.close()
    }
  })
}
