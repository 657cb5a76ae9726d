// Every conformance case, in one list: what `runStoreTests` registers for each store.
import { basicCases } from './cases/basic-cases.ts'
import { conflictCases } from './cases/conflict-cases.ts'
import { historyCases } from './cases/history-cases.ts'
import { lifecycleCases } from './cases/lifecycle-cases.ts'
import { otCases } from './cases/ot-cases.ts'
import { rangeCases } from './cases/range-cases.ts'
import { subscriptionCases } from './cases/subscription-cases.ts'
import { valueCases } from './cases/value-cases.ts'
import { windowCases } from './cases/window-cases.ts'
import type { StoreTestCase } from './store-test-case.ts'

export const storeTestCases: StoreTestCase[] = [
  ...basicCases,
  ...valueCases,
  ...rangeCases,
  ...conflictCases,
  ...otCases,
  ...historyCases,
  ...subscriptionCases,
  ...windowCases,
  ...lifecycleCases,
]

const names = new Set<string>()
for (const c of storeTestCases) {
  if (names.has(c.name)) throw new Error(`two conformance cases are named ${JSON.stringify(c.name)}`)
  names.add(c.name)
}
