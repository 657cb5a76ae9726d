// Crash soak for @statecraft/level (not part of the tests): kills a writing child with SIGKILL
// again and again for a while, checking after every kill that each acknowledged txn is there,
// no txn is partly there, seqs survived and versions go on. Longer runs, more writers, later
// kills and a small history window (so compaction and tombstone purging run under the kills).
//
//   pnpm --filter @statecraft/level exec tsx scripts/soak.ts [minutes=5] [seed]
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { crashRound } from './crash-harness.ts'

const minutes = Number(process.argv[2] ?? 5)
const seed = Number(process.argv[3] ?? Date.now() % 1_000_000)
let x = seed
const random = (): number => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648)
const dir = join(mkdtempSync(join(tmpdir(), 'statecraft-level-soak-')), 'db')
const until = Date.now() + minutes * 60_000
console.log(`soak: ${minutes} min, seed ${seed}, dir ${dir}`)
let rounds = 0
let acked = 0
let unacked = 0
try {
  while (Date.now() < until) {
    const fromSpawn = random() < 0.15
    const killAfterMs = Math.floor(fromSpawn ? 150 + random() * 1500 : random() * 3000)
    const writers = 1 + Math.floor(random() * 32)
    const r = await crashRound(dir, rounds, { writers, killAfterMs, fromSpawn, storeOptions: { historyLimit: 100_000, compactInterval: 100 } })
    rounds++
    acked += r.acked
    unacked += Math.max(0, r.unacked)
    console.log(
      `round ${rounds}: ${writers} writers, killed ${killAfterMs} ms after ${fromSpawn ? 'spawn' : 'first ack'}: ` +
        `${r.acked} acknowledged, ${r.unacked} more landed unacknowledged, version ${r.versionAfter}`,
    )
  }
  console.log(`soak passed: ${rounds} kills, ${acked} acknowledged txns all present, ${unacked} in-flight txns landed whole`)
} catch (e) {
  console.error(`soak FAILED (seed ${seed}): ${(e as Error).message}`)
  process.exitCode = 1
} finally {
  rmSync(join(dir, '..'), { recursive: true, force: true })
}
