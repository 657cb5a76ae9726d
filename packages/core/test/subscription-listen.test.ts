// Push delivery (`listen`): a subscription made by makeSubscription hands updates to a listener in
// the producer's call, in order, with the end reported once; everything else falls back.
import { expect, test } from 'vitest'
import { StatecraftError, keys, memoryStore, type Subscription, type Update } from '@statecraft/core'
import { listen, makeSubscription, type SubscriptionListener } from '../src/subscription.ts'

const u = (n: number): Update => ({ txns: [], versions: { s: n }, caughtUp: true })

function recorder(): SubscriptionListener & { got: [number, object | undefined][]; ended: (StatecraftError | undefined)[] } {
  const got: [number, object | undefined][] = []
  const ended: (StatecraftError | undefined)[] = []
  return { got, ended, update: (x, shared) => got.push([x.versions.s as number, shared]), end: e => ended.push(e) }
}

test('queued updates go to the listener at once, later ones in the push call, with their shared token', () => {
  let closed = 0
  const { sub, feed } = makeSubscription(() => closed++)
  feed.push(u(1))
  feed.push(u(2))
  const l = recorder()
  expect(listen(sub, l)).toBe(true)
  expect(l.got).toEqual([[1, undefined], [2, undefined]])
  const token = {}
  feed.push(u(3), token)
  expect(l.got[2]).toEqual([3, token])
  feed.end(new StatecraftError('forbidden', 'no'))
  expect(l.ended.map(e => e?.code)).toEqual(['forbidden'])
  expect(closed).toBe(1)
  feed.push(u(4))
  expect(l.got).toHaveLength(3)
})

test('the consumer closing it is not reported as an end; the iterator cannot be read once listened', async () => {
  const { sub, feed } = makeSubscription(() => {})
  const l = recorder()
  expect(listen(sub, l)).toBe(true)
  await expect(sub[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'invalid' })
  sub.close()
  feed.push(u(1))
  feed.end()
  expect(l.got).toEqual([])
  expect(l.ended).toEqual([])
  expect(listen(sub, recorder())).toBe(false)
})

test('ended before listen: what was pushed, then the end; read already or not ours: false', async () => {
  const a = makeSubscription(() => {})
  a.feed.push(u(1))
  a.feed.end()
  const l = recorder()
  expect(listen(a.sub, l)).toBe(true)
  expect(l.got.map(g => g[0])).toEqual([1])
  expect(l.ended).toEqual([undefined])

  const b = makeSubscription(() => {})
  b.feed.push(u(1))
  await b.sub[Symbol.asyncIterator]().next()
  expect(listen(b.sub, recorder())).toBe(false)

  const proxy: Subscription = { [Symbol.asyncIterator]: () => b.sub[Symbol.asyncIterator](), close: () => {} }
  expect(listen(proxy, recorder())).toBe(false)
})

test('a listener that throws ends the subscription with internal, and the producer goes on', () => {
  let closed = 0
  const { sub, feed } = makeSubscription(() => closed++)
  const ended: (StatecraftError | undefined)[] = []
  listen(sub, { update: () => { throw new Error('boom') }, end: e => ended.push(e) })
  expect(() => feed.push(u(1))).not.toThrow()
  expect(ended.map(e => e?.code)).toEqual(['internal'])
  expect(closed).toBe(1)
})

test('a store subscription listened to gets the replace, then every txn; subscribers of the whole txn share a token', async () => {
  const store = memoryStore({ uid: 's' })
  await store.mutate(new Map([['a', { type: 'set', value: 1 }]]))
  const l1 = recorder()
  const l2 = recorder()
  const l3 = recorder()
  const updates: Update[] = []
  const s1 = store.subscribe(keys('a'))
  expect(listen(s1, { ...l1, update: (x, sh) => { updates.push(x); l1.update(x, sh) } })).toBe(true)
  expect(listen(store.subscribe(keys('a')), l2)).toBe(true)
  expect(listen(store.subscribe(keys('a', 'b')), l3)).toBe(true)
  expect(updates[0]?.replace).toEqual(new Map([['a', 1]]))
  // Only `a` of a two-key txn: its own content, no token. The whole txn: the same token for both.
  await store.mutate(new Map([['a', { type: 'set', value: 2 }], ['b', { type: 'set', value: 3 }]]))
  await store.mutate(new Map([['a', { type: 'set', value: 4 }]]))
  expect(l1.got.map(g => g[0])).toEqual([1, 2, 3])
  expect(l1.got[1]?.[1]).toBeUndefined()
  expect(l1.got[2]?.[1]).toBeDefined()
  expect(l2.got[2]?.[1]).toBe(l1.got[2]?.[1])
  expect(l3.got[1]?.[1]).toBeDefined()
  expect(updates[2]?.txns[0]?.txn).toEqual(new Map([['a', { type: 'set', value: 4 }]]))
  await store.close()
  expect(l1.ended).toEqual([undefined])
})
