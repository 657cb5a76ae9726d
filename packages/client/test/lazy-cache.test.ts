// The client's write path and lazy cache: offline edits become capped outbox entries (composed
// lazily), doc snapshots are cached lazily, and a client that crashes at any moment — its cache
// holding only what was committed before — restarts with no write lost that was durable and none
// applied twice. "Crash" = the cache stops taking commits, then the client is dropped.
import { afterEach, expect, test } from 'vitest'
import { keys, memoryStore, prefix } from '@statecraft/core'
import { createServer, type StatecraftServer } from '@statecraft/server'
import { runConvergenceFuzz, rng } from '@statecraft/test-kit'
import { createClient, memoryCache, type ClientCache, type StatecraftClient } from '@statecraft/client'
import { crashable } from './support/stores.ts'
import { makeCrashWorld } from './support/world.ts'

const open: { close(): Promise<void> }[] = []
afterEach(async () => {
  for (const x of open.splice(0).reverse()) await x.close()
})

async function server(historyLimit = 1000): Promise<StatecraftServer> {
  const s = await createServer({ store: memoryStore({ historyLimit }), log: () => {} })
  open.push(s)
  return s
}

/** A client of `s` that starts offline (its cache open), closed after the test. */
async function offlineClient(s: StatecraftServer): Promise<StatecraftClient> {
  const c = createClient({ dial: () => s.connectLocal(), offline: true, log: () => {} })
  open.push(c)
  await c.cacheReady
  return c
}

async function crash(c: StatecraftClient, cache: { crash(): void }): Promise<void> {
  c.goOffline()
  cache.crash()
  await c.close()
}

test('an offline session of 10,000 edits: linear (capped entries), the value right, one txn per entry on the server', async () => {
  const s = await server()
  const c = await offlineClient(s)
  const t = c.text('t')
  let want = ''
  const r = rng(5)
  const started = performance.now()
  for (let i = 0; i < 10_000; i++) {
    const pos = r.int(want.length + 1)
    if (want.length > 10 && r.next() < 0.3) {
      void t.remove(pos === want.length ? pos - 1 : pos, 1)
      const p = pos === want.length ? pos - 1 : pos
      want = want.slice(0, p) + want.slice(p + 1)
    } else {
      void t.insert(pos, 'ab')
      want = want.slice(0, pos) + 'ab' + want.slice(pos)
    }
  }
  expect(t.value).toBe(want)
  expect(performance.now() - started).toBeLessThan(2000)
  // 10,000 writes became a few entries (4,096 writes each at most), not one growing op.
  const pending = c.status.pending
  expect(pending).toBe(3)
  c.goOnline()
  await c.whenSynced()
  expect((await s.backend.store.fetch(keys('t'))).results.get('t')).toBe(want)
  expect((await s.backend.store.getOps(keys('t'), {})).length).toBe(pending)
})

test('typing after a set composes lazily too: one entry, a set of the typed value', async () => {
  const s = await server()
  const c = await offlineClient(s)
  void c.doc('t').set('start:')
  const t = c.text('t')
  for (let i = 0; i < 3000; i++) void t.insert(6 + (i % 7 === 0 ? 0 : i), i % 7 === 0 ? '😀' : 'x')
  void t.remove(0, 2)
  const want = t.value
  expect(c.status.pending).toBe(1)
  c.goOnline()
  await c.whenSynced()
  expect((await s.backend.store.fetch(keys('t'))).results.get('t')).toBe(want)
  const ops = await s.backend.store.getOps(keys('t'), {})
  expect(ops.map(o => o.txn.get('t')?.type)).toEqual(['set'])
})

test('a live query shows every local write, also those composed into an unsent entry', async () => {
  const s = await server()
  const c = await offlineClient(s)
  const seen: unknown[] = []
  c.query(prefix('todos/')).subscribe(rows => seen.push(rows.get('todos/1')))
  const todo = c.doc<{ title: string; done: boolean }>('todos/1')
  void todo.set({ title: 'a', done: false })
  void todo.setAt(['done'], true)
  void todo.setAt(['title'], 'b')
  expect(c.status.pending).toBe(1)
  expect(seen.at(-1)).toEqual({ title: 'b', done: true })
  // Typing into a text outside the query does not re-emit its rows on every keystroke.
  const t = c.text('notes/1')
  void t.insert(0, 'a')
  const before = seen.length
  for (let i = 0; i < 50; i++) void t.insert(1, 'b')
  expect(seen.length).toBe(before)
})

test('writes composed into one entry share one promise, resolved with the versions of their txn', async () => {
  const s = await server()
  const c = await offlineClient(s)
  const t = c.text('t')
  const p1 = t.insert(0, 'a')
  const p2 = t.insert(1, 'b')
  expect(p2).toBe(p1)
  const p3 = c.doc('j').set({ x: 1 })
  expect(p3).not.toBe(p1)
  c.goOnline()
  const [v1, v3] = await Promise.all([p1, p3])
  expect(Object.values(v1)[0]).toBeGreaterThan(0)
  expect(v3).not.toEqual(v1)
})

test('doc snapshots are cached lazily: an update is cached within a second, or at once by whenPersisted', async () => {
  const s = await server()
  const cache = memoryCache()
  const a = createClient({ dial: () => s.connectLocal(), cache, log: () => {} })
  const b = createClient({ dial: () => s.connectLocal(), log: () => {} })
  open.push(a, b)
  a.text('t')
  await a.whenSynced()
  await b.text('t').insert(0, 'hello')
  await b.whenSynced()
  while (a.text('t').value !== 'hello') await new Promise(r => setTimeout(r, 5))
  expect((await cache.load()).docs.get('t')).toBeUndefined()
  await a.whenPersisted()
  expect((await cache.load()).docs.get('t')?.value).toBe('hello')
  await b.text('t').insert(5, '!')
  while (a.text('t').value !== 'hello!') await new Promise(r => setTimeout(r, 5))
  const deadline = Date.now() + 3000
  while ((await cache.load()).docs.get('t')?.value !== 'hello!' && Date.now() < deadline) await new Promise(r => setTimeout(r, 20))
  expect((await cache.load()).docs.get('t')?.value).toBe('hello!')
})

/** A random position in `s` (tokens `<n>` and dots) that is not inside a token. */
function boundary(r: ReturnType<typeof rng>, s: string): number {
  const at = [0]
  for (let i = 0; i < s.length; i++) if (s[i] === '>' || s[i] === '.') at.push(i + 1)
  return r.pick(at)
}

/**
 * Client A types tokens into a text while B types into it too; A crashes at a random moment
 * (its cache keeps only what was committed), restarts from that cache and syncs. Every token A
 * had sent (its write durable) is in the text exactly once; no token is there twice.
 */
test.each([1, 2, 3, 4, 5, 6, 7, 8])('crash while typing online (seed %i): nothing durable lost, nothing applied twice', async seed => {
  const r = rng(seed)
  const s = await server()
  const backing = memoryStore({ historyLimit: 1 })
  const cache = crashable(backing)
  const a1 = createClient({ dial: () => s.connectLocal(), cache: cache.store, clientId: 'a', log: () => {} })
  const b = createClient({ dial: () => s.connectLocal(), log: () => {} })
  open.push(b)
  const ta = a1.text('t')
  const tb = b.text('t')
  await a1.whenSynced()
  await b.whenSynced()
  const sent: string[] = []
  const acked = new Set<string>()
  const steps = 200 + r.int(400)
  for (let i = 0; i < steps; i++) {
    const tok = `<${i}>`
    const p = ta.insert(boundary(r, ta.value), tok)
    sent.push(tok)
    void p.then(() => acked.add(tok), () => {})
    if (r.next() < 0.3) void tb.insert(boundary(r, tb.value), '.')
    if (r.next() < 0.3) await new Promise(res => setImmediate(res))
  }
  const acknowledged = new Set(acked)
  await crash(a1, cache)

  const a2 = createClient({ dial: () => s.connectLocal(), cache: backing, clientId: 'a', log: () => {} })
  open.push(a2)
  await a2.whenSynced()
  await b.whenSynced()
  const text = (await s.backend.store.fetch(keys('t'))).results.get('t') as string
  for (const tok of sent) {
    const n = text.split(tok).length - 1
    expect(n, tok).toBeLessThanOrEqual(1)
    if (acknowledged.has(tok)) expect(n, tok).toBe(1)
  }
  expect(a2.text('t').value).toBe(text)
  // Its ops in the server's log: each {clientId, seq} once.
  const ids = (await s.backend.store.getOps(keys('t'), {})).filter(x => x.meta?.c === 'a').map(x => String(x.meta?.s))
  expect(new Set(ids).size).toBe(ids.length)
})

test('convergence fuzz with crashes instead of clean restarts: 300 seeds', async () => {
  for (let seed = 1; seed <= 300; seed++) await runConvergenceFuzz(seed, { makeWorld: makeCrashWorld })
}, 120_000)

test('a cache that is a ClientCache (memoryCache) is not a Store: used as given', () => {
  const c: ClientCache = memoryCache()
  expect(c.kind).toBe('memory')
})
