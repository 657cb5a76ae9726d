// Section 6: one client subscribed to 4,000 docs; another client writes 200 of them (spread over
// the 4,000, each a different doc) all at once; time from the first write until every one of the
// 200 handlers on the subscribed client has run. Statecraft (SDK, `doc.subscribe` per doc) and
// ShareDB (one connection, `doc.subscribe` + `on('op')` per doc).
import type { Doc as ShareDoc } from 'sharedb/lib/client/index.js'
import { cb, sharedbConnection, sharedbOpen, statecraftClient } from './clients.ts'

export const SUBS = 4000
export const UPDATES = 200

export async function manySubscriptions(system: 'statecraft' | 'sharedb', url: string, run: number): Promise<number> {
  const keyOf = (i: number): string => `many${run}/${i}`
  const updated = new Set<number>()
  let done: () => void = () => {}
  const all = new Promise<void>(r => (done = r))
  const hit = (i: number, n: unknown): void => {
    if (n !== run || updated.has(i)) return
    updated.add(i)
    if (updated.size === UPDATES) done()
  }
  const targets = Array.from({ length: UPDATES }, (_, j) => j * (SUBS / UPDATES) + (j % 7))
  if (system === 'statecraft') {
    const reader = statecraftClient(url)
    const writer = statecraftClient(url)
    try {
      // The docs exist (value n: -1) before the reader subscribes.
      await writer.transaction(tx => {
        for (let i = 0; i < SUBS; i++) tx.set(keyOf(i), { n: -1 })
      })
      for (let i = 0; i < SUBS; i++) reader.doc<{ n: number }>(keyOf(i)).subscribe(s => hit(i, s.value?.n))
      await reader.whenSynced()
      const start = performance.now()
      for (const i of targets) void writer.doc(keyOf(i)).set({ n: run })
      await all
      return performance.now() - start
    } finally {
      await writer.close()
      await reader.close()
    }
  }
  const rconn = await sharedbConnection(url)
  const wconn = await sharedbConnection(url)
  try {
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
    const start = performance.now()
    for (const i of targets) wdocs.get(i)?.submitOp([{ p: ['n'], od: -1, oi: run }])
    await all
    return performance.now() - start
  } finally {
    wconn.close()
    rconn.close()
  }
}
