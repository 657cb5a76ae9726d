// Crash safety: a child process writes txns as fast as it can and is killed with SIGKILL at random
// moments; after each kill the store must hold every acknowledged txn, no partial txn, its client
// seqs, and go on at the next version. 24 kill points; scripts/soak.ts runs the long version.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect, test } from 'vitest'
import { crashRound } from '../scripts/crash-harness.ts'

test('every acknowledged txn survives SIGKILL at 24 random moments; no partial txn; versions go on', async () => {
  const dir = join(mkdtempSync(join(tmpdir(), 'statecraft-level-crash-')), 'db')
  const seed = Number(process.env.CRASH_SEED ?? Date.now() % 1_000_000)
  let x = seed
  const random = (): number => ((x = (x * 1103515245 + 12345) % 2147483648) / 2147483648)
  let acked = 0
  try {
    for (let round = 0; round < 24; round++) {
      // Mostly after some writes; every sixth round at any moment from the spawn (open included).
      const fromSpawn = round % 6 === 5
      const killAfterMs = Math.floor(fromSpawn ? 200 + random() * 800 : random() * 250)
      const r = await crashRound(dir, round, { writers: 1 + (round % 4) * 3, killAfterMs, fromSpawn }).catch((e: unknown) => {
        throw new Error(`${(e as Error).message} (seed ${seed}; rerun with CRASH_SEED=${seed})`)
      })
      acked += r.acked
    }
  } finally {
    rmSync(join(dir, '..'), { recursive: true, force: true })
  }
  expect(acked).toBeGreaterThan(100)
}, 90_000)
