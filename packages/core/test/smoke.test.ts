import { expect, test } from 'vitest'
import { memoryStore, keys, prefix, applyUpdate } from '@statecraft/core'

test('memory store smoke', async () => {
  const s = memoryStore({ uid: 'm' })
  const v1 = await s.mutate(new Map([['a', { type: 'set', value: { x: 1 } }]]))
  expect(v1).toEqual({ m: 1 })
  await s.mutate(new Map([['t', { type: 'text', op: ['hello'] }]]))
  const v3 = await s.mutate(new Map([['t', { type: 'text', op: [5, ' world'] }]]), { baseVersions: { m: 2 } })
  await s.mutate(new Map([['t', { type: 'text', op: ['>'] }]]), { baseVersions: { m: 2 } })
  expect((await s.fetch(keys('t'))).results.get('t')).toBe('> world'.replace('>', '>hello'))
  const past = await s.fetch(keys('t', 'a'), { atVersion: v3 })
  expect(past.results.get('t')).toBe('hello world')
  const sub = s.subscribe(prefix('', { limit: 1 }))
  const it = sub[Symbol.asyncIterator]()
  const view = new Map()
  applyUpdate(view, (await it.next()).value)
  expect([...view.keys()]).toEqual(['a'])
  await s.mutate(new Map([['a', { type: 'del' }]]))
  applyUpdate(view, (await it.next()).value)
  expect([...view.keys()]).toEqual(['t'])
  sub.close()
})
