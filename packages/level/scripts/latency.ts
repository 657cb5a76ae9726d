// Not a test: the delay from `mutate()` to a subscriber's update (fan-out) and to `mutate`'s
// resolution, one writer, txns one at a time, as the server's fan-out sees it (push delivery via
// core's `listen`). Prints median, mean and p99 for levelStore, for the memory store, and for a bare
// classic-level batch of the same records (doc, op log record, seq, version) with the same `sync`.
// For the levelStore also its phases: plan (until the batch is handed to LevelDB), disk, publish.
//
// The subscriber watches every key written (a range); each txn writes one of `keys` docs in turn.
//
//   pnpm --filter @statecraft/level exec tsx scripts/latency.ts [txns=2000] [sync=1] [keys=1]
//
// Env: LATENCY_GAP_MS (idle ms between txns), LATENCY_ONLY (e.g. `level,raw`), LATENCY_STORE (the
// path of another build's index.ts, to compare two builds).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ClassicLevel } from 'classic-level'
import { listen, prefix, memoryStore, type Store, type Txn } from '@statecraft/core'
import { levelStore as currentLevelStore } from '@statecraft/level'

const n = Number(process.argv[2] ?? 2000)
const sync = process.argv[3] !== '0'
const nKeys = Math.max(1, Number(process.argv[4] ?? 1))
/** LATENCY_GAP_MS: idle time between txns (the fan-out bench waits until its process is idle after each write). */
const gapMs = Number(process.env.LATENCY_GAP_MS ?? 0)
const gap = (): Promise<void> => (gapMs > 0 ? new Promise(r => setTimeout(r, gapMs)) : Promise.resolve())
const keyOf = (i: number): string => (nKeys === 1 ? 'doc' : `doc/${(i * 7919) % nKeys}`)
const root = mkdtempSync(join(tmpdir(), 'statecraft-level-latency-'))

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] ?? NaN
}
const fmt = (xs: number[]): string => `median ${pct(xs, 50).toFixed(3)} ms, mean ${(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(3)} ms, p99 ${pct(xs, 99).toFixed(3)} ms`

/** Sequential txns as the server's clients send them: a set with base version, client seq and meta. */
async function storeLatency(name: string, s: Store): Promise<void> {
  const uid = s.info.uid
  let sent = 0
  let seen: () => void = () => {}
  const sub = s.subscribe(prefix('doc'))
  listen(sub, {
    update: u => {
      if (u.txns.length > 0) seen()
    },
    end: () => {},
  })
  // The level store's batch write (a private field), timed: mutate → batch call → batch done → update.
  const inner = s as unknown as { writeBatch?: (...a: unknown[]) => Promise<void> }
  const write = inner.writeBatch
  let tCall = 0
  let tDone = 0
  if (write !== undefined) {
    inner.writeBatch = (...a: unknown[]) => {
      tCall = performance.now()
      return write(...a).then(() => void (tDone = performance.now()))
    }
  }
  const db = write
  const phases: Record<'plan' | 'disk' | 'publish', number[]> = { plan: [], disk: [], publish: [] }
  let base = 0
  const fan: number[] = []
  const ack: number[] = []
  const warm = Math.min(200, n)
  for (let i = 0; i < n + warm; i++) {
    await gap()
    const txn: Txn = new Map([[keyOf(i), { type: 'set', value: { v: { i, t: Date.now() } } }]])
    const t0 = performance.now()
    let t1 = 0
    const arrived = new Promise<void>(r => (seen = () => ((t1 = performance.now()), r())))
    const p = s.mutate(txn, { baseVersions: { [uid]: base }, clientId: 'writer', seq: ++sent, meta: { c: 'writer', s: sent } })
    const v = await p
    const t2 = performance.now()
    await arrived
    base = v[uid] ?? base
    if (i >= warm) {
      fan.push(t1 - t0)
      ack.push(t2 - t0)
      if (db !== undefined) {
        phases.plan.push(tCall - t0)
        phases.disk.push(tDone - tCall)
        phases.publish.push(t1 - tDone)
      }
    }
  }
  sub.close()
  console.log(`${name.padEnd(12)} to update: ${fmt(fan)}; to resolve: ${fmt(ack)}`)
  if (db !== undefined) for (const [k, xs] of Object.entries(phases)) console.log(`  ${k.padEnd(10)} ${fmt(xs)}`)
}

/** The same records as one store txn, as a bare classic-level batch (the fsync floor). */
async function rawLatency(): Promise<void> {
  const db = new ClassicLevel<string, string>(join(root, 'raw'), { keyEncoding: 'utf8', valueEncoding: 'utf8' })
  await db.open()
  const xs: number[] = []
  const puts: number[] = []
  const warm = Math.min(200, n)
  for (let i = 0; i < n + warm; i++) {
    const v = JSON.stringify({ v: { i, t: Date.now() } })
    await gap()
    const t0 = performance.now()
    await db.batch(
      [
        { type: 'put', key: `D${keyOf(i)}`, value: v },
        { type: 'put', key: `L${String(i).padStart(8, '0')}`, value: `{"txn":[["doc",{"type":"set","value":${v}}]],"undo":[],"meta":{"c":"writer","s":${i}}}` },
        { type: 'put', key: `Swriter\0${String(i).padStart(8, '0')}`, value: String(i) },
        { type: 'put', key: 'Mversion', value: String(i) },
      ],
      { sync },
    )
    const t1 = performance.now()
    await gap()
    const t15 = performance.now()
    await db.put(`D${keyOf(i)}`, v, { sync })
    const t2 = performance.now()
    if (i >= warm) {
      xs.push(t1 - t0)
      puts.push(t2 - t15)
    }
  }
  await db.close()
  console.log(`${'raw batch'.padEnd(12)} ${fmt(xs)}`)
  console.log(`${'raw put'.padEnd(12)} ${fmt(puts)}`)
}

// LATENCY_STORE: another build of the store to compare (a path to its index.ts).
const levelStore = process.env.LATENCY_STORE === undefined ? currentLevelStore : ((await import(process.env.LATENCY_STORE)) as { levelStore: typeof currentLevelStore }).levelStore

try {
  console.log(`${n} sequential txns, sync ${sync}, ${nKeys} keys, ${gapMs} ms between txns`)
  const order = process.env.LATENCY_ONLY?.split(',') ?? ['level', 'raw', 'memory']
  for (const what of order) {
    if (what === 'level') {
      const s = levelStore(join(root, 'level'), { sync })
      await s.ready()
      await storeLatency('levelStore', s)
      await s.close()
    } else if (what === 'raw') await rawLatency()
    else if (what === 'memory') await storeLatency('memoryStore', memoryStore())
  }
} finally {
  rmSync(root, { recursive: true, force: true })
}
