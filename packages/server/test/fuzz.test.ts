// Fuzz: 10,000+ random and mutated frames from untrusted connections (in-process and WebSocket),
// then a well-behaved client on the same server still works, no data changed, every refused frame
// was answered and logged exactly once, and nothing failed inside the server. Seeded: the seed is
// in the failure message (replay with STATECRAFT_SEED=…).
import { expect, test } from 'vitest'
import { StatecraftError, memoryStore, prefix, applyUpdate, type Key, type Store, type Value } from '@statecraft/core'
import { connect } from '@statecraft/client'
import { encode, type Frame } from '@statecraft/protocol'
import { createServer, type LogEvent } from '@statecraft/server'
import { chooseSeed, withSeed, type Rng } from '@statecraft/test-kit'
import { RawClient } from './raw-client.ts'

const FRAMES = 10_000
const MAX_FRAME = 16 * 1024

/** What the rules give an attacker: reads work, writes are forbidden. */
function readOnly(s: Store): Store {
  const forbidden = (): Promise<never> => Promise.reject(new StatecraftError('forbidden', 'read-only'))
  return {
    info: { ...s.info, capabilities: { ...s.info.capabilities, mutable: false } },
    fetch: (q, o) => s.fetch(q, o),
    getOps: (q, f, t, o) => s.getOps(q, f, t, o),
    subscribe: (q, o) => s.subscribe(q, o),
    mutate: forbidden,
    close: async () => {},
  }
}

const TYPES = ['hello', 'fetch', 'getOps', 'mutate', 'subscribe', 'unsubscribe', 'ping', 'pong', 'welcome', 'update', '', 'x'.repeat(100)]

function randomString(r: Rng): string {
  const n = r.pick([0, 1, 3, 8, 40, 300])
  let s = ''
  for (let i = 0; i < n; i++) s += String.fromCharCode(r.pick([r.int(128), r.int(0x10000), 0xd800 + r.int(0x800), 36, 34, 92, 123]))
  return s
}

function randomValue(r: Rng, depth = 0): unknown {
  switch (r.int(depth > 4 ? 9 : 13)) {
    case 0: return null
    case 1: return r.next() < 0.5
    case 2: return r.pick([0, -1, 1.5, 2 ** 53, -(2 ** 60), 1e308, NaN, Infinity, -0, 4294967296])
    case 3: return r.int(30)
    case 4: return randomString(r)
    case 5: return r.pick(TYPES)
    case 6: return new Uint8Array(r.int(20)).map(() => r.int(256))
    case 7: return { kind: r.pick(['keys', 'range', 'native', 'bogus']), keys: [randomString(r)], prefix: randomString(r), limit: r.pick([0, 1, -1, 1.5, 10]) }
    case 8: return { [r.pick(['$b', '$$b', '__proto__', 'constructor', 'type', 'id'])]: randomValue(r, depth + 1) }
    case 9: return Array.from({ length: r.int(4) }, () => randomValue(r, depth + 1))
    case 10: return Object.fromEntries(Array.from({ length: r.int(4) }, () => [randomString(r), randomValue(r, depth + 1)]))
    case 11: { let v: unknown = 1; for (let i = 0, n = r.int(1100); i < n; i++) v = [v]; return v }
    default: return [r.pick(['a', 'b', 'zz']), { type: r.pick(['set', 'del', 'text', 'json1', 'nope']), value: randomValue(r, depth + 1), op: randomValue(r, depth + 1) }]
  }
}

const query = (r: Rng): object => r.pick([{ kind: 'keys', keys: ['a', 'b'] }, { kind: 'range', prefix: 'k/', limit: r.int(5) }, { kind: 'range' }, { kind: 'native', backend: 'sql', query: 'x' }])

/** A well-formed message of a random type (ids from a small range, so they collide). */
function validMessage(r: Rng): Record<string, unknown> {
  const id = r.int(20)
  switch (r.int(8)) {
    case 0: return { type: 'hello', protocol: r.pick([1, 1, 2]), token: r.pick(['attacker', 'nope']) }
    case 1: return { type: 'fetch', id, query: query(r), ...(r.next() < 0.3 ? { atVersion: { s: r.int(40) } } : {}) }
    case 2: return { type: 'getOps', id, query: query(r), from: { s: r.int(40) }, limit: r.int(3) }
    case 3: return { type: 'mutate', id, txn: [['a', { type: 'set', value: r.int(9) }], ['t', { type: 'text', op: ['x'] }]], clientId: 'evil', seq: r.int(5) }
    case 4: return { type: 'subscribe', id, query: query(r), ...(r.next() < 0.5 ? { fromVersion: { s: r.int(40) } } : {}) }
    case 5: return { type: 'unsubscribe', id }
    case 6: return { type: 'ping', nonce: r.int(9) }
    default: return { type: 'pong' }
  }
}

/** Changes one thing in a message: drops, retypes or adds a field. */
function mutateMessage(m: Record<string, unknown>, r: Rng): Record<string, unknown> {
  const out = { ...m }
  const ks = Object.keys(out)
  for (let n = 1 + r.int(3); n > 0; n--) {
    const k = r.pick(ks)
    const what = r.int(4)
    if (what === 0) delete out[k]
    else if (what === 1) out[k] = randomValue(r)
    else if (what === 2) out[randomString(r) || 'extra'] = randomValue(r)
    else out.type = r.pick(TYPES)
  }
  return out
}

function mutateBytes(f: Frame, r: Rng): Frame {
  const b = typeof f === 'string' ? new TextEncoder().encode(f) : f.slice()
  const out = r.int(3) === 0 ? b.subarray(0, r.int(b.length + 1)) : b
  for (let n = 1 + r.int(4); n > 0 && out.length > 0; n--) out[r.int(out.length)] = r.int(256)
  return typeof f === 'string' && r.next() < 0.5 ? new TextDecoder().decode(out) : out
}

function randomFrame(r: Rng): Frame {
  const enc = r.next() < 0.5 ? 'json' : 'msgpack'
  switch (r.int(8)) {
    case 0: return new Uint8Array(r.int(64)).map(() => r.int(256))
    case 7: {
      // Nesting far deeper than any encoder would write.
      const n = 1000 + r.int(20_000)
      return r.next() < 0.5 ? '{"type":"fetch","id":1,"query":' + '['.repeat(n) + ']'.repeat(n) + '}' : new Uint8Array(n).fill(0x91)
    }
    case 1: return randomString(r)
    case 2: return encode(validMessage(r), enc)
    case 3: return mutateBytes(encode(validMessage(r), enc), r)
    case 4: return encode({ x: randomValue(r) }, enc)
    case 5: return r.int(40) === 0 ? (r.next() < 0.5 ? 'x'.repeat(MAX_FRAME + 1 + r.int(1000)) : new Uint8Array(MAX_FRAME + 1)) : encode(mutateMessage(validMessage(r), r), enc)
    default: return encode(mutateMessage(validMessage(r), r), enc)
  }
}

/** Codes only the server's own checks give (a store can also say `unsupported`, but only to a request). */
const REFUSALS = new Set(['protocol', 'too-large', 'unauthorized', 'rate-limited'])

test(`fuzz: ${FRAMES} random and mutated frames change nothing and harm no one`, async () => {
  const seed = chooseSeed()
  await withSeed(seed, async r => {
    const store = memoryStore({ uid: 's' })
    for (let i = 0; i < 20; i++) await store.mutate(new Map([[`k/${i}`, { type: 'set', value: i % 3 === 0 ? new Uint8Array([i]) : { i } }]]))
    await store.mutate(new Map([['t', { type: 'text', op: ['hello'] }]]))
    const before = await store.fetch(prefix(''))
    const logs: LogEvent[] = []
    const server = await createServer<{ role: string }>({
      store,
      log: e => logs.push(e),
      limits: { maxFrameBytes: MAX_FRAME, maxSubscriptions: 50, maxInFlight: 8 },
      authenticate: t => (t === 'attacker' ? { role: 'attacker' } : t === 'good' ? { role: 'writer' } : null),
      rules: (s, claims) => (claims.role === 'attacker' ? readOnly(s) : s),
    })
    const slots: (RawClient | undefined)[] = [undefined, undefined, undefined, undefined, undefined]
    const retired: RawClient[] = []
    try {
      for (let i = 0; i < FRAMES; i++) {
        const slot = r.int(slots.length)
        let c = slots[slot]
        if (c === undefined || c.closedWith !== undefined || c.port.bufferedAmount > 1 << 20) {
          if (c !== undefined) retired.push(c)
          c = await RawClient.open(server, slot === 0 ? 'ws' : 'local')
          slots[slot] = c
          if (r.next() < 0.9) await c.hello('attacker')
        }
        c.sendFrame(randomFrame(r))
        if (i % 100 === 99) await new Promise(res => setTimeout(res, 0))
      }
      // Let every connection catch up: a ping answered means every frame before it was handled.
      for (const c of slots) {
        if (c === undefined || c.closedWith !== undefined) continue
        c.send({ type: 'ping', nonce: 424242 })
        await c.next(m => m.type === 'pong' && m.nonce === 424242, 5000).catch(e => {
          if (c.closedWith === undefined) throw e
        })
      }
      await new Promise(res => setTimeout(res, 50))

      expect(logs.filter(l => l.level === 'error'), 'failures inside the server').toEqual([])
      // Each refused frame: exactly one error reply and one log line (slow-reader drops aside).
      const all = [...retired, ...slots.filter((c): c is RawClient => c !== undefined)]
      const refusals = all.flatMap(c => c.received).filter(m => m.type === 'error' && (REFUSALS.has(m.error.code) || (m.error.code === 'unsupported' && m.id === undefined)) && m.error.details?.reason !== 'slow-reader')
      const refusedLogs = logs.filter(l => l.level === 'warn' && !l.message.startsWith('dropped') && !l.message.startsWith('closed'))
      expect(refusals.length).toBeGreaterThan(FRAMES / 4)
      // Replies can be lost with a connection that closed under them, never the other way round.
      expect(refusedLogs.length).toBeGreaterThanOrEqual(refusals.length)
      expect(refusedLogs.length - refusals.length).toBeLessThanOrEqual(retired.length + slots.length)

      const after = await store.fetch(prefix(''))
      expect(after.versions).toEqual(before.versions)
      expect(after.results).toEqual(before.results)

      // A well-behaved client, on each transport, still reads, writes and is told of writes.
      for (const transport of ['ws', 'local'] as const) {
        const good = await connect(transport === 'ws' ? server.url : () => server.connectLocal(), { auth: () => 'good', log: () => {} })
        const sub = good.subscribe(prefix(''))
        const it = sub[Symbol.asyncIterator]()
        const view = new Map<Key, Value>()
        applyUpdate(view, (await it.next()).value)
        expect(view).toEqual((await store.fetch(prefix(''))).results)
        await good.mutate(new Map([[`good/${transport}`, { type: 'set', value: transport }]]))
        applyUpdate(view, (await it.next()).value)
        expect(view.get(`good/${transport}`)).toBe(transport)
        sub.close()
        await good.close()
      }
      for (const c of slots) c?.port.close()
      await new Promise(res => setTimeout(res, 50))
      expect(server.backend.stats()).toEqual({ connections: 0, subscriptions: 0, inFlight: 0 })
    } finally {
      await server.close()
      await store.close()
    }
  })
}, 60_000)
