// withSchema: the value every write leaves (set, json1, text) must fit the most specific schema;
// a misfit fails the whole txn with `invalid`, zod's path in `details`, and writes nothing.
import { afterEach, expect, test } from 'vitest'
import { z } from 'zod'
import { keys, memoryStore, range, type Store } from '@statecraft/core'
import { del, expectCode, json1, set, text, txnOf } from '@statecraft/test-kit'
import { withSchema } from '@statecraft/rules'

const Todo = z.object({ title: z.string().max(10), done: z.boolean(), tags: z.array(z.string()).optional() })

let store: Store
let s: Store

afterEach(async () => {
  await s.close()
  await store.close()
})

function setup(): void {
  store = memoryStore({ uid: 's' })
  s = withSchema(store, { 'todos/**': Todo, 'todos/drafts/**': z.unknown(), 'notes/{id}': z.string().max(8) })
}

test('set, json1 and text results are validated; the error names the key and zod path', async () => {
  setup()
  await s.mutate(txnOf({ 'todos/1': set({ title: 'a', done: false }), 'notes/a': set('hi') }))
  const before = await store.fetch(range())
  const e1 = await expectCode(s.mutate(txnOf({ 'free/x': set(1), 'todos/2': set({ title: 5, done: false }) })), 'invalid')
  expect(e1.details).toMatchObject({ key: 'todos/2', path: ['title'] })
  expect(e1.details?.issues).toHaveLength(1)
  const e2 = await expectCode(s.mutate(txnOf({ 'todos/1': json1(['tags', { i: ['ok', 3] }]) })), 'invalid')
  expect(e2.details).toMatchObject({ key: 'todos/1', path: ['tags', 1] })
  expect(e2.message).toContain('tags.1')
  const e3 = await expectCode(s.mutate(txnOf({ 'notes/a': text([2, ' there, long']) })), 'invalid')
  expect(e3.details).toMatchObject({ key: 'notes/a', path: [] })
  await expectCode(s.mutate(txnOf({ 'todos/1': json1(['done', { r: true }]) })), 'invalid')
  expect(await store.fetch(range())).toEqual(before)
})

test('valid writes, deletes, unmatched keys and the most specific schema pass', async () => {
  setup()
  await s.mutate(txnOf({ 'todos/1': set({ title: 'a', done: false }) }))
  await s.mutate(txnOf({ 'todos/1': json1(['done', { r: true, i: true }]), 'anything': set(new Uint8Array([1])) }))
  await s.mutate(txnOf({ 'todos/drafts/x': set({ whatever: 1 }), 'notes/b': text(['short']) }))
  await s.mutate(txnOf({ 'todos/1': del() }))
  const r = await s.fetch(keys('todos/1', 'todos/drafts/x', 'notes/b'))
  expect(Object.fromEntries(r.results)).toEqual({ 'todos/drafts/x': { whatever: 1 }, 'notes/b': 'short' })
})

test('a concurrent edit is checked as it will land (transformed), not as it was sent', async () => {
  setup()
  const base = await s.mutate(txnOf({ 'notes/a': set('abcd') }))
  await s.mutate(txnOf({ 'notes/a': text([4, 'efg']) }), { baseVersions: base })
  // Alone on the base this is 6 chars; transformed over the edit above it makes 9.
  await expectCode(s.mutate(txnOf({ 'notes/a': text(['xy']) }), { baseVersions: base }), 'invalid')
  await s.mutate(txnOf({ 'notes/a': text(['x']) }), { baseVersions: base })
  expect((await s.fetch(keys('notes/a'))).results.get('notes/a')).toBe('xabcdefg')
})
