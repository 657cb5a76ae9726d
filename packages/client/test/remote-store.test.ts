// The remote store against a scripted server: what it sends, in what order, and what it does on
// replies, errors, disconnects and close.
import { describe, expect, test } from 'vitest'
import { keys, prefix, type Update } from '@statecraft/core'
import { backoffDelay, connect } from '@statecraft/client'
import { FakeServer, tick } from './fake-server.ts'

const fast = { reconnect: { minDelayMs: 1, maxDelayMs: 2 }, log: () => {} }
const setOp = (value: number) => new Map([['k', { type: 'set' as const, value }]])

test('connect resolves with the info of the welcome', async () => {
  const fs = new FakeServer()
  const store = await connect(fs.dial, fast)
  expect(store.info.uid).toBe('s')
  expect(store.connected).toBe(true)
  await store.close()
})

test('connect rejects, and does not retry, when the hello is refused', async () => {
  const fs = new FakeServer()
  fs.welcome = false
  const p = connect(fs.dial, fast)
  const c = await fs.connections(1)
  await tick()
  c.send({ type: 'error', error: { code: 'unauthorized', message: 'no' } })
  await expect(p).rejects.toMatchObject({ code: 'unauthorized' })
  await tick(20)
  expect(fs.conns).toHaveLength(1)
})

test('bad input fails locally with invalid, and nothing is sent', async () => {
  const fs = new FakeServer()
  const store = await connect(fs.dial, fast)
  await expect(store.mutate(new Map())).rejects.toMatchObject({ code: 'invalid' })
  await expect(store.mutate(new Map([['k', { type: 'set', value: () => 1 } as never]]))).rejects.toMatchObject({ code: 'invalid' })
  await expect(store.fetch({ kind: 'bogus' } as never)).rejects.toMatchObject({ code: 'invalid' })
  await expect(store.getOps(keys('a'), { s: -1 })).rejects.toMatchObject({ code: 'invalid' })
  await tick()
  expect(fs.last.received).toEqual([])
  await store.close()
})

test('writes carry the store clientId and a growing seq; given ones are kept', async () => {
  const fs = new FakeServer()
  const store = await connect(fs.dial, fast)
  for (const p of [store.mutate(setOp(1)), store.mutate(setOp(2)), store.mutate(setOp(3), { clientId: 'mine', seq: 77 })]) p.catch(() => {})
  const c = fs.last
  const ms = [await c.next('mutate'), await c.next('mutate'), await c.next('mutate')]
  expect(ms.map(m => [m.clientId, m.seq])).toEqual([[store.clientId, 1], [store.clientId, 2], ['mine', 77]])
  await store.close()
})

test('after a disconnect, unanswered requests are sent again, unchanged and in order', async () => {
  const fs = new FakeServer()
  const store = await connect(fs.dial, fast)
  const first = fs.last
  const txn = setOp(1)
  const w1 = store.mutate(txn)
  const w2 = store.mutate(setOp(2))
  const r = store.fetch(keys('k'))
  const [m1, m2, f] = [await first.next('mutate'), await first.next('mutate'), await first.next('fetch')]
  first.send({ type: 'mutated', id: m1.id, versions: { s: 1 } })
  expect(await w1).toEqual({ s: 1 })
  txn.set('k', { type: 'set', value: 999 }) // the caller's change cannot reach a re-send
  first.port.terminate()
  const second = await fs.connections(2)
  const [m2b, fb] = [await second.next('mutate'), await second.next('fetch')]
  expect(m2b).toEqual(m2)
  expect(fb).toEqual(f)
  expect(second.received).toEqual([])
  second.send({ type: 'mutated', id: m2b.id, versions: { s: 2 } })
  second.send({ type: 'fetched', id: fb.id, results: [['k', 2]], versions: { s: 2 } })
  expect(await w2).toEqual({ s: 2 })
  expect((await r).results.get('k')).toBe(2)
  await store.close()
})

test('no more than maxInFlight requests are out at once', async () => {
  const fs = new FakeServer()
  fs.welcome = { maxInFlight: 2 }
  const store = await connect(fs.dial, fast)
  const ps = [1, 2, 3, 4, 5].map(v => store.mutate(setOp(v)))
  const c = fs.last
  await tick()
  expect(c.received).toHaveLength(2)
  for (let i = 0; i < 5; i++) {
    const m = await c.next('mutate')
    c.send({ type: 'mutated', id: m.id, versions: { s: i + 1 } })
  }
  expect(await Promise.all(ps)).toEqual([1, 2, 3, 4, 5].map(s => ({ s })))
  await store.close()
})

test('a request over the server frame limit fails with too-large', async () => {
  const fs = new FakeServer()
  fs.welcome = { maxFrameBytes: 100 }
  const store = await connect(fs.dial, fast)
  await expect(store.mutate(new Map([['k', { type: 'set', value: 'x'.repeat(200) }]]))).rejects.toMatchObject({ code: 'too-large' })
  await store.close()
})

describe('subscriptions', () => {
  async function setup() {
    const fs = new FakeServer()
    const store = await connect(fs.dial, fast)
    const got: Update[] = []
    let ended: unknown = 'running'
    const sub = store.subscribe(prefix(''))
    void (async () => {
      try {
        for await (const u of sub) got.push(u)
        ended = undefined
      } catch (e) {
        ended = e
      }
    })()
    const s = await fs.last.next('subscribe')
    return { fs, store, got, sub, s, ended: () => ended }
  }
  const upd = (id: number, v: number, extra: object = {}) => ({
    type: 'update', id, txns: [{ versions: { s: v }, txn: [['k', { type: 'set', value: v }]] }], versions: { s: v }, caughtUp: true, ...extra,
  })

  test('resume from the last versions seen; replays at or below them are dropped; an empty catch-up is not passed on', async () => {
    const { fs, store, got, s } = await setup()
    expect(s.fromVersion).toBeUndefined()
    fs.last.send({ type: 'update', id: s.id, replace: [['k', 1]], txns: [], versions: { s: 1 }, caughtUp: true })
    fs.last.send(upd(s.id, 2))
    await tick()
    fs.last.port.terminate()
    const c2 = await fs.connections(2)
    const s2 = await c2.next('subscribe')
    expect(s2).toMatchObject({ id: s.id, fromVersion: { s: 2 } })
    c2.send({ type: 'update', id: s.id, txns: [], versions: { s: 2 }, caughtUp: true })
    c2.send({ type: 'update', id: s.id, txns: [upd(0, 2).txns[0], upd(0, 3).txns[0]], versions: { s: 3 }, caughtUp: true })
    await tick()
    expect(got.map(u => [u.replace === undefined ? 'txns' : 'replace', u.txns.map(t => t.versions.s), u.versions.s])).toEqual([
      ['replace', [], 1],
      ['txns', [2], 2],
      ['txns', [3], 3],
    ])
    await store.close()
  })

  test('dropped as a slow reader: resubscribes from where the reader is', async () => {
    const { fs, store, s } = await setup()
    fs.last.send(upd(s.id, 5))
    fs.last.send({ type: 'error', id: s.id, error: { code: 'rate-limited', message: 'slow', details: { reason: 'slow-reader' } } })
    const again = await fs.last.next('subscribe')
    expect(again).toMatchObject({ id: s.id, fromVersion: { s: 5 } })
    await store.close()
  })

  test('a resume point out of history: starts over with the whole result set', async () => {
    const { fs, store, s } = await setup()
    fs.last.send(upd(s.id, 5))
    fs.last.send({ type: 'error', id: s.id, error: { code: 'version-too-old', message: 'gone' } })
    const again = await fs.last.next('subscribe')
    expect(again.fromVersion).toBeUndefined()
    await store.close()
  })

  test('refused for the subscription limit: ends with rate-limited (no retry loop)', async () => {
    const { fs, store, s, ended } = await setup()
    fs.last.send({ type: 'error', id: s.id, error: { code: 'rate-limited', message: 'too many', details: { limit: 'maxSubscriptions' } } })
    await tick(80)
    expect(ended()).toMatchObject({ code: 'rate-limited' })
    expect(fs.last.received).toEqual([])
    await store.close()
  })

  test('any other error ends the subscription with it', async () => {
    const { fs, store, s, ended } = await setup()
    fs.last.send({ type: 'error', id: s.id, error: { code: 'forbidden', message: 'no' } })
    await tick()
    expect(ended()).toMatchObject({ code: 'forbidden' })
    await store.close()
  })

  test('closing a subscription tells the server; close() ends the others', async () => {
    const { fs, store, sub, ended } = await setup()
    sub.close()
    expect(await fs.last.next('unsubscribe')).toMatchObject({ type: 'unsubscribe' })
    const other = store.subscribe(keys('a'))
    await fs.last.next('subscribe')
    const it = other[Symbol.asyncIterator]()
    const done = it.next()
    await store.close()
    expect(await done).toEqual({ value: undefined, done: true })
    expect(ended()).toBeUndefined()
  })
})

test('after close(), every call rejects with closed and subscriptions end with closed', async () => {
  const fs = new FakeServer()
  const store = await connect(fs.dial, fast)
  const pending = store.fetch(keys('a'))
  await store.close()
  await expect(pending).rejects.toMatchObject({ code: 'closed' })
  await expect(store.fetch(keys('a'))).rejects.toMatchObject({ code: 'closed' })
  await expect(store.mutate(setOp(1))).rejects.toMatchObject({ code: 'closed' })
  await expect(store.getOps(keys('a'), { s: 0 })).rejects.toMatchObject({ code: 'closed' })
  await expect(store.subscribe(keys('a'))[Symbol.asyncIterator]().next()).rejects.toMatchObject({ code: 'closed' })
  await expect(store.whenConnected()).rejects.toMatchObject({ code: 'closed' })
  await store.close()
})

test('whenClosed resolves once the store has closed: undefined after close(), at once when it already has', async () => {
  const fs = new FakeServer()
  const store = await connect(fs.dial, fast)
  let ended: unknown = 'not yet'
  void store.whenClosed().then(e => (ended = e))
  fs.last.port.terminate() // a reconnecting store goes on
  await tick(20)
  expect(ended).toBe('not yet')
  await store.close()
  await tick()
  expect(ended).toBeUndefined()
  await expect(store.whenClosed()).resolves.toBeUndefined()
})

test('with reconnect: false, a lost connection fails everything with closed', async () => {
  const fs = new FakeServer()
  const store = await connect(fs.dial, { reconnect: false, log: () => {} })
  const pending = store.fetch(keys('a'))
  await fs.last.next('fetch')
  const closed = store.whenClosed()
  fs.last.port.terminate()
  await expect(pending).rejects.toMatchObject({ code: 'closed' })
  await expect(store.fetch(keys('a'))).rejects.toMatchObject({ code: 'closed' })
  await expect(closed).resolves.toMatchObject({ code: 'closed' })
})

test('a bad frame from the server is dropped; the connection goes on', async () => {
  const fs = new FakeServer()
  const logs: string[] = []
  const store = await connect(fs.dial, { ...fast, log: m => logs.push(m) })
  const p = store.fetch(keys('a'))
  const f = await fs.last.next('fetch')
  fs.last.port.send('{"type":"fetched"')
  fs.last.send({ type: 'fetched', id: f.id, results: [], versions: { s: 0 } })
  expect((await p).versions).toEqual({ s: 0 })
  expect(logs).toHaveLength(1)
  await store.close()
})

test('backoff doubles from the minimum, with jitter, up to the cap', () => {
  expect(backoffDelay(0, {}, () => 0)).toBe(50)
  expect(backoffDelay(0, {}, () => 1)).toBe(100)
  expect(backoffDelay(3, { minDelayMs: 10 }, () => 1)).toBe(80)
  expect(backoffDelay(50, { maxDelayMs: 1000 }, () => 1)).toBe(1000)
})
