// Text docs are held as ropes (server state and local value edited in place): positions stay code
// points through emoji (surrogate pairs), flags and ZWJ sequences (several code points), combining
// marks; local and remote edits, a reload from the cache (a string again), cursors, rollbacks.
import { expect, test } from 'vitest'
import { StatecraftError, keys, memoryStore } from '@statecraft/core'
import { rng } from '@statecraft/test-kit'
import { type TextHandle } from '@statecraft/client'
import { withMutate } from './support/stores.ts'
import { localServers } from './support/local.ts'

const setup = localServers()

/** Pieces of text with several code points each, or astral ones. */
const PIECES = ['a', 'é', 'e\u0301', '😀', '👍🏽', '🇫🇷', '👩‍👩‍👧', '\u0915\u094d\u0937', 'z\u0308\u0301', '𝄞', ' ']

/** Code-point model of the text: what ot-text-unicode positions count. */
class Model {
  cps: string[] = []
  get text(): string {
    return this.cps.join('')
  }
  insert(pos: number, s: string): void {
    this.cps.splice(pos, 0, ...Array.from(s))
  }
  remove(pos: number, n: number): void {
    this.cps.splice(pos, n)
  }
}

function randomEdits(t: TextHandle, m: Model, r: ReturnType<typeof rng>, n: number): void {
  for (let i = 0; i < n; i++) {
    const len = m.cps.length
    if (len > 0 && r.next() < 0.35) {
      const pos = r.int(len)
      const k = 1 + r.int(Math.min(3, len - pos))
      void t.remove(pos, k)
      m.remove(pos, k)
    } else {
      const pos = r.int(len + 1)
      const s = r.pick(PIECES) + r.pick(PIECES)
      void t.insert(pos, s)
      m.insert(pos, s)
    }
    expect(t.value).toBe(m.text)
  }
}

test('offline edits with emoji, flags, ZWJ sequences and combining marks land at code-point positions', async () => {
  const { client } = await setup()
  const c = client({ offline: true })
  await c.cacheReady
  const t = c.text('t')
  const m = new Model()
  randomEdits(t, m, rng(1), 400)
  const cur = t.cursor(m.cps.length)
  void t.insert(0, '🇫🇷')
  expect(cur.pos).toBe(m.cps.length + 2)
  void t.remove(0, 2)
  expect(cur.pos).toBe(m.cps.length)
  void t.remove(0, m.cps.length)
  m.cps = []
  expect(t.value).toBe('')
  expect(cur.pos).toBe(0)
})

test('an op that does not fit is refused and changes nothing', async () => {
  const { client } = await setup()
  const c = client({ offline: true })
  await c.cacheReady
  const t = c.text('t')
  void t.insert(0, '😀e\u0301')
  await expect(t.insert(4, 'x')).rejects.toBeInstanceOf(StatecraftError)
  await expect(t.remove(1, 5)).rejects.toMatchObject({ code: 'invalid' })
  expect(t.value).toBe('😀e\u0301')
  void t.insert(3, '!')
  expect(t.value).toBe('😀e\u0301!')
})

test('two clients editing astral text concurrently converge with the server, and a reload from the cache keeps editing right', async () => {
  const { server, client } = await setup()
  const cache = memoryStore({ historyLimit: 1 })
  const a = client({ cache })
  const b = client()
  const ta = a.text('t')
  const tb = b.text('t')
  await a.whenSynced()
  await b.whenSynced()
  const r = rng(2)
  for (let round = 0; round < 20; round++) {
    const ma = new Model()
    ma.cps = Array.from(ta.value)
    const mb = new Model()
    mb.cps = Array.from(tb.value)
    randomEdits(ta, ma, r, 10)
    randomEdits(tb, mb, r, 10)
    await new Promise(res => setImmediate(res))
  }
  await a.whenSynced()
  await b.whenSynced()
  await a.whenSynced()
  const text = (await server.backend.store.fetch(keys('t'))).results.get('t') as string
  expect(ta.value).toBe(text)
  expect(tb.value).toBe(text)
  expect(Array.from(text).every(ch => ch.length <= 2)).toBe(true)

  // Reload from the cache, offline: the text is a string again, then edited as a rope.
  await a.whenPersisted()
  await a.close()
  const a2 = client({ cache, offline: true })
  await a2.cacheReady
  const t2 = a2.text('t')
  expect(t2.value).toBe(text)
  const m = new Model()
  m.cps = Array.from(text)
  randomEdits(t2, m, rng(3), 50)
  a2.goOnline()
  await a2.whenSynced()
  expect((await server.backend.store.fetch(keys('t'))).results.get('t')).toBe(m.text)
})

test('a refused write on a text rolls back the rope and keeps later edits in place', async () => {
  const { server, client } = await setup({
    rules: s =>
      withMutate(s, (txn, o, inner) => {
        const op = txn.get('t')
        if (op?.type === 'text' && JSON.stringify(op.op).includes('⛔')) return Promise.reject(new StatecraftError('forbidden', 'no'))
        return inner.mutate(txn, o)
      }),
  })
  const c = client({ onError: () => {}, compose: false })
  const t = c.text('t')
  await t.insert(0, '👩‍👩‍👧 ok')
  c.goOffline()
  const bad = t.insert(1, '⛔')
  void t.insert(9, '🇫🇷')
  expect(t.value).toBe('👩⛔‍👩‍👧 ok🇫🇷')
  c.goOnline()
  await expect(bad).rejects.toMatchObject({ code: 'forbidden' })
  await c.whenSynced()
  expect(t.value).toBe('👩‍👩‍👧 ok🇫🇷')
  expect((await server.backend.store.fetch(keys('t'))).results.get('t')).toBe('👩‍👩‍👧 ok🇫🇷')
})
