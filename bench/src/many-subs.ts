// Section 6: one client subscribed to 4,000 docs; another client writes 200 of them (spread over
// the 4,000, each a different doc) all at once; time from the first write until every one of the
// 200 handlers on the subscribed client has run. Statecraft (SDK, `doc.subscribe` per doc) and
// ShareDB (one connection, `doc.subscribe` + `on('op')` per doc).
//
// A run sets up both systems side by side (4,000 docs and subscriptions each), then measures
// rounds of 200 writes, alternating between the systems (the first round of each is a warm-up,
// not counted), waiting after each until the bench process is idle (`settle`): a round takes
// ~20–100 ms, so one run gives several pairs measured moments apart.
import type { Doc as ShareDoc } from 'sharedb/lib/client/index.js'
import { cb, sharedbConnection, sharedbOpen, statecraftClient } from './clients.ts'
import { settle } from './stats.ts'

export const SUBS = 4000
export const UPDATES = 200

export type ManySystem = 'statecraft' | 'sharedb'

/** One system set up: `round(value)` writes `value` to the 200 docs and resolves with the ms until every handler ran. */
interface Setup {
  round(value: number): Promise<number>
  close(): Promise<void>
}

async function open(system: ManySystem, url: string, run: number): Promise<Setup> {
  const keyOf = (i: number): string => `many${run}/${i}`
  const updated = new Set<number>()
  let want = Number.NaN
  let done: () => void = () => {}
  const hit = (i: number, n: unknown): void => {
    if (n !== want || updated.has(i)) return
    updated.add(i)
    if (updated.size === UPDATES) done()
  }
  const targets = Array.from({ length: UPDATES }, (_, j) => j * (SUBS / UPDATES) + (j % 7))
  const timed = async (value: number, write: () => void): Promise<number> => {
    want = value
    updated.clear()
    const all = new Promise<void>(r => (done = r))
    const start = performance.now()
    write()
    await all
    return performance.now() - start
  }
  if (system === 'statecraft') {
    const reader = statecraftClient(url)
    const writer = statecraftClient(url)
    // The docs exist (value n: -1) before the reader subscribes.
    await writer.transaction(tx => {
      for (let i = 0; i < SUBS; i++) tx.set(keyOf(i), { n: -1 })
    })
    for (let i = 0; i < SUBS; i++) reader.doc<{ n: number }>(keyOf(i)).subscribe(s => hit(i, s.value?.n))
    await reader.whenSynced()
    return {
      round: value =>
        timed(value, () => {
          for (const i of targets) void writer.doc(keyOf(i)).set({ n: value })
        }),
      close: async () => {
        await writer.close()
        await reader.close()
      },
    }
  }
  const rconn = await sharedbConnection(url)
  const wconn = await sharedbConnection(url)
  const wdocs = new Map<number, ShareDoc>()
  await Promise.all(
    Array.from({ length: SUBS }, async (_, i) => {
      const d = wconn.get('bench', keyOf(i))
      await sharedbOpen(d, { n: -1 }, 'json0')
      wdocs.set(i, d)
    }),
  )
  await Promise.all(
    Array.from({ length: SUBS }, async (_, i) => {
      const d = rconn.get('bench', keyOf(i))
      d.on('op', () => hit(i, (d.data as { n: number }).n))
      await cb(f => d.subscribe(f))
    }),
  )
  return {
    round: value =>
      timed(value, () => {
        for (const i of targets) {
          const d = wdocs.get(i) as ShareDoc
          d.submitOp([{ p: ['n'], od: (d.data as { n: number }).n, oi: value }])
        }
      }),
    close: async () => {
      wconn.close()
      rconn.close()
    },
  }
}

/** One run: both systems set up, then `rounds` measured rounds each (after one warm-up), alternating. */
export async function manySubscriptions(urls: Record<ManySystem, string>, run: number, rounds: number): Promise<Record<ManySystem, number[]>> {
  const setups: Partial<Record<ManySystem, Setup>> = {}
  try {
    setups.statecraft = await open('statecraft', urls.statecraft, run)
    setups.sharedb = await open('sharedb', urls.sharedb, run)
    const both: [ManySystem, Setup][] = [
      ['statecraft', setups.statecraft],
      ['sharedb', setups.sharedb],
    ]
    const ms: Record<ManySystem, number[]> = { statecraft: [], sharedb: [] }
    for (let r = 0; r <= rounds; r++) {
      for (const [s, setup] of r % 2 === 0 ? both : [...both].reverse()) {
        const t = await setup.round(r)
        if (r > 0) ms[s].push(t)
        await settle(200)
      }
    }
    return ms
  } finally {
    await setups.statecraft?.close()
    await setups.sharedb?.close()
  }
}
