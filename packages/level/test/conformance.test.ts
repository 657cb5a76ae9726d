// The conformance suite on the LevelDB store: each store in a fresh temp dir, removed afterwards.
// Besides the defaults it runs with no doc cache (every read and commit loads from disk) and with
// op records on every doc (docs read back as snapshot + ops).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll } from 'vitest'
import { runStoreTests } from '@statecraft/test-kit'
import { levelStore, type LevelStoreOptions } from '@statecraft/level'
import type { Store } from '@statecraft/core'

const root = mkdtempSync(join(tmpdir(), 'statecraft-level-conformance-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

let n = 0
function fresh(o: LevelStoreOptions = {}): Store {
  const dir = join(root, `s${++n}`)
  const s = levelStore(dir, o)
  // Each store's directory goes as soon as the store is closed.
  const close = s.close.bind(s)
  return Object.assign(s, {
    close: async () => {
      await close()
      rmSync(dir, { recursive: true, force: true })
    },
  })
}

runStoreTests('level store', () => fresh(), {
  makeStoreWithHistory: historyLimit => fresh({ historyLimit }),
})

const cold: LevelStoreOptions = { cacheSize: 0 }
runStoreTests('level store, no doc cache', () => fresh(cold), {
  makeStoreWithHistory: historyLimit => fresh({ ...cold, historyLimit }),
})

const opRecords: LevelStoreOptions = { cacheSize: 0, opRecordMinSize: 0, maxOpsPerDoc: 4 }
runStoreTests('level store, op records on every doc', () => fresh(opRecords), {
  makeStoreWithHistory: historyLimit => fresh({ ...opRecords, historyLimit }),
})
