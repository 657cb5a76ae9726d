// The remote store passes the store conformance suite against a server on the LevelDB store, over
// a real WebSocket on 127.0.0.1; and the chaos of killed connections still applies every write once.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { keys, prefix, type Store } from '@statecraft/core'
import { levelStore, type LevelStoreOptions } from '@statecraft/level'
import { runStoreTests } from '@statecraft/test-kit'
import { remoteOver } from './helpers.ts'

const root = mkdtempSync(join(tmpdir(), 'statecraft-remote-level-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))

let n = 0
function fresh(o: LevelStoreOptions = {}): Store {
  const dir = join(root, `s${++n}`)
  const s = levelStore(dir, o)
  const close = s.close.bind(s)
  return Object.assign(s, {
    close: async () => {
      await close()
      rmSync(dir, { recursive: true, force: true })
    },
  })
}

runStoreTests('remote store (ws) on the LevelDB store', () => remoteOver('ws', fresh()), {
  makeStoreWithHistory: historyLimit => remoteOver('ws', fresh({ historyLimit })),
})

test('re-sent writes are applied once on LevelDB too, even while the first copy is still being written', async () => {
  const remote = await remoteOver('local', fresh(), { client: { reconnect: { minDelayMs: 1, maxDelayMs: 5 } } })
  try {
    const writes: Promise<unknown>[] = []
    for (let i = 0; i < 200; i++) {
      writes.push(remote.mutate(new Map([['log', { type: 'text', op: [`${i},`] }]])))
      // Cut the connection every few writes, while writes are in the store's hands.
      if (i % 7 === 3) remote.disconnect()
    }
    await Promise.all(writes)
    const r = await remote.fetch(keys('log'))
    expect(r.versions[remote.info.uid]).toBe(200)
    const tokens = (r.results.get('log') as string).split(',').filter(t => t !== '').map(Number).sort((a, b) => a - b)
    expect(tokens).toEqual(Array.from({ length: 200 }, (_, i) => i))
    expect((await remote.getOps(prefix(''), { [remote.info.uid]: 0 })).length).toBe(200)
  } finally {
    await remote.close()
  }
})
