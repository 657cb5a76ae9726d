// `pnpm bench` for @statecraft/server and @statecraft/client. Not a test: prints figures, and
// ratios against baselines measured in the same run.
//
// 1. Frame codecs: encode + decode of a typical mutate and update, MessagePack against JSON.
// 2. Write round-trips/s for one client, sequential (await each) and pipelined (the client keeps
//    up to the server's in-flight limit out): on the memory store directly, with the same
//    {clientId, seq} the remote store sends (baseline), over the
//    in-process transport, and over WebSocket on 127.0.0.1 to a server in another process
//    (MessagePack frames, then JSON frames).
// 3. Fan-out delay: client A writes; the time until the write reaches each of 1, 10 and 100
//    subscribed clients (each its own WebSocket), median and p99 over every delivery.
//
// Options (env): BENCH_SECONDS (per throughput figure, default 2), BENCH_WRITES (fan-out writes, default 200).
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { keys, memoryStore, type Store, type Txn } from '@statecraft/core'
import { connect, type RemoteStore } from '@statecraft/client'
import { decodeClientFrame, decodeServerFrame, encode, updateToWire, type Encoding } from '@statecraft/protocol'
import { createServer } from '../src/index.ts'

const seconds = Number(process.env.BENCH_SECONDS ?? 2)
const fanoutWrites = Number(process.env.BENCH_WRITES ?? 200)
const fmt = (n: number): string => Math.round(n).toLocaleString('en-US')
const ms = (n: number): string => `${n.toFixed(2)} ms`
const ratio = (a: number, b: number): string => `${(a / b).toFixed(2)}×`

const txnOf = (i: number): Txn => new Map([[`bench/${i % 1000}`, { type: 'set', value: { i, title: `item ${i}`, done: i % 2 === 0, tags: ['a', 'b'] } }]])

// ---- 1. codecs

function codecs(): void {
  const mutate = { type: 'mutate', id: 12345, txn: [...txnOf(7)], clientId: 'c3a1f0e2-8f5b-4a1e-9a1e-2f5b4a1e9a1e', seq: 99 }
  const update = updateToWire(7, { txns: [{ versions: { abc: 5 }, txn: txnOf(7) }], versions: { abc: 5 }, caughtUp: true })
  const rate = (f: () => void): number => {
    for (let i = 0; i < 5000; i++) f()
    let n = 0
    const until = performance.now() + 500
    const start = performance.now()
    while (performance.now() < until) for (let i = 0; i < 1000; i++, n++) f()
    return n / ((performance.now() - start) / 1000)
  }
  console.log('\nframe codecs (encode + decode + validate, messages/s)')
  const r: Record<Encoding, [number, number]> = { json: [0, 0], msgpack: [0, 0] }
  for (const enc of ['json', 'msgpack'] as const) {
    r[enc] = [rate(() => decodeClientFrame(encode(mutate, enc))), rate(() => decodeServerFrame(encode(update, enc)))]
  }
  console.log(`  mutate   json ${fmt(r.json[0])}   msgpack ${fmt(r.msgpack[0])}   (${ratio(r.msgpack[0], r.json[0])})`)
  console.log(`  update   json ${fmt(r.json[1])}   msgpack ${fmt(r.msgpack[1])}   (${ratio(r.msgpack[1], r.json[1])})`)
}

// ---- 2. write round-trips

async function sequential(s: Store): Promise<number> {
  let i = 0
  const start = performance.now()
  const until = start + seconds * 1000
  while (performance.now() < until) for (let j = 0; j < 50; j++) await s.mutate(txnOf(i++))
  return i / ((performance.now() - start) / 1000)
}

async function pipelined(s: Store): Promise<number> {
  let i = 0
  const start = performance.now()
  const until = start + seconds * 1000
  while (performance.now() < until) {
    const batch: Promise<unknown>[] = []
    for (let j = 0; j < 2000; j++) batch.push(s.mutate(txnOf(i++)))
    await Promise.all(batch)
  }
  return i / ((performance.now() - start) / 1000)
}

async function startServerProcess(): Promise<{ url: string; stop: () => void }> {
  const child = fork(fileURLToPath(new URL('./server-process.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  const url = await new Promise<string>((resolve, reject) => {
    child.once('message', m => resolve((m as { url: string }).url))
    child.once('exit', code => reject(new Error(`the server process exited (${code})`)))
  })
  return { url, stop: () => child.disconnect() }
}

async function writes(url: string): Promise<void> {
  console.log(`\nwrite round-trips/s, one client (${seconds} s each; ratio against the memory store called directly)`)
  const rows: [string, () => Promise<{ store: Store; done: () => Promise<void> }>][] = [
    ['memory store, direct (baseline)', async () => {
      // With {clientId, seq} on every write, as the remote store sends them.
      const inner = memoryStore()
      let seq = 0
      const store: Store = {
        info: inner.info,
        fetch: (q, o) => inner.fetch(q, o),
        getOps: (q, f, t, o) => inner.getOps(q, f, t, o),
        subscribe: (q, o) => inner.subscribe(q, o),
        mutate: (txn, o) => inner.mutate(txn, { ...o, clientId: 'bench', seq: ++seq }),
        close: () => inner.close(),
      }
      return { store, done: () => inner.close() }
    }],
    ['in-process transport', async () => {
      const inner = memoryStore()
      const server = await createServer({ store: inner, log: () => {} })
      const store = await connect(() => server.connectLocal())
      return { store, done: async () => { await store.close(); await server.close(); await inner.close() } }
    }],
    ['WebSocket, msgpack (server process)', async () => {
      const store = await connect(url)
      return { store, done: () => store.close() }
    }],
    ['WebSocket, json (server process)', async () => {
      const store = await connect(url, { encoding: 'json' })
      return { store, done: () => store.close() }
    }],
  ]
  let base: [number, number] | undefined
  for (const [name, make] of rows) {
    const { store, done } = await make()
    await sequential(store) // warm up
    const seq = await sequential(store)
    const pipe = await pipelined(store)
    await done()
    base ??= [seq, pipe]
    console.log(`  ${name.padEnd(38)} sequential ${fmt(seq).padStart(9)} (${ratio(seq, base[0])})   pipelined ${fmt(pipe).padStart(9)} (${ratio(pipe, base[1])})`)
  }
}

// ---- 3. fan-out delay

const percentile = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN
}

async function fanout(url: string, subscribers: number): Promise<[number, number]> {
  const key = `fanout/${subscribers}`
  const writer = await connect(url)
  const readers: RemoteStore[] = await Promise.all(Array.from({ length: subscribers }, () => connect(url)))
  const delays: number[] = []
  let expecting = -1
  let arrived = 0
  let allArrived: () => void = () => {}
  const loops = readers.map(async r => {
    for await (const u of r.subscribe(keys(key))) {
      for (const rec of u.txns) {
        const op = rec.txn.get(key)
        if (op?.type !== 'set') continue
        const { i, t } = op.value as { i: number; t: number }
        if (i !== expecting) continue
        delays.push(performance.now() - t)
        if (++arrived === subscribers) allArrived()
      }
    }
  })
  // Every reader has its first update (the subscription is live) before writes start.
  await Promise.all(readers.map(r => r.fetch(keys(key))))
  await new Promise(r => setTimeout(r, 100))
  const warmup = 20
  for (let i = 0; i < fanoutWrites + warmup; i++) {
    if (i === warmup) delays.length = 0
    expecting = i
    arrived = 0
    const done = new Promise<void>(r => (allArrived = r))
    await writer.mutate(new Map([[key, { type: 'set', value: { i, t: performance.now() } }]]))
    await done
  }
  await writer.close()
  await Promise.all(readers.map(r => r.close()))
  await Promise.all(loops)
  return [percentile(delays, 50), percentile(delays, 99)]
}

async function directFanout(subscribers: number): Promise<[number, number]> {
  const store = memoryStore()
  const delays: number[] = []
  let arrived = 0
  let allArrived: () => void = () => {}
  const subs = Array.from({ length: subscribers }, () => store.subscribe(keys('k')))
  const loops = subs.map(async sub => {
    for await (const u of sub) {
      for (const rec of u.txns) {
        const op = rec.txn.get('k')
        if (op?.type !== 'set') continue
        delays.push(performance.now() - (op.value as { t: number }).t)
        if (++arrived === subscribers) allArrived()
      }
    }
  })
  for (let i = 0; i < fanoutWrites; i++) {
    arrived = 0
    const done = new Promise<void>(r => (allArrived = r))
    await store.mutate(new Map([['k', { type: 'set', value: { t: performance.now() } }]]))
    await done
  }
  await store.close()
  await Promise.all(loops)
  return [percentile(delays, 50), percentile(delays, 99)]
}

async function fanouts(url: string): Promise<void> {
  console.log(`\nwrite on client A → arrival at each subscribed client, WebSocket to a server process (${fanoutWrites} writes; every delivery counted)`)
  for (const n of [1, 10, 100]) {
    const [base50, base99] = await directFanout(n)
    const [p50, p99] = await fanout(url, n)
    console.log(`  ${String(n).padStart(3)} subscriber${n === 1 ? ' ' : 's'}   median ${ms(p50).padStart(9)}   p99 ${ms(p99).padStart(9)}   (memory store direct: median ${ms(base50)}, p99 ${ms(base99)})`)
  }
}

const server = await startServerProcess()
try {
  console.log(`@statecraft/server bench — Node ${process.version}, ${(await import('node:os')).cpus().length} cores; server in a child process at ${server.url}`)
  codecs()
  await writes(server.url)
  await fanouts(server.url)
} finally {
  server.stop()
}
