// A doc's subscription takes its updates pushed (core's `listen`): each is processed inside the
// delivery of the frame that carries it, in order; a processing error still resyncs the doc; a
// subscription that cannot push is iterated with the same result. What else a received update
// costs: only the live queries whose query matches its key rebuild their rows.
import { afterEach, describe, expect, test } from 'vitest'
import type { Subscription } from '@statecraft/core'
import { Remote, memoryCache } from '@statecraft/client'
import type { LocalPort } from '@statecraft/protocol'
import { localServers } from './support/local.ts'

const setup = localServers()

/** `port` with every frame's delivery bracketed: `state.inFrame` is true while the client handles one. */
function tapped(port: LocalPort, state: { inFrame: boolean }): LocalPort {
  let handler: ((f: string | Uint8Array) => void) | undefined
  const wrapped = (f: string | Uint8Array): void => {
    state.inFrame = true
    try {
      handler?.(f)
    } finally {
      state.inFrame = false
    }
  }
  Object.defineProperty(port, 'onframe', {
    configurable: true,
    get: () => (handler === undefined ? undefined : wrapped),
    set: (h: ((f: string | Uint8Array) => void) | undefined) => {
      handler = h
    },
  })
  return port
}

const subscribe = Object.getOwnPropertyDescriptor(Remote.prototype, 'subscribe')?.value as Remote['subscribe']
/** Remote subscriptions that cannot push (as a proxy's own would be): the SDK iterates them. */
function iterateOnly(): void {
  Remote.prototype.subscribe = function (this: Remote, ...args: Parameters<Remote['subscribe']>): Subscription {
    const sub = subscribe.apply(this, args)
    return { [Symbol.asyncIterator]: () => sub[Symbol.asyncIterator](), close: () => sub.close() }
  }
}
afterEach(() => {
  Remote.prototype.subscribe = subscribe
})

describe.for(['listen', 'iterate'] as const)('a doc subscription that %s', mode => {
  test('takes remote updates in order (pushed: inside the frame that carries them)', async () => {
    if (mode === 'iterate') iterateOnly()
    const { server, client } = await setup()
    const a = client({ compose: false })
    const frame = { inFrame: false }
    const b = client({ dial: () => tapped(server.connectLocal(), frame) })
    await a.doc('x').set({ n: -1 })
    await b.doc('x').get()
    await b.whenSynced()
    const seen: number[] = []
    const outside: number[] = []
    b.doc<{ n: number }>('x').subscribe(s => {
      const n = s.value?.n ?? Number.NaN
      if (seen.at(-1) === n) return
      seen.push(n)
      if (!frame.inFrame) outside.push(n)
    })
    const writes = Array.from({ length: 40 }, (_, i) => a.doc('x').set({ n: i }))
    await Promise.all(writes)
    await a.whenSynced()
    for (let i = 0; i < 50 && seen.at(-1) !== 39; i++) await new Promise(r => setTimeout(r, 5))
    // The first call is subscribe's own; pushed, every later one ran while the update's frame was handled.
    if (mode === 'listen') expect(outside).toEqual([-1])
    else expect(outside).toEqual(seen)
    expect(seen).toEqual([-1, ...Array.from({ length: 40 }, (_, i) => i)])
    expect(b.doc('x').value).toEqual({ n: 39 })
  })

  test('resyncs from a snapshot on an update the doc cannot take (a corrupt cached state)', async () => {
    if (mode === 'iterate') iterateOnly()
    const { server, client } = await setup()
    const a = client()
    await a.text('t').insert(0, 'hello world')
    await a.whenSynced()
    const at = (await server.backend.store.fetch({ kind: 'keys', keys: ['t'] })).versions
    // b's cache says the text is 'ab' at the server's current version: the next remote op does not fit it.
    const cache = memoryCache()
    await cache.commit({ docs: new Map([['t', { value: 'ab', versions: at }]]), entries: new Map(), seqs: new Map() })
    const logs: string[] = []
    const b = client({ cache, log: m => logs.push(m) })
    const tb = b.text('t')
    await b.whenSynced()
    expect(tb.value).toBe('ab')
    await a.text('t').insert(11, '!')
    await a.whenSynced()
    for (let i = 0; i < 100 && tb.value !== 'hello world!'; i++) await new Promise(r => setTimeout(r, 5))
    expect(tb.value).toBe('hello world!')
    expect(logs.some(m => m.startsWith('resyncing "t"'))).toBe(true)
    // And it stays live: the next edit arrives as an op.
    await a.text('t').insert(0, '> ')
    await a.whenSynced()
    for (let i = 0; i < 100 && tb.value !== '> hello world!'; i++) await new Promise(r => setTimeout(r, 5))
    expect(tb.value).toBe('> hello world!')
    await b.whenSynced()
  })
})

test('a received update re-emits only the live queries its key matches; whenSynced waits for every opened doc', async () => {
  const { client } = await setup()
  const a = client({ compose: false })
  const b = client()
  for (let i = 0; i < 20; i++) void a.doc(`a/${i}`).set({ n: 0 })
  void a.doc('b/0').set({ n: 0 })
  await a.whenSynced()
  const rowsSeen: number[] = []
  b.query({ kind: 'range', prefix: 'a/' }).subscribe(rows => rowsSeen.push(rows.size))
  for (let i = 0; i < 20; i++) b.doc(`a/${i}`).subscribe(() => {})
  const other = b.doc<{ n: number }>('b/0')
  other.subscribe(() => {})
  await b.whenSynced()
  expect(rowsSeen.at(-1)).toBe(20)
  // Updates of a doc outside the query change no row: no re-emit.
  const before = rowsSeen.length
  for (let n = 1; n <= 5; n++) await a.doc('b/0').set({ n })
  await a.whenSynced()
  for (let i = 0; i < 100 && other.value?.n !== 5; i++) await new Promise(r => setTimeout(r, 5))
  expect(other.value).toEqual({ n: 5 })
  expect(rowsSeen.length).toBe(before)
  // One of its own docs changing does re-emit.
  await a.doc('a/3').set({ n: 1 })
  await a.whenSynced()
  await b.whenSynced()
  expect(rowsSeen.length).toBeGreaterThan(before)
  // A doc opened now is waited for: synced only once it has caught up.
  const late = b.doc('a/19x')
  let synced = false
  const p = b.whenSynced().then(() => (synced = true))
  expect(synced).toBe(false)
  await p
  expect(late.snapshot().fromCache).toBe(false)
})
