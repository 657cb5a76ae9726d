// Runs the @statecraft/test-kit conformance suite against the memory store.
import { memoryStore } from '@statecraft/core'
import { runStoreTests } from '@statecraft/test-kit'

runStoreTests('memory store', () => memoryStore(), {
  makeStoreWithHistory: historyLimit => memoryStore({ historyLimit }),
})
