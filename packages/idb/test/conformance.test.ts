// The conformance suite on the IndexedDB store, in Node under fake-indexeddb.
import 'fake-indexeddb/auto'
import { runStoreTests } from '@statecraft/test-kit'
import { idbStore } from '@statecraft/idb'

let n = 0
const fresh = (): string => `conformance-${++n}`

runStoreTests('idb store (fake-indexeddb)', () => idbStore(fresh()), {
  makeStoreWithHistory: historyLimit => idbStore(fresh(), { historyLimit }),
})
