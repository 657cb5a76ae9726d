import { expect, test } from 'vitest'
import { memoryStore, keys, prefix, applyUpdate, type Key, type Value } from '@statecraft/core'
import { connect } from '@statecraft/client'
import { createServer } from '@statecraft/server'

test.each(['ws', 'local'] as const)('smoke over %s', async kind => {
  const server = await createServer({ store: memoryStore({ uid: 'm' }) })
  const store = await connect(kind === 'ws' ? server.url : () => server.connectLocal())
  expect(store.info.uid).toBe('m')
  const v = await store.mutate(new Map([['a', { type: 'set', value: { x: 1 } }], ['b', { type: 'set', value: new Uint8Array([1, 2, 3]) }]]))
  expect(v).toEqual({ m: 1 })
  const r = await store.fetch(keys('a', 'b', 'c'))
  expect(r.results).toEqual(new Map<Key, Value>([['a', { x: 1 }], ['b', new Uint8Array([1, 2, 3])]]))
  const sub = store.subscribe(prefix(''))
  const it = sub[Symbol.asyncIterator]()
  const view = new Map<Key, Value>()
  applyUpdate(view, (await it.next()).value)
  expect(view.size).toBe(2)
  await store.mutate(new Map([['c', { type: 'text', op: ['hi'] }]]))
  applyUpdate(view, (await it.next()).value)
  expect(view.get('c')).toBe('hi')
  sub.close()
  await store.close()
  await expect(store.fetch(keys('a'))).rejects.toMatchObject({ code: 'closed' })
  await server.close()
})
