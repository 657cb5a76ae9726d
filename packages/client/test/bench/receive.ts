// The SDK's CPU cost per received update, without the network or a server in the timing: a reader's
// frames from a real in-process session are recorded, then replayed synchronously into fresh
// clients (each update: decode, remote store, the doc's subscription, processing, its subscriber).
// `pnpm exec tsx packages/client/test/bench/receive.ts [updates] [docs] [msgpack|json]`: docs > 1 spreads the
// updates over that many opened docs (many subscriptions on one client; at most ~990: the server's
// default limit is 1,000 subscriptions per connection).
import { memoryStore } from '@statecraft/core'
import { createServer } from '@statecraft/server'
import { createClient } from '@statecraft/client'
import { decode, type Encoding, type Frame, type Port } from '@statecraft/protocol'

const UPDATES = Number(process.argv[2] ?? 5000)
const DOCS = Number(process.argv[3] ?? 1)
const ENCODING = (process.argv[4] ?? 'msgpack') as Encoding
const keyOf = (i: number): string => `d/${i}`

const server = await createServer({ store: memoryStore(), log: () => {} })
const writer = createClient({ dial: () => server.connectLocal(), log: () => {}, compose: false })
for (let i = 0; i < DOCS; i++) void writer.doc(keyOf(i)).set({ n: -1 })
await writer.whenSynced()

/** A client whose every frame from the server is recorded; its doc subscribers are `open`'s. */
const frames: Frame[] = []
const open = (c: ReturnType<typeof createClient>, hit: () => void): void => {
  for (let i = 0; i < DOCS; i++) c.doc(keyOf(i)).subscribe(hit)
}
const reader = createClient({
  log: () => {},
  encoding: ENCODING,
  dial: () => {
    const p = server.connectLocal()
    let h: ((f: Frame) => void) | undefined
    Object.defineProperty(p, 'onframe', {
      get: () =>
        h === undefined
          ? undefined
          : (f: Frame) => {
              frames.push(f)
              h?.(f)
            },
      set: (x: ((f: Frame) => void) | undefined) => {
        h = x
      },
    })
    return p
  },
})
open(reader, () => {})
await reader.whenSynced()
const setup = frames.length
for (let i = 0; i < UPDATES; i++) void writer.doc(keyOf(i % DOCS)).set({ n: i })
await writer.whenSynced()
for (let w = 0; w < 100 && frames.length < setup + UPDATES; w++) await new Promise(r => setTimeout(r, 10))
await reader.close()
await writer.close()
await server.close()

/** A port that answers the hello and each subscribe with what the server said to them; the test pushes the rest. */
function replayPort(): { port: Port; push: (f: Frame) => void } {
  const port: Port = { bufferedAmount: 0, onframe: undefined, onclose: undefined, send: () => {}, close: () => {} }
  const answers = new Map<number | 'hello', Frame[]>()
  for (const f of frames.slice(0, setup)) {
    const m = decode(f) as { type: string; id?: number }
    const k = m.type === 'welcome' ? 'hello' : (m.id as number)
    answers.set(k, [...(answers.get(k) ?? []), f])
  }
  port.send = f => {
    const m = decode(f) as { type: string; id?: number }
    const got = answers.get(m.type === 'hello' ? 'hello' : (m.id as number))
    if (got !== undefined) queueMicrotask(() => {
      for (const a of got) port.onframe?.(a)
    })
  }
  return { port, push: f => port.onframe?.(f) }
}

const perUpdate: number[] = []
for (let round = 0; round < 20; round++) {
  const { port, push } = replayPort()
  let hits = 0
  const c = createClient({ log: () => {}, encoding: ENCODING, dial: () => port })
  open(c, () => hits++)
  await c.whenSynced()
  const t = performance.now()
  for (let i = setup; i < frames.length; i++) push(frames[i] as Frame)
  // A subscription that is iterated, not pushed, takes them in later microtasks.
  for (let spins = 0; hits < UPDATES && spins < 1e6; spins++) await Promise.resolve()
  const ms = performance.now() - t
  if (hits < UPDATES) throw new Error(`only ${hits} of ${UPDATES} updates reached the subscribers`)
  perUpdate.push((ms * 1000) / UPDATES)
  await c.close()
}
const warm = perUpdate.slice(6).sort((a, b) => a - b)
console.log(`${UPDATES} updates over ${DOCS} doc(s), ${ENCODING}: median ${(warm[warm.length >> 1] as number).toFixed(2)} µs per update (rounds: ${perUpdate.map(x => x.toFixed(2)).join(' ')})`)
