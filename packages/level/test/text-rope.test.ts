// Core's text type edits large plain strings through a memo of TextRopes (packages/core/src/text-rope.ts,
// first added for this store's large-doc edits, which now use ropes themselves). Its results must be
// exactly ot-text-unicode's, and an op that does not fit the text is `invalid`, small doc or large.
import { expect, test } from 'vitest'
import { type as textType } from 'ot-text-unicode'
import type { TextOp } from 'ot-text-unicode'
import { applyOp, undoOp } from '@statecraft/core'
import type { Op } from '@statecraft/core'

const stockInvert = (op: TextOp, doc: string): TextOp => (textType as unknown as { invertWithDoc(o: TextOp, d: string): TextOp }).invertWithDoc(op, doc)

function rng(seed: number): (n: number) => number {
  let x = seed
  return n => ((x = (x * 1103515245 + 12345) % 2147483648), x % n)
}

const ALPHABET = ['a', 'b', 'é', '中', '😀', '\uD83D', '\uDE00', '\n', 'z']

function randomText(r: (n: number) => number, len: number): string {
  let s = ''
  while (s.length < len) s += r(20) === 0 ? (ALPHABET[r(ALPHABET.length)] as string) : 'abcdefghijklmnopqrstuvwxyz'.repeat(8).slice(r(26))
  return s
}

const uniLength = (s: string): number => {
  let n = 0
  for (let i = 0; i < s.length; i += s.charCodeAt(i) >= 0xd800 && s.charCodeAt(i) <= 0xdfff ? 2 : 1) n++
  return n
}

/** A random valid op on a doc of `len` positions: a few skips, inserts and deletes. */
function randomOp(r: (n: number) => number, len: number, doc: string): TextOp {
  const op: (number | string | { d: number | string })[] = []
  let pos = 0
  const parts = 1 + r(4)
  for (let i = 0; i < parts && pos < len; i++) {
    const skip = r(Math.max(1, Math.floor((len - pos) / (r(3) === 0 ? 1 : 4))))
    if (skip > 0) op.push(skip)
    pos += skip
    if (r(2) === 0 || pos >= len) op.push(['x', '😀', 'hello', '\uD83D'][r(4)] as string)
    else {
      const n = 1 + r(Math.min(5000, len - pos))
      op.push(r(2) === 0 ? { d: n } : { d: uniSlice(doc, pos, pos + n) })
      pos += n
    }
  }
  return textType.normalize(op as TextOp)
}

function uniSlice(s: string, start: number, end: number): string {
  let i = 0
  let n = 0
  let a = -1
  while (n < end) {
    if (n === start) a = i
    i += s.charCodeAt(i) >= 0xd800 && s.charCodeAt(i) <= 0xdfff ? 2 : 1
    n++
  }
  return s.slice(a, i)
}

test('large text edits (apply and undo) equal ot-text-unicode, op after op', () => {
  const r = rng(7)
  for (const size of [70_000, 200_000]) {
    let doc = randomText(r, size)
    for (let i = 0; i < 120; i++) {
      const len = uniLength(doc)
      const op = randomOp(r, len, doc)
      const mine = applyOp(doc, { type: 'text', op } as Op) as string
      const stock = textType.apply(doc, op)
      expect(mine.length).toBe(stock.length)
      expect(mine === stock).toBe(true)
      const undo = undoOp(doc, { type: 'text', op } as Op)
      expect(applyOp(mine, undo) === doc).toBe(true)
      expect(textType.apply(stock, stockInvert(op, doc)) === doc).toBe(true)
      doc = mine
    }
  }
})

test('a delete past the end, or of text the doc does not hold, is invalid on small and large strings', () => {
  for (const doc of ['abc', 'a'.repeat(100_000)]) {
    const n = doc.length
    for (const op of [[n - 1, { d: 2 }], [{ d: 'zz' }], [n, 'x', { d: 1 }]]) {
      expect(() => applyOp(doc, { type: 'text', op } as Op), JSON.stringify(op)).toThrow(expect.objectContaining({ code: 'invalid' }))
      expect(() => undoOp(doc, { type: 'text', op } as Op), JSON.stringify(op)).toThrow(expect.objectContaining({ code: 'invalid' }))
    }
  }
})

test('an op past the end of a large doc fails as ot-text-unicode does', () => {
  const doc = 'a'.repeat(100_000)
  expect(() => textType.apply(doc, [100_001, 'x'])).toThrow()
  expect(() => applyOp(doc, { type: 'text', op: [100_001, 'x'] } as Op)).toThrow()
  expect(applyOp(doc, { type: 'text', op: [100_000, 'x'] } as Op)).toBe(doc + 'x')
})
