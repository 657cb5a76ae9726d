// The hand-written checks of the hot messages never accept what the zod schemas refuse, and what
// they accept is exactly what zod returns; they do accept the usual messages (else they are useless).
import { expect, test } from 'vitest'
import { clientMessageSchema, decode, decodeServerFrame, encode, serverMessageSchema } from '@statecraft/protocol'
import { fastClientMessage, fastServerMessage } from '../src/fast-check.ts'

const good: object[] = [
  { type: 'update', id: 1, txns: [{ versions: { s: 2 }, txn: [['k', { type: 'set', value: { a: [1, 'x', null] } }]], meta: { c: 'c1', s: 3 } }], versions: { s: 2 }, caughtUp: true },
  { type: 'update', id: 0, replace: [['a', 1], ['b', new Uint8Array([1])]], txns: [], leave: ['x'], enter: [['e', 'v']], versions: { s: 1, t: 0 }, caughtUp: false },
  { type: 'update', id: 9, txns: [{ versions: { s: 3 }, txn: [['k', { type: 'del' }], ['t', { type: 'text', op: [2, 'hi', { d: 1 }] }]] }], versions: { s: 3 }, caughtUp: true },
  { type: 'update', id: 2, txns: [], versions: { s: 2 }, caughtUp: true, mutated: [{ id: 3, versions: { s: 2 } }] },
  { type: 'mutated', id: 4, versions: { s: 5 } },
  { type: 'fetched', id: 5, results: [['a', { x: 1 }]], versions: { s: 5 }, more: true },
  { type: 'ops', id: 6, txns: [{ versions: { s: 1 }, txn: [['a', { type: 'json1', op: ['x', { i: 1 }] }]] }] },
  { type: 'mutate', id: 7, txn: [['a', { type: 'set', value: 1 }]], baseVersions: { s: 1 }, conflictKeys: ['a'], clientId: 'c', seq: 1, meta: { c: 'c', s: 1 } },
]

/** A small seeded generator (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const oddities: unknown[] = [undefined, null, -1, 1.5, 2 ** 53, 'str', '', true, [], {}, [1], [['k']], [['k', 1, 2]], { type: 'set' }, { type: 'del', value: 1 }, { type: 'set', value: 1, x: 2 }, { type: 'x' }, { x: 1 }, new Uint8Array([1]), NaN, Object.create(null) as object]

/** `v` with one thing somewhere inside changed, added or removed. */
function mutate(v: unknown, r: () => number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T
  if (Array.isArray(v)) {
    const out = [...v]
    const roll = r()
    if (out.length > 0 && roll < 0.5) out[Math.floor(r() * out.length)] = mutate(out[Math.floor(r() * out.length)], r)
    else if (out.length > 0 && roll < 0.7) out.splice(Math.floor(r() * out.length), 1)
    else out.push(pick(oddities))
    return out
  }
  if (typeof v === 'object' && v !== null && !(v instanceof Uint8Array)) {
    const out: Record<string, unknown> = { ...(v as Record<string, unknown>) }
    const ks = Object.keys(out)
    const roll = r()
    if (ks.length > 0 && roll < 0.6) {
      const k = pick(ks)
      out[k] = r() < 0.5 ? mutate(out[k], r) : pick(oddities)
    } else if (ks.length > 0 && roll < 0.8) delete out[pick(ks)]
    else out[pick(['extra', 'type', 'id', 'meta', 'more', 'leave', 'value', 'op'])] = pick(oddities)
    return out
  }
  return pick(oddities)
}

test('the usual messages take the fast path, and it returns what zod returns', () => {
  for (const m of good) {
    for (const enc of ['msgpack', 'json'] as const) {
      const raw = decode(encode(m, enc))
      const fast = (m as { type: string }).type === 'mutate' ? fastClientMessage(raw) : fastServerMessage(raw)
      expect(fast, JSON.stringify(m)).toBeDefined()
      const schema = (m as { type: string }).type === 'mutate' ? clientMessageSchema : serverMessageSchema
      expect(schema.parse(raw)).toEqual(fast)
    }
  }
})

test('fuzz: whatever the fast checks accept, zod accepts, to the same message (20,000 variants)', () => {
  const r = rng(20261125)
  let fastCount = 0
  for (let i = 0; i < 20_000; i++) {
    let v: unknown = good[i % good.length]
    for (let n = 1 + Math.floor(r() * 3); n > 0; n--) v = mutate(v, r)
    const fs = fastServerMessage(v)
    const fc = fastClientMessage(v)
    if (fs !== undefined) {
      fastCount++
      const z = serverMessageSchema.safeParse(v)
      expect(z.success, JSON.stringify(v)).toBe(true)
      expect(z.data).toEqual(fs)
    }
    if (fc !== undefined) {
      fastCount++
      const z = clientMessageSchema.safeParse(v)
      expect(z.success, JSON.stringify(v)).toBe(true)
      expect(z.data).toEqual(fc)
    }
  }
  // Some variants stay valid (an extra meta, a changed value): the fast path saw them.
  expect(fastCount).toBeGreaterThan(100)
})

test('a malformed update still gets zod\'s error, naming the field', () => {
  const p = decodeServerFrame(encode({ type: 'update', id: 1, txns: [{ versions: { s: -1 }, txn: [] }], versions: {}, caughtUp: true }))
  expect(p.ok).toBe(false)
  if (!p.ok) expect(p.error.message).toMatch(/^txns\.0\.versions\.s: /)
})
