// Section 3: the delay from a write on client A to its arrival at each of N subscribed clients
// (each its own WebSocket; all in this process, as in packages/server/bench). Statecraft: SDK
// clients, `db.doc(key).set(...)` and `doc.subscribe`; ShareDB: json0 replace of one field with
// `submitOp`, readers on `doc.on('op')`. Every delivery counts; writes go one at a time.
import type { StatecraftClient } from '@statecraft/client'
import type { Connection } from 'sharedb/lib/client/index.js'
import { sharedbConnection, sharedbOpen, statecraftClient, cb } from './clients.ts'
import { percentile } from './stats.ts'

export interface Delays {
  p50: number
  p99: number
  samples: number
}

interface Stamp {
  i: number
  t: number
}

async function inBatches<T>(n: number, make: (i: number) => Promise<T>, batch = 25): Promise<T[]> {
  const out: T[] = []
  for (let i = 0; i < n; i += batch) out.push(...(await Promise.all(Array.from({ length: Math.min(batch, n - i) }, (_, j) => make(i + j)))))
  return out
}

export async function fanout(system: 'statecraft' | 'sharedb', url: string, subscribers: number, writes: number, key: string): Promise<Delays> {
  const delays: number[] = []
  let expecting = -1
  let arrived = 0
  let allArrived: () => void = () => {}
  const seen = (v: Stamp | undefined): void => {
    if (v === undefined || v.i !== expecting) return
    delays.push(performance.now() - v.t)
    if (++arrived === subscribers) allArrived()
  }
  let write: (s: Stamp) => void
  let close: () => Promise<void>
  if (system === 'statecraft') {
    const writer = statecraftClient(url)
    const doc = writer.doc<Stamp>(key)
    await doc.set({ i: -1, t: 0 })
    const readers: StatecraftClient[] = await inBatches(subscribers, async () => {
      const c = statecraftClient(url)
      c.doc<Stamp>(key).subscribe(s => seen(s.value))
      await c.whenSynced()
      return c
    })
    write = s => void doc.set(s)
    close = async () => {
      await writer.close()
      await Promise.all(readers.map(r => r.close()))
    }
  } else {
    const wconn = await sharedbConnection(url)
    const doc = wconn.get('bench', key)
    await sharedbOpen(doc, { v: { i: -1, t: 0 } }, 'json0')
    const readers: Connection[] = await inBatches(subscribers, async () => {
      const conn = await sharedbConnection(url)
      const d = conn.get('bench', key)
      d.on('op', () => seen((d.data as { v: Stamp }).v))
      await cb(done => d.subscribe(done))
      return conn
    })
    write = s => doc.submitOp([{ p: ['v'], od: (doc.data as { v: Stamp }).v, oi: s }])
    close = async () => {
      wconn.close()
      for (const r of readers) r.close()
    }
  }
  try {
    await new Promise(r => setTimeout(r, 100))
    const warmup = 20
    for (let i = 0; i < writes + warmup; i++) {
      if (i === warmup) delays.length = 0
      expecting = i
      arrived = 0
      const done = new Promise<void>(r => (allArrived = r))
      write({ i, t: performance.now() })
      await done
    }
  } finally {
    await close()
  }
  return { p50: percentile(delays, 50), p99: percentile(delays, 99), samples: delays.length }
}
