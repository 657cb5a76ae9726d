// A diagnostic, not part of the table: the CPU one delivery costs at fan-out, in the readers'
// process and in the server's, for one system at a time (no interleaving, so the per-process CPU
// times belong to that system alone). N subscribed readers in this process, a writer that sets a
// small doc, one write at a time, waiting until every reader has it and the process is idle.
//
//   pnpm --filter @statecraft/bench exec tsx src/delivery-cpu.ts statecraft|sharedb [readers=100] [writes=500]
//   BENCH_SERVER_PROF=/tmp/prof  … also writes the server's CPU profile (add node --cpu-prof for this process's)
//
// It prints CPU µs per delivery in each process and the wall time per write. The figure moves
// ±15% between runs on a shared machine: compare two builds by alternating them, several times.
import type { StatecraftClient } from '@statecraft/client'
import type { Connection } from 'sharedb/lib/client/index.js'
import { cb, sharedbConnection, sharedbOpen, statecraftClient } from './clients.ts'
import { startServer } from './servers.ts'
import { cpuMicros, settle } from './stats.ts'

interface Stamp {
  i: number
  t: number
}

const system = process.argv[2]
if (system !== 'statecraft' && system !== 'sharedb') throw new Error(`usage: delivery-cpu.ts statecraft|sharedb [readers] [writes]; got ${String(system)}`)
const readers = Number(process.argv[3] ?? 100)
const writes = Number(process.argv[4] ?? 500)
if (!Number.isSafeInteger(readers) || readers < 1 || !Number.isSafeInteger(writes) || writes < 1) throw new Error('readers and writes must be positive integers')

const server = await startServer(system)
let arrived = 0
let allArrived: () => void = () => {}
const seen = (): void => {
  if (++arrived === readers) allArrived()
}
const closers: (() => Promise<void> | void)[] = []
let write: (s: Stamp) => void
if (system === 'statecraft') {
  const writer = statecraftClient(server.url)
  const doc = writer.doc<Stamp>('delivery-cpu')
  await doc.set({ i: -1, t: 0 })
  closers.push(() => writer.close())
  for (let r = 0; r < readers; r++) {
    const c: StatecraftClient = statecraftClient(server.url)
    let first = true
    c.doc<Stamp>('delivery-cpu').subscribe(() => {
      // The first call is the doc as it stands; every later one is a delivery.
      if (first) first = false
      else seen()
    })
    await c.whenSynced()
    closers.push(() => c.close())
  }
  write = s => void doc.set(s)
} else {
  const wconn = await sharedbConnection(server.url)
  const doc = wconn.get('bench', 'delivery-cpu')
  await sharedbOpen(doc, { v: { i: -1, t: 0 } }, 'json0')
  closers.push(() => wconn.close())
  for (let r = 0; r < readers; r++) {
    const conn: Connection = await sharedbConnection(server.url)
    const d = conn.get('bench', 'delivery-cpu')
    d.on('op', seen)
    await cb(done => d.subscribe(done))
    closers.push(() => conn.close())
  }
  write = s => doc.submitOp([{ p: ['v'], od: (doc.data as { v: Stamp }).v, oi: s }])
}

async function run(count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    arrived = 0
    const done = new Promise<void>(resolve => (allArrived = resolve))
    write({ i, t: performance.now() })
    await done
    await settle()
  }
}

await run(Math.min(100, writes)) // warm-up
const cpu0 = cpuMicros()
const server0 = await server.cpu()
const t0 = performance.now()
await run(writes)
const wall = performance.now() - t0
const cpu = cpuMicros() - cpu0
const serverCpu = (await server.cpu()) - server0
const per = (us: number): string => (us / writes / readers).toFixed(2)
console.log(`${system}, ${readers} readers, ${writes} writes: CPU per delivery ${per(cpu)} µs in the readers' process, ${per(serverCpu)} µs in the server's; ${(wall / writes).toFixed(2)} ms per write`)
for (const c of closers) await c()
await server.stop()
