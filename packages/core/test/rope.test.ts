// TextRope against ot-text-unicode on plain strings: seeded random ops (emoji, flags, combining
// marks, CJK, lone surrogates at every kind of boundary) must give identical text, length, slices
// and inverses; ops that do not fit throw `invalid` and change nothing; the sequential editing
// traces (Joseph Gentle's editing-traces, CC BY 4.0; ../shared/traces, not copied here) replay to
// their final text.
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { gunzipSync } from 'node:zlib'
import { describe, expect, test } from 'vitest'
import { type as textType } from 'ot-text-unicode'
import type { TextOp } from 'ot-text-unicode'
import { TextRope, isTextRope, hasCode } from '@statecraft/core'
import { rng, type Rng } from '@statecraft/test-kit'

// ot-text-unicode's invertWithDoc can change the op it is given (it merges deletes into the op's own objects): give it a copy.
const refInvert = (op: TextOp, doc: string): TextOp => (textType as unknown as { invertWithDoc(o: TextOp, d: string): TextOp }).invertWithDoc(structuredClone(op), doc)

/** Positions as unicount counts them (a trailing lone surrogate counts as one). */
function positions(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i += isSurrogate(s.charCodeAt(i)) ? 2 : 1) n++
  return n
}
const isSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdfff

/** Text between positions, as ot-text-unicode's uniSlice. */
function uniSlice(s: string, start: number, end: number): string {
  const at = (p: number): number => {
    let i = 0
    for (; p > 0 && i < s.length; p--) i += isSurrogate(s.charCodeAt(i)) ? 2 : 1
    return i
  }
  return s.slice(at(start), at(end))
}

const PIECES = ['a', 'b', 'xyz', ' ', '\n', '😀', '🇫🇷', 'e\u0301', '中文字', 'é', '\uD83D', '\uDE00', 'hello world ']
const LONE = ['\uD83D', '\uDE00']

function randomText(r: Rng, len: number, lone: boolean): string {
  let s = ''
  while (s.length < len) {
    const p = r.pick(PIECES)
    if (!lone && LONE.includes(p)) continue
    s += r.int(3) === 0 ? p : 'abcdefghijklmnopqrstuvwxyz'.slice(r.int(26))
  }
  return s
}

/** A random op that fits `doc` (positions counted as unicount does). */
function randomOp(r: Rng, doc: string, lone: boolean): TextOp {
  const len = positions(doc)
  const op: (number | string | { d: number | string })[] = []
  let pos = 0
  const parts = 1 + r.int(3)
  for (let i = 0; i < parts; i++) {
    const room = len - pos
    const skip = r.int(4) === 0 ? r.int(room + 1) : Math.min(room, r.int(20))
    if (skip > 0) op.push(skip)
    pos += skip
    const kind = r.int(3)
    if (kind !== 1 || pos >= len) {
      const big = r.int(40) === 0
      op.push(randomText(r, big ? 1 + r.int(9000) : 1 + r.int(4), lone))
    }
    if (kind !== 0 && pos < len) {
      const big = r.int(30) === 0
      const n = 1 + r.int(Math.min(len - pos, big ? 9000 : 5))
      op.push(r.int(2) === 0 ? { d: n } : { d: uniSlice(doc, pos, pos + n) })
      pos += n
    }
  }
  // Every part adds an insert or a delete, so no two skips are adjacent and none trails.
  return op as TextOp
}

function attempt<T>(f: () => T): { ok: true; v: T } | { ok: false; e: unknown } {
  try {
    return { ok: true, v: f() }
  } catch (e) {
    return { ok: false, e }
  }
}

function fuzz(seed: number, startLen: number, steps: number, lone: boolean): void {
  const r = rng(seed)
  let doc = randomText(r, startLen, lone)
  const rope = new TextRope(doc)
  for (let step = 0; step < steps; step++) {
    const where = `seed ${seed} step ${step}`
    const op = randomOp(r, doc, lone)
    const next = attempt(() => textType.apply(doc, op))
    // ot-text-unicode inverts some ops that do not apply (a skip over a trailing lone surrogate); the rope refuses those.
    const inv = next.ok ? attempt(() => refInvert(op, doc)) : next
    const mine = attempt(() => rope.invert(op))
    expect(mine.ok, `${where}: invert ${JSON.stringify(op).slice(0, 300)} ${inv.ok ? '' : String(inv.e)} ${mine.ok ? '' : String(mine.e)}`).toBe(inv.ok)
    if (inv.ok && mine.ok) expect(mine.v, where).toEqual(inv.v)
    const applied = attempt(() => rope.apply(op))
    expect(applied.ok, `${where}: apply ${JSON.stringify(op).slice(0, 200)}`).toBe(next.ok)
    if (!applied.ok) {
      expect(hasCode(applied.e, 'invalid'), where).toBe(true)
    } else if (next.ok) doc = next.v
    expect(rope.length, where).toBe(positions(doc))
    if (step % 7 === 0) expect(rope.toString(), where).toBe(doc)
    if (step % 3 === 0) {
      const a = r.int(rope.length + 1)
      const b = a + r.int(rope.length - a + 1)
      expect(rope.slice(a, b), where).toBe(uniSlice(doc, a, b))
    }
  }
  expect(rope.toString()).toBe(doc)
  expect(rope.clone().toString()).toBe(doc)
}

describe('TextRope matches ot-text-unicode', () => {
  test('small docs, well-formed text', () => {
    for (let seed = 1; seed <= 20; seed++) fuzz(seed, 10, 400, false)
  })
  test('small docs with lone surrogates', () => {
    for (let seed = 100; seed <= 130; seed++) fuzz(seed, 20, 400, true)
  })
  test('large docs (splits, merges, groups)', () => {
    fuzz(7, 150_000, 1500, false)
    fuzz(8, 60_000, 1500, true)
  })
  test('a doc grown from empty and deleted back to empty', () => {
    const r = rng(42)
    const rope = new TextRope()
    let doc = ''
    for (let i = 0; i < 3000; i++) {
      const op = randomOp(r, doc, false)
      rope.apply(op)
      doc = textType.apply(doc, op)
    }
    expect(rope.toString()).toBe(doc)
    while (rope.length > 0) {
      const n = 1 + r.int(Math.min(rope.length, 3000))
      const p = r.int(rope.length - n + 1)
      rope.remove(p, n)
      doc = uniSlice(doc, 0, p) + uniSlice(doc, p + n, positions(doc))
      expect(rope.length).toBe(positions(doc))
    }
    expect(rope.toString()).toBe('')
    rope.insert(0, 'again😀')
    expect(rope.toString()).toBe('again😀')
    expect(rope.length).toBe(6)
  })
})

describe('TextRope', () => {
  test('positions: a pair is one, a combining mark is its own, a flag is two', () => {
    const rope = new TextRope('a😀e\u0301🇫🇷中')
    expect(rope.length).toBe(1 + 1 + 2 + 2 + 1)
    expect(rope.slice(1, 2)).toBe('😀')
    expect(rope.slice(2, 4)).toBe('e\u0301')
    rope.insert(4, '!')
    rope.remove(1, 1)
    expect(rope.toString()).toBe('ae\u0301!🇫🇷中')
    expect(rope.slice(3)).toBe('!🇫🇷中'.slice(0))
    expect(isTextRope(rope)).toBe(true)
    expect(isTextRope('x')).toBe(false)
  })

  test('a lone surrogate takes the unit after it, across leaf boundaries too', () => {
    const doc = 'x'.repeat(5000) + '\uDE00'.repeat(7) + 'y'.repeat(5000)
    const rope = new TextRope(doc)
    expect(rope.length).toBe(positions(doc))
    for (const p of [0, 1023, 1024, 1025, 2047, 2048, 4999, 5000, 5001]) {
      const op: TextOp = p === 0 ? ['\uD83D'] : [p, '\uD83D']
      const copy = rope.clone()
      copy.apply(op)
      const want = textType.apply(doc, op)
      expect(copy.toString()).toBe(want)
      expect(copy.length).toBe(positions(want))
      expect(copy.slice(p, p + 3)).toBe(uniSlice(want, p, p + 3))
    }
  })

  test('invalid ops throw invalid and change nothing', () => {
    const text = 'héllo 😀 wörld'
    const rope = new TextRope(text)
    const bad: unknown[] = [
      [100, 'x'],
      [14, 'x'],
      [{ d: 14 }],
      [10, { d: 5 }],
      [{ d: 'hx' }],
      [6, { d: '😁' }],
      [{ d: 0 }],
      [''],
      [-1, 'x'],
      [1, 2, 'x'],
      [3],
      [{ x: 1 }],
      [1.5, 'x'],
      'abc',
      null,
    ]
    for (const op of bad) {
      for (const f of [() => rope.apply(op as TextOp), () => rope.invert(op as TextOp)]) {
        let err: unknown
        try {
          f()
        } catch (e) {
          err = e
        }
        expect(hasCode(err, 'invalid'), JSON.stringify(op)).toBe(true)
        expect(rope.toString()).toBe(text)
        expect(rope.length).toBe(13)
      }
    }
    // A multi-part op whose second part does not fit leaves the first undone too.
    expect(() => rope.apply([1, 'A', 3, { d: 'zzz' }])).toThrow(/differs/)
    expect(rope.toString()).toBe(text)
    expect(() => rope.insert(14, 'x')).toThrow()
    expect(() => rope.remove(12, 2)).toThrow()
    expect(rope.toString()).toBe(text)
  })

  test('a doc ending in a lone high surrogate: it can be deleted, not skipped', () => {
    const doc = 'ab\uD83D'
    const rope = new TextRope(doc)
    expect(rope.length).toBe(3)
    expect(() => rope.apply([3, 'x'])).toThrow()
    expect(() => textType.apply(doc, [3, 'x'])).toThrow()
    rope.apply([2, { d: 1 }])
    expect(rope.toString()).toBe('ab')
  })

  test('clones share structure but never each other\'s edits', () => {
    const r = rng(5)
    let docs = [randomText(r, 50_000, true)]
    let ropes = [new TextRope(docs[0])]
    for (let step = 0; step < 3000; step++) {
      const i = r.int(ropes.length)
      if (r.int(10) === 0 && ropes.length < 6) {
        ropes.push((ropes[i] as TextRope).clone())
        docs.push(docs[i] as string)
        continue
      }
      const op = randomOp(r, docs[i] as string, false)
      const next = attempt(() => textType.apply(docs[i] as string, op))
      const mine = attempt(() => (ropes[i] as TextRope).apply(op))
      expect(mine.ok, `step ${step}`).toBe(next.ok)
      if (next.ok) docs[i] = next.v
      if (step % 50 === 0) for (let j = 0; j < ropes.length; j++) expect((ropes[j] as TextRope).toString(), `step ${step} rope ${j}`).toBe(docs[j])
      if (ropes.length >= 6 && r.int(20) === 0) {
        ropes = ropes.slice(1)
        docs = docs.slice(1)
      }
    }
    for (let j = 0; j < ropes.length; j++) expect((ropes[j] as TextRope).toString()).toBe(docs[j])
  })

  test('heapBytes grows with the text', () => {
    const small = new TextRope('abc').heapBytes
    const big = new TextRope('x'.repeat(100_000)).heapBytes
    expect(big).toBeGreaterThan(100_000)
    expect(big).toBeLessThan(200_000)
    expect(small).toBeLessThan(1000)
  })
})

type Patch = [number, number, string]
const TRACES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'shared', 'traces')

describe('editing traces replay through the rope', () => {
  for (const name of ['seph-blog1', 'sveltecomponent', 'friendsforever_flat']) {
    const file = join(TRACES, `${name}.json.gz`)
    test.skipIf(!existsSync(file))(name, () => {
      const trace = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as { endContent: string; txns: { patches: Patch[] }[] }
      const rope = new TextRope()
      for (const t of trace.txns)
        for (const [pos, del, ins] of t.patches) {
          const op: TextOp = []
          if (pos > 0) op.push(pos)
          if (del > 0) op.push({ d: del })
          if (ins !== '') op.push(ins)
          rope.apply(op)
        }
      expect(rope.length).toBe(positions(trace.endContent))
      expect(rope.toString()).toBe(trace.endContent)
    })
  }
})
