// Memory after an editing trace (not part of the tests): replays a sequential trace from
// ../shared/traces (Joseph Gentle's editing-traces, CC BY 4.0) into one text doc of a LevelDB
// store, one txn per patch (after a warm-up replay into another store, so that compiled code and
// its metadata are not counted), then reports the heap growth after a full GC against the final text's
// size and the store's own memoryStats(). Issue 10's goal: growth within 2× of text + retained op log.
// Then it replays the trace again into a second doc: that growth should be the second text alone
// (nothing kept per txn beyond the bounded in-memory op log).
//
//   pnpm --filter @statecraft/level exec node --expose-gc --import tsx scripts/memory-replay.ts [trace=seph-blog1] [sync=false] [historyLimit=10000] [seqs]
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'
import { getHeapSpaceStatistics } from 'node:v8'
import { keys, type Op } from '@statecraft/core'
import { openLevelStore, type LevelStore } from '../src/index.ts'

type Patch = [number, number, string]
const name = process.argv[2] ?? 'seph-blog1'
const sync = process.argv[3] === 'true'
const historyLimit = Number(process.argv[4] ?? 10_000)
/** Whether each txn carries a clientId and seq (as the client SDK's do), so the seqs' memory counts too. */
const withSeqs = process.argv[5] === 'seqs'
let seq = 0
const file = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'shared', 'traces', `${name}.json.gz`)
if (!existsSync(file)) throw new Error(`no trace at ${file}`)
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with node --expose-gc')
const trace = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as { endContent: string; txns: { patches: Patch[] }[] }
const patches = trace.txns.flatMap(t => t.patches)

/** Heap used after a full GC, without code space (JIT code grows as the replay warms up, not with data). */
const heap = (): number => {
  gc()
  gc()
  let used = 0
  for (const s of getHeapSpaceStatistics()) if (!s.space_name.includes('code')) used += s.space_used_size
  return used
}
const spaces = (): Record<string, number> => Object.fromEntries(getHeapSpaceStatistics().map(s => [s.space_name, s.space_used_size]))
const kb = (n: number): string => `${(n / 1024).toFixed(0)} KB`

/** Each patch as its own txn, 256 in flight (group commit); no base version, so each op applies at its raw position in queue order, the trace's. */
async function run(store: LevelStore, ps: Patch[], key = 'doc'): Promise<void> {
  let inflight: Promise<unknown>[] = []
  for (const [pos, del, ins] of ps) {
    const op: (number | string | { d: number })[] = []
    if (pos > 0) op.push(pos)
    if (del > 0) op.push({ d: del })
    if (ins !== '') op.push(ins)
    const txn = new Map<string, Op>([[key, { type: 'text', op } as Op]])
    inflight.push(withSeqs ? store.mutate(txn, { clientId: 'replayer', seq: ++seq }) : store.mutate(txn))
    if (inflight.length >= 256) {
      await Promise.all(inflight)
      inflight = []
    }
  }
  await Promise.all(inflight)
}

const dir = mkdtempSync(join(tmpdir(), 'statecraft-level-mem-'))
try {
  {
    const warm = await openLevelStore(join(dir, 'warm'), { sync, historyLimit })
    await run(warm, patches.slice(0, 30_000))
    await warm.fetch(keys('doc'))
    await warm.close()
  }
  const store = await openLevelStore(join(dir, 'db'), { sync, historyLimit })
  const before = heap()
  const spacesBefore = spaces()
  const t0 = performance.now()
  await run(store, patches)
  const ms = performance.now() - t0
  const afterReplay = heap()
  const value = (await store.fetch(keys('doc'))).results.get('doc')
  if (value !== trace.endContent) throw new Error('the replayed doc differs from endContent')
  const afterRead = heap()
  const stats = store.memoryStats()
  const spacesAfter = spaces()
  console.log('heap growth by space (KB):', Object.fromEntries(Object.entries(spacesAfter).map(([k, v]) => [k, Math.round((v - (spacesBefore[k] ?? 0)) / 1024)])))
  const text = trace.endContent.length
  console.log(`${name}: ${patches.length} txns in ${(ms / 1000).toFixed(1)} s (${Math.round(patches.length / (ms / 1000))} txns/s, sync ${sync}, historyLimit ${historyLimit}${withSeqs ? ', with client seqs' : ''})`)
  console.log(`final text: ${text} UTF-16 units (${kb(text)} as a one-byte string)`)
  console.log(`heap growth after replay: ${kb(afterReplay - before)}; after a fetch (string cached in the rope): ${kb(afterRead - before)}`)
  console.log(`memoryStats: ${JSON.stringify(stats)}`)
  console.log(`growth / (text + opLogBytes) = ${((afterRead - before) / (text + stats.opLogBytes)).toFixed(2)}; heapEstimate / growth = ${(stats.heapEstimate / (afterRead - before)).toFixed(2)}`)
  console.log(`stats: ${JSON.stringify(store.stats())}`)
  await run(store, patches, 'doc2')
  console.log(`a second replay into another doc grows the heap by ${kb(heap() - afterRead)} (its text: ${kb(text)})`)
  await store.close()
} finally {
  rmSync(dir, { recursive: true, force: true })
}
