// The client SDK against an in-process server: local-first writes, acknowledgement, live docs.
import { expect, test } from 'vitest'
import { localServers } from './support/local.ts'

const setup = localServers()

test('a doc set applies locally at once and reaches the server and another client', async () => {
  const { server, client } = await setup()
  const a = client()
  const b = client()
  const seen: unknown[] = []
  b.doc('x').subscribe(s => seen.push(s.value))
  const p = a.doc<{ n: number }>('x').set({ n: 1 })
  expect(a.doc('x').value).toEqual({ n: 1 })
  expect(a.doc('x').snapshot().pending).toBe(true)
  await p
  await a.whenSynced()
  await b.whenSynced()
  expect(b.doc('x').value).toEqual({ n: 1 })
  expect(seen.at(-1)).toEqual({ n: 1 })
  const f = await server.backend.store.fetch({ kind: 'keys', keys: ['x'] })
  expect(f.results.get('x')).toEqual({ n: 1 })
})

test('concurrent text edits converge', async () => {
  const { client } = await setup()
  const a = client()
  const b = client()
  const ta = a.text('t')
  const tb = b.text('t')
  await ta.insert(0, 'hello world')
  await a.whenSynced()
  await b.whenSynced()
  expect(tb.value).toBe('hello world')
  const pa = ta.insert(5, ' big')
  const pb = tb.insert(11, '!')
  await Promise.all([pa, pb])
  await a.whenSynced()
  await b.whenSynced()
  await new Promise(r => setTimeout(r, 20))
  expect(ta.value).toBe('hello big world!')
  expect(tb.value).toBe('hello big world!')
})

test('a client holds one server subscription per live doc and nothing else; a dropped connection is noticed and resumed', async () => {
  const { server, client } = await setup()
  const a = client({ reconnect: { minDelayMs: 1, maxDelayMs: 2 } })
  a.doc('x').subscribe(() => {})
  await a.whenSynced()
  expect(server.backend.stats()).toMatchObject({ connections: 1, subscriptions: 1 })
  a.doc('y').subscribe(() => {})
  await a.whenSynced()
  expect(server.backend.stats()).toMatchObject({ connections: 1, subscriptions: 2 })
  // The server ends the connection: the client sees it, reconnects and subscribes again.
  const b = client()
  for (const agent of (server.backend as unknown as { agents: Set<{ close(code: number, reason: string): void }> }).agents) agent.close(4000, 'test')
  await b.doc('x').set({ n: 2 })
  await expect.poll(() => a.doc('x').value, { timeout: 2000 }).toEqual({ n: 2 })
  // a's two docs again, and the doc b wrote (a write opens its doc).
  expect(server.backend.stats()).toMatchObject({ connections: 2, subscriptions: 3 })
})
