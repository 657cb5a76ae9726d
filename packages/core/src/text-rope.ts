// Text ops on plain strings (stores keep text docs as TextRopes; this serves callers holding
// strings: a rules proxy working out a write's result, a subscription's view). Every op is applied
// and checked by a TextRope, so results are ot-text-unicode's and an op that does not fit throws
// `invalid`, as on a store's ropes. A whole-string edit copies the string, and in V8 a fresh string
// over ~128 KB lands in large-object space: a 1-character edit of a 1 MB doc costs milliseconds.
// So for strings of LARGE units or more the last few edited values are kept as chunk lists: the op
// is applied to a TextRope of just the chunks it spans, and the new value is the chunks
// concatenated, which V8 keeps as a cons string without copying until read (~20 µs a 1-character
// edit of 1 MB, against ~1 ms through one TextRope of the whole string, whose toString copies).
import type { TextOp } from 'ot-text-unicode'
import { TextRope, checkTextOp } from './rope.ts'

const LARGE = 64 * 1024
const CHUNK = 16 * 1024
const MEMO = 8

interface Rope {
  str: string
  chunks: string[]
  /** Unicode positions (as unicount counts them) in each chunk. */
  units: number[]
}

/** Most recently used first. */
const memo: Rope[] = []

const isSurrogate = (c: number): boolean => c >= 0xd800 && c <= 0xdfff

/** Splits `s` into chunks of about CHUNK units, never inside a pair as unicount reads pairs. */
function chunk(s: string, chunks: string[], units: number[]): void {
  let start = 0
  let n = 0
  let i = 0
  while (i < s.length) {
    i += isSurrogate(s.charCodeAt(i)) ? 2 : 1
    n++
    if (i - start >= CHUNK && s.length - i >= CHUNK / 2) {
      chunks.push(s.slice(start, i))
      units.push(n)
      start = i
      n = 0
    }
  }
  if (i > start) {
    chunks.push(s.slice(start))
    units.push(n)
  }
}

/** The chunks concatenated as a balanced tree of cons strings (no copy). */
function concat(parts: string[], lo: number, hi: number): string {
  if (hi - lo === 0) return ''
  if (hi - lo === 1) return parts[lo] as string
  const mid = (lo + hi) >>> 1
  return concat(parts, lo, mid) + concat(parts, mid, hi)
}

function ropeOf(s: string): Rope {
  for (let i = 0; i < memo.length; i++) {
    const r = memo[i] as Rope
    if (r.str.length === s.length && r.str === s) {
      if (i > 0) {
        memo.splice(i, 1)
        memo.unshift(r)
      }
      return r
    }
  }
  const r: Rope = { str: s, chunks: [], units: [] }
  chunk(s, r.chunks, r.units)
  remember(r)
  return r
}

function remember(r: Rope): void {
  memo.unshift(r)
  if (memo.length > MEMO) memo.length = MEMO
}

const dlen = (d: number | string): number => (typeof d === 'number' ? d : countUnits(d))

/** Where an op acts: chunks [a, b] (inclusive), the position where chunk a starts, and the op made relative to it. */
function locate(r: Rope, op: TextOp): { a: number; b: number; offset: number; local: TextOp } {
  let start = 0
  let i = 0
  if (typeof op[0] === 'number') {
    start = op[0]
    i = 1
  }
  let span = 0
  for (let j = i; j < op.length; j++) {
    const c = op[j]
    if (typeof c === 'number') span += c
    else if (typeof c === 'object') span += dlen(c.d)
  }
  const end = start + span
  let a = 0
  let offset = 0
  while (a < r.chunks.length - 1 && offset + (r.units[a] as number) < start) offset += r.units[a++] as number
  let b = a
  let bEnd = offset + (r.units[a] ?? 0)
  while (b < r.chunks.length - 1 && bEnd < end) bEnd += r.units[++b] as number
  const skip = start - offset
  const rest = op.slice(i)
  return { a, b, offset, local: (skip > 0 ? [skip, ...rest] : rest) as TextOp }
}

const regionOf = (r: Rope, a: number, b: number): string => (a === b ? (r.chunks[a] as string) : r.chunks.slice(a, b + 1).join(''))

/** TextRope.apply on a plain string, fast for large strings. */
export function applyText(s: string, op: TextOp): string {
  if (s.length < LARGE) {
    const t = new TextRope(s)
    t.apply(op)
    return t.toString()
  }
  checkTextOp(op)
  const r = ropeOf(s)
  const { a, b, local } = locate(r, op)
  const region = new TextRope(regionOf(r, a, b))
  region.apply(local)
  const edited = region.toString()
  const chunks: string[] = r.chunks.slice(0, a)
  const units: number[] = r.units.slice(0, a)
  // Small leftovers join their neighbour, so chunks do not dwindle under deletes.
  let piece = edited
  let after = b + 1
  if (piece.length < CHUNK / 4 && after < r.chunks.length) piece += r.chunks[after++] as string
  if (piece.length <= 2 * CHUNK) {
    if (piece.length > 0) {
      chunks.push(piece)
      units.push(countUnits(piece))
    }
  } else chunk(piece, chunks, units)
  for (let i = after; i < r.chunks.length; i++) {
    chunks.push(r.chunks[i] as string)
    units.push(r.units[i] as number)
  }
  const out = concat(chunks, 0, chunks.length)
  if (out.length >= LARGE) remember({ str: out, chunks, units })
  return out
}

/** TextRope.invert on a plain string, fast for large strings. */
export function invertText(op: TextOp, doc: string): TextOp {
  if (doc.length < LARGE) return new TextRope(doc).invert(op)
  checkTextOp(op)
  const r = ropeOf(doc)
  const { a, b, offset, local } = locate(r, op)
  const inv = new TextRope(regionOf(r, a, b)).invert(local)
  if (offset === 0 || inv.length === 0) return inv
  const [first, ...rest] = inv
  return (typeof first === 'number' ? [offset + first, ...rest] : [offset, ...inv]) as TextOp
}

/** Positions in `s` as unicount counts them (a surrogate unit and the unit after it are one). */
function countUnits(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i += isSurrogate(s.charCodeAt(i)) ? 2 : 1) n++
  return n
}
