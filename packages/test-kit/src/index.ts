// @statecraft/test-kit: the conformance suite every Statecraft store and transport runs, and the
// helpers its cases use (also handy for a store's own tests).
export { storeTestCases } from './store-test-cases.ts'
export { runStoreTests, type RunStoreTestsOptions } from './run-store-tests.ts'
export { unmetNeeds, type StoreTestCase, type StoreTestContext, type StoreTestNeeds } from './store-test-case.ts'
export {
  set, del, json1, text, txnOf, ver, bump, put, valueOf, versionsOf, sortedEntries, withStore, expectCode,
  configureTestKit, testKitConfig, type MakeStore,
} from './helpers.ts'
export { collect, collectTxns, nextUpdate, maybeUpdate, expectEnds, subscribeError, expectSubscribeCode, View } from './subscription-reader.ts'
export { rng, chooseSeed, withSeed, type Rng } from './random.ts'
export { runConvergenceFuzz, SimulatedNetwork, type ConvergenceFuzzOptions, type FuzzClient, type FuzzWorld, type FuzzPort, type FuzzDial } from './convergence.ts'
