// The seeded convergence fuzz of @statecraft/test-kit, run on the client SDK against an in-process
// server: 500 seeds here (packages/client/scripts/soak.ts runs more). Replay one with STATECRAFT_SEED.
import { test } from 'vitest'
import { runConvergenceFuzz } from '@statecraft/test-kit'
import { makeWorld } from './support/world.ts'

const SEEDS = Number(process.env.STATECRAFT_FUZZ_SEEDS ?? 500)
const only = process.env.STATECRAFT_SEED

test(`convergence fuzz: ${only === undefined ? SEEDS + ' seeds' : 'seed ' + only}`, async () => {
  if (only !== undefined) {
    await runConvergenceFuzz(Number(only), { makeWorld })
    return
  }
  for (let seed = 1; seed <= SEEDS; seed++) await runConvergenceFuzz(seed, { makeWorld })
}, 120_000)
