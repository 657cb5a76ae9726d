// Section 3: the delay from a write on client A to its arrival at each of N subscribed clients
// (each its own WebSocket; all in this process, as in packages/server/bench). Statecraft: SDK
// clients, `db.doc(key).set(...)` and `doc.subscribe`; ShareDB: json0 replace of one field with
// `submitOp`, readers on `doc.on('op')`. Every delivery counts; writes go one at a time.
//
// Every side (a system on a server: Statecraft on LevelDB, Statecraft on its memory store, ShareDB)
// is set up at once and their writes alternate (write i on each side, then the next, the order
// reversed every other write), so that the machine's load at any moment falls on all alike; after
// each write the bench waits until its process is idle (`settle`), so that what one side's clients
// do after a delivery is not timed as another's.
import { closeSync, fdatasyncSync, openSync, rmSync, writeSync } from 'node:fs'
import { join } from 'node:path'
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

/** One side of a run: a system's clients on one server. */
export interface FanoutTarget {
  system: FanoutSystem
  url: string
}

/**
 * The disk's own floor, as a side of the rotation: each `send` appends 300 bytes to a file in `dir`
 * and fdatasyncs it, on this thread (no thread hop), and records how long that took. Taking its
 * turn among the others, its writes are spaced as each system's are: that is the least a write that
 * is durable before anyone sees it can cost on this machine, at this pace.
 */
function diskSide(dir: string): Side {
  const path = join(dir, `fsync-probe-${process.pid}`)
  const fd = openSync(path, 'w')
  const record = Buffer.alloc(300, 1)
  const delays: number[] = []
  return {
    delays,
    send: () => {
      const t = performance.now()
      writeSync(fd, record)
      fdatasyncSync(fd)
      delays.push(performance.now() - t)
      return Promise.resolve()
    },
    close: () => {
      closeSync(fd)
      rmSync(path, { force: true })
      return Promise.resolve()
    },
  }
}

export interface FanoutOptions {
  /** Also time one small append + fdatasync in this directory per round (result: `disk`). */
  diskProbeDir?: string
}

/** One run: `writes` writes on each side (after 20 warm-up writes each), alternating between them. */
export async function fanout<N extends string>(targets: Record<N, FanoutTarget>, subscribers: number, writes: number, key: string, options: FanoutOptions = {}): Promise<Record<N, Delays> & { disk?: Delays }> {
  const names = Object.keys(targets) as N[]
  const sides: Side[] = []
  let disk: Side | undefined
  try {
    for (const n of names) sides.push(await openSide(targets[n].system, targets[n].url, subscribers, key))
    if (options.diskProbeDir !== undefined) sides.push((disk = diskSide(options.diskProbeDir)))
    await new Promise(r => setTimeout(r, 100))
    const warmup = 20
    for (let i = 0; i < writes + warmup; i++) {
      if (i === warmup) for (const s of sides) s.delays.length = 0
      for (const s of i % 2 === 0 ? sides : [...sides].reverse()) {
        await s.send(i)
        await settle()
      }
    }
    const delays = (d: number[]): Delays => ({ p50: percentile(d, 50), p99: percentile(d, 99), samples: d.length })
    const bySide = {} as Record<N, Delays>
    names.forEach((n, j) => {
      bySide[n] = delays((sides[j] as Side).delays)
    })
    return disk === undefined ? bySide : { ...bySide, disk: delays(disk.delays) }
  } finally {
    for (const s of sides) await s.close()
  }
}
