// The Backend's own guarantees, beyond what the store gives.
import { expect, test } from 'vitest'
import { memoryStore, prefix, type Store, type Versions } from '@statecraft/core'
import { createServer } from '@statecraft/server'
import { RawClient } from './raw-client.ts'

test('regression: a re-sent write that arrives while the first copy is still in a (non-serializing) store is applied once', async () => {
  const inner = memoryStore({ uid: 's' })
  // A store that checks the seq, then takes its time to write: two copies in flight both pass the check.
  const applied = new Map<string, Versions>()
  const racy: Store = {
    info: inner.info,
    fetch: (q, o) => inner.fetch(q, o),
    getOps: (q, f, t, o) => inner.getOps(q, f, t, o),
    subscribe: (q, o) => inner.subscribe(q, o),
    close: () => inner.close(),
    async mutate(txn, o = {}) {
      const key = `${o.clientId}/${o.seq}`
      const done = applied.get(key)
      if (done !== undefined) return done
      await new Promise(r => setTimeout(r, 30))
      const v = await inner.mutate(txn)
      applied.set(key, v)
      return v
    },
  }
  const server = await createServer({ store: racy, log: () => {} })
  const write = { type: 'mutate', id: 1, txn: [['log', { type: 'text', op: ['x'] }]], clientId: 'c', seq: 1 }
  const [a, b] = [await RawClient.open(server, 'local'), await RawClient.open(server, 'ws')]
  await a.hello()
  await b.hello()
  a.send(write)
  await new Promise(r => setTimeout(r, 5))
  // The "reconnected" copy, on another connection, while the first is being written.
  b.send(write)
  expect(await a.next()).toEqual({ type: 'mutated', id: 1, versions: { s: 1 } })
  expect(await b.next()).toEqual({ type: 'mutated', id: 1, versions: { s: 1 } })
  const all = await inner.fetch(prefix(''))
  expect(all.versions).toEqual({ s: 1 })
  expect(all.results.get('log')).toBe('x')
  a.port.close()
  b.port.close()
  await server.close()
  await inner.close()
})
