// runStoreTests: registers every conformance case as a vitest test for one store factory, skipping
// (visibly) the cases whose needs the store's declared capabilities do not meet.
import { describe, test } from 'vitest'
import type { Store } from '@statecraft/core'
import type { MakeStore } from './helpers.ts'
import { unmetNeeds, type StoreTestCase, type StoreTestContext } from './store-test-case.ts'
import { storeTestCases } from './store-test-cases.ts'

export interface RunStoreTestsOptions {
  /** Names of cases to register as skipped. */
  skip?: string[]
  /** Makes a fresh store keeping only the last `historyLimit` txns; enables the history-window cases. */
  makeStoreWithHistory?: (historyLimit: number) => Store | Promise<Store>
  /** The cases to run (default: every case in `storeTestCases`). */
  cases?: StoreTestCase[]
}

export function runStoreTests(name: string, makeStore: MakeStore, opts: RunStoreTestsOptions = {}): void {
  const cases = opts.cases ?? storeTestCases
  const skip = new Set(opts.skip ?? [])
  for (const s of skip) {
    if (!cases.some(c => c.name === s)) throw new Error(`runStoreTests(${JSON.stringify(name)}): no case named ${JSON.stringify(s)} to skip`)
  }
  const ctx: StoreTestContext = opts.makeStoreWithHistory === undefined ? {} : { makeStoreWithHistory: opts.makeStoreWithHistory }
  describe(name, async () => {
    // Capabilities come from one store made up front, then closed.
    const probe = await makeStore()
    const caps = probe.info.capabilities
    await probe.close()
    for (const c of cases) {
      if (skip.has(c.name) || unmetNeeds(c, caps, ctx) !== undefined) test.skip(c.name, () => {})
      else test(c.name, () => c.run(makeStore, ctx))
    }
  })
}
