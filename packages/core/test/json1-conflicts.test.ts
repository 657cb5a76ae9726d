// Regression: concurrent json1 edits that ot-json1 calls conflicting (both insert one key; one
// edits inside a subtree the other removed) made planTxn throw "Transform detected write conflict",
// reported as `internal`. They must merge, and both orders of transform must converge.
import { expect, test } from 'vitest'
import { memoryStore, keys, transformOp, applyOp, type Op, type Value } from '@statecraft/core'

const j = (op: unknown): Op => ({ type: 'json1', op } as Op)

const cases: [string, Value, Op, Op][] = [
  ['both insert the same key', { a: 1 }, j(['x', { i: 1 }]), j(['x', { i: 2 }])],
  ['an edit inside a removed subtree', { list: [{ t: 'a' }] }, j(['list', { r: true }]), j(['list', 0, 't', { r: true, i: 'b' }])],
  ['both replace one value', { n: 1 }, j(['n', { r: true, i: 2 }]), j(['n', { r: true, i: 3 }])],
  ['a move onto an insert', { a: 1 }, j([['a', { p: 0 }], ['b', { d: 0 }]]), j(['b', { i: 5 }])],
]

test.each(cases)('%s: both writes land and the result is what the transform gives', async (_name, start, a, b) => {
  const s = memoryStore({ uid: 'u' })
  const base = await s.mutate(new Map([['doc', { type: 'set', value: start }]]))
  await s.mutate(new Map([['doc', a]]), { baseVersions: base })
  await s.mutate(new Map([['doc', b]]), { baseVersions: base })
  const got = (await s.fetch(keys('doc'))).results.get('doc')
  // A replica that applied b first and then a (transformed the other way) reaches the same value.
  const bThenA = applyOp(applyOp(start, b), transformOp(a, b, 'right') as Op)
  expect(got).toEqual(bThenA)
  await s.close()
})
