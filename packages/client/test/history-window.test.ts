// A client offline for longer than the server's op log keeps its edits: on version-too-old it takes
// a fresh snapshot and rebases its pending ops over a diff from its old snapshot to the new one.
import { expect, test } from 'vitest'
import { keys, memoryStore } from '@statecraft/core'
import { localServers } from './support/local.ts'

const servers = localServers()
const setup = () => servers({ store: memoryStore({ historyLimit: 10 }) })

test('history of 10 txns: a text edited offline while the server moves on by 100 txns keeps both sides', async () => {
  const { server, client } = await setup()
  const a = client()
  const b = client()
  const tb = b.text('t')
  await a.text('t').insert(0, 'hello world')
  await a.whenSynced()
  await b.whenSynced()
  expect(b.text('t').value).toBe('hello world')

  a.goOffline()
  const mine = a.text('t').insert(6, 'brave new ')
  expect(a.text('t').value).toBe('hello brave new world')

  for (let i = 0; i < 100; i++) void tb.insert(tb.value.length, String(i % 10))
  await b.whenSynced()
  const tail = '0123456789'.repeat(10)
  expect(tb.value).toBe('hello world' + tail)

  a.goOnline()
  await mine
  await a.whenSynced()
  await b.whenSynced()
  const want = 'hello brave new world' + tail
  expect(a.text('t').value).toBe(want)
  for (let i = 0; i < 100 && b.text('t').value !== want; i++) await new Promise(r => setTimeout(r, 5))
  expect(b.text('t').value).toBe(want)
  expect((await server.backend.store.fetch(keys('t'))).results.get('t')).toBe(want)
})

test('history of 10 txns: a json1 edit made offline is rebased over a structural diff', async () => {
  const { server, client } = await setup()
  const a = client()
  const b = client()
  await a.doc('d').set({ title: 'notes', tags: ['x'], body: 'one two' })
  await a.whenSynced()
  expect(await b.doc('d').get()).toEqual({ title: 'notes', tags: ['x'], body: 'one two' })
  a.goOffline()
  const mine = a.doc('d').update(['body', { es: [3, ' and a half'] }] as never)
  for (let i = 0; i < 30; i++) await b.doc('d').setAt(['count'], i)
  await b.doc('d').update(['body', { es: ['zero '] }] as never)
  a.goOnline()
  await mine
  await a.whenSynced()
  const want = { title: 'notes', tags: ['x'], body: 'zero one and a half two', count: 29 }
  expect(a.doc('d').value).toEqual(want)
  expect((await server.backend.store.fetch(keys('d'))).results.get('d')).toEqual(want)
})

test('history of 10 txns: a set on a doc that changed meanwhile fails with conflict and rolls back', async () => {
  const { client } = await setup()
  const a = client()
  const b = client()
  await a.doc('d').set({ v: 1 })
  await a.whenSynced()
  expect(await b.doc('d').get()).toEqual({ v: 1 })
  a.goOffline()
  const mine = a.doc('d').set({ v: 'mine' })
  for (let i = 0; i < 20; i++) await b.doc('d').set({ v: i })
  a.goOnline()
  await expect(mine).rejects.toMatchObject({ code: 'conflict' })
  await a.whenSynced()
  expect(a.doc('d').value).toEqual({ v: 19 })
})
