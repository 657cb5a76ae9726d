// Crash-test child: writes txns as fast as it can and prints each acknowledged one, until killed.
// Each txn of writer w sets a/w, b/w and c/w to the same value and appends ";n" to the text doc
// t/w, so a partial txn shows as keys that disagree. Usage: crash-child.ts DIR ROUND WRITERS
import { levelStore, type LevelStoreOptions } from '@statecraft/level'
import { keys } from '@statecraft/core'
import type { Json, Txn } from '@statecraft/core'
import { CRASH_STORE_OPTIONS } from './crash-harness.ts'

const [dir, roundArg, writersArg] = process.argv.slice(2)
if (dir === undefined || roundArg === undefined || writersArg === undefined) throw new Error('usage: crash-child.ts DIR ROUND WRITERS')
const round = Number(roundArg)
const writers = Number(writersArg)
const s = levelStore(dir, { ...CRASH_STORE_OPTIONS, ...(JSON.parse(process.env.CRASH_STORE_OPTIONS ?? '{}') as LevelStoreOptions) })
await s.ready()
const now = await s.fetch(keys(...Array.from({ length: writers }, (_, w) => `a/${w}`), ...Array.from({ length: writers }, (_, w) => `t/${w}`)))
process.stdout.write(`ready ${now.versions[s.info.uid] ?? 0}\n`)

async function writer(w: number): Promise<void> {
  let n = ((now.results.get(`a/${w}`) as { n?: number } | undefined)?.n ?? 0) + 1
  // The text is ASCII, so its length in code units is its length in text-op positions.
  let len = ((now.results.get(`t/${w}`) as string | undefined) ?? '').length
  for (;;) {
    const value: Json = { w, n, round, pad: 'x'.repeat(n % 50) }
    const piece = `;${n}`
    const txn: Txn = new Map([
      [`a/${w}`, { type: 'set', value }],
      [`b/${w}`, { type: 'set', value }],
      [`c/${w}`, { type: 'set', value }],
      [`t/${w}`, { type: 'text', op: len === 0 ? [piece] : [len, piece] }],
    ])
    const vs = await s.mutate(txn, { clientId: `w${w}-r${round}`, seq: n })
    process.stdout.write(`ack ${vs[s.info.uid]} ${w} ${n}\n`)
    len += piece.length
    n++
  }
}

await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)))
