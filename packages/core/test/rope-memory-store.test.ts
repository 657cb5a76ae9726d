// The memory store keeps text docs as TextRopes: every reader still gets strings (fetch now and in
// the past, a subscription's first result, a limited window's entering doc, the op log), and a
// set or del over a rope doc undoes to its text.
import { expect, test } from 'vitest'
import { applyUpdate, keys, memoryStore, prefix } from '@statecraft/core'
import type { Op, Txn, Update, Value } from '@statecraft/core'

const txn = (k: string, op: Op): Txn => new Map([[k, op]])
const text = (op: unknown[]): Op => ({ type: 'text', op }) as Op

test('text docs held as ropes read as strings everywhere, now and in the past', async () => {
  const s = memoryStore({ uid: 'm' })
  const window = s.subscribe(prefix('', { limit: 1 }))
  const it = window[Symbol.asyncIterator]()
  await it.next()
  // Code points: a text op's positions (the text is well-formed, so Array.from splits it the same way).
  const chars: string[] = []
  const past: Array<[number, string]> = []
  for (let i = 0; i < 2000; i++) {
    const pos = Math.max(0, chars.length - (i % 7))
    const ins = i % 50 === 0 ? '😀é' : String.fromCharCode(97 + (i % 26))
    const vs = await s.mutate(txn('doc', text(pos === 0 ? [ins] : [pos, ins])))
    chars.splice(pos, 0, ...Array.from(ins))
    if (i % 400 === 0) past.push([vs.m as number, chars.join('')])
  }
  const expected = chars.join('')
  const now = (await s.fetch(keys('doc'))).results.get('doc')
  expect(typeof now).toBe('string')
  expect(now).toBe(expected)
  const entered = (await it.next()).value as Update
  expect(typeof entered.enter?.get('doc')).toBe('string')
  for (const [v, t] of past) expect((await s.fetch(keys('doc'), { atVersion: { m: v } })).results.get('doc')).toBe(t)
  const sub = s.subscribe(keys('doc'))
  const first = (await sub[Symbol.asyncIterator]().next()).value as Update
  const view = new Map<string, Value>()
  applyUpdate(view, first)
  expect(view.get('doc')).toBe(expected)
  sub.close()
  window.close()

  // A set and a del over the rope doc undo to its text.
  const before = (await s.mutate(txn('doc', { type: 'set', value: { replaced: true } }))).m as number
  await s.mutate(txn('doc', { type: 'del' }))
  expect((await s.fetch(keys('doc'), { atVersion: { m: before - 1 } })).results.get('doc')).toBe(expected)
  expect((await s.fetch(keys('doc'), { atVersion: { m: before } })).results.get('doc')).toEqual({ replaced: true })
  const ops = await s.getOps(keys('doc'), { m: before - 2 })
  expect(ops.map(r => r.txn.get('doc')?.type)).toEqual(['text', 'set', 'del'])
  await s.close()
})

test('a text op that does not fit is invalid and changes nothing, for a rope doc too', async () => {
  const s = memoryStore({ uid: 'm' })
  await s.mutate(txn('doc', text(['x'.repeat(5000)])))
  await expect(s.mutate(txn('doc', text([4999, { d: 2 }])))).rejects.toMatchObject({ code: 'invalid' })
  await expect(s.mutate(new Map([['doc', text([{ d: 'y' }])], ['b', { type: 'set', value: 1 }]]))).rejects.toMatchObject({ code: 'invalid' })
  expect((await s.fetch(keys('doc', 'b'))).results).toEqual(new Map([['doc', 'x'.repeat(5000)]]))
  await s.close()
})
