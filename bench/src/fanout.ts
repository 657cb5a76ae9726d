// Section 3: the delay from a write on client A to its arrival at each of N subscribed clients
// (each its own WebSocket; all in this process, as in packages/server/bench). Statecraft: SDK
// clients, `db.doc(key).set(...)` and `doc.subscribe`; ShareDB: json0 replace of one field with
// `submitOp`, readers on `doc.on('op')`. Every delivery counts; writes go one at a time.
//
// Both systems are set up side by side and their writes alternate (Statecraft write i, ShareDB
// write i, then the next, the order flipping every write), so that the machine's load at any
// moment falls on both alike; after each write the bench waits until its process is idle
// (`settle`), so that what one system's clients do after a delivery is not timed as the other's.
import type { StatecraftClient } from '@statecraft/client'
import type { Connection } from 'sharedb/lib/client/index.js'
import { sharedbConnection, sharedbOpen, statecraftClient, cb } from './clients.ts'
import { percentile, settle } from './stats.ts'

export type FanoutSystem = 'statecraft' | 'sharedb'

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

/** One system's writer and subscribers: `send(i)` resolves once write i reached every subscriber. */
interface Side {
  delays: number[]
  send(i: number): Promise<void>
  close(): Promise<void>
}

async function openSide(system: FanoutSystem, url: string, subscribers: number, key: string): Promise<Side> {
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
  return {
    delays,
    send: i => {
      expecting = i
      arrived = 0
      const done = new Promise<void>(r => (allArrived = r))
      write({ i, t: performance.now() })
      return done
    },
    close,
  }
}

/** One run: `writes` writes on each system (after 20 warm-up writes each), alternating between them. */
export async function fanout(urls: Record<FanoutSystem, string>, subscribers: number, writes: number, key: string): Promise<Record<FanoutSystem, Delays>> {
  const sides: Partial<Record<FanoutSystem, Side>> = {}
  try {
    sides.statecraft = await openSide('statecraft', urls.statecraft, subscribers, key)
    sides.sharedb = await openSide('sharedb', urls.sharedb, subscribers, key)
    const both = [sides.statecraft, sides.sharedb]
    await new Promise(r => setTimeout(r, 100))
    const warmup = 20
    for (let i = 0; i < writes + warmup; i++) {
      if (i === warmup) for (const s of both) s.delays.length = 0
      for (const s of i % 2 === 0 ? both : [...both].reverse()) {
        await s.send(i)
        await settle()
      }
    }
    const delays = (s: Side): Delays => ({ p50: percentile(s.delays, 50), p99: percentile(s.delays, 99), samples: s.delays.length })
    return { statecraft: delays(sides.statecraft), sharedb: delays(sides.sharedb) }
  } finally {
    await sides.statecraft?.close()
    await sides.sharedb?.close()
  }
}
