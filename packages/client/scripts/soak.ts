// Soak run of the client convergence fuzz: many more seeds than `npx vitest run packages/client`.
//   pnpm exec tsx packages/client/scripts/soak.ts [seeds=5000] [firstSeed=1]
// A failure prints its seed; replay it with STATECRAFT_SEED=<seed> npx vitest run packages/client/test/convergence.test.ts
import { runConvergenceFuzz } from '@statecraft/test-kit'
import { makeWorld } from '../test/support/world.ts'

const seeds = Number(process.argv[2] ?? 5000)
const first = Number(process.argv[3] ?? 1)
const t0 = Date.now()
let failed = 0
for (let seed = first; seed < first + seeds; seed++) {
  try {
    await runConvergenceFuzz(seed, { makeWorld })
  } catch (e) {
    failed++
    console.error(e instanceof Error ? e.message : String(e))
  }
  if ((seed - first + 1) % 500 === 0) console.log(`${seed - first + 1} seeds, ${failed} failed, ${Math.round((Date.now() - t0) / 1000)} s`)
}
console.log(`${seeds - failed} passed, ${failed} failed (seeds ${first}..${first + seeds - 1}) in ${Math.round((Date.now() - t0) / 1000)} s`)
process.exit(failed === 0 ? 0 : 1)
