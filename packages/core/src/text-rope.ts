// Text ops on plain strings (stores keep text docs as TextRopes; this serves callers holding
// strings: a rules proxy working out a write's result, a subscription's view). Every op is applied
// and checked by a TextRope, so results are ot-text-unicode's and an op that does not fit throws
// `invalid`, as on a store's ropes. A whole-string edit copies the string, and in V8 a fresh string
// over ~128 KB lands in large-object space: a 1-character edit of a 1 MB doc costs milliseconds.
// So the ropes of the last few large strings returned here are kept: an op on one of those strings
// edits a copy-on-write clone of its rope, and the result is the rope's leaves concatenated, which
// V8 keeps as a cons string without copying until read (each unchanged group's part is reused).
// A 1-character insert into a 1 MB string, measured on a busy 2-core machine: ~5–20 µs (the
// chunk-list memo this replaces, around ot-text-unicode: ~130–230 µs), ~1 ms through a new TextRope
// of the whole string (its toString copies), ~4–9 ms in ot-text-unicode.
import type { TextOp } from 'ot-text-unicode'
import { TextRope, lazyString } from './rope.ts'

const LARGE = 64 * 1024
const MEMO = 8

/** Ropes of recent large strings (each rope's cached string is that string), most recently used first. */
const memo: TextRope[] = []

function ropeOf(s: string): TextRope {
  for (let i = 0; i < memo.length; i++) {
    const r = memo[i] as TextRope
    const str = r.toString()
    if (str.length === s.length && str === s) {
      if (i > 0) {
        memo.splice(i, 1)
        memo.unshift(r)
      }
      return r
    }
  }
  const r = new TextRope(s)
  remember(r)
  return r
}

function remember(r: TextRope): void {
  memo.unshift(r)
  if (memo.length > MEMO) memo.length = MEMO
}

/** TextRope.apply on a plain string, fast for large strings. */
export function applyText(s: string, op: TextOp): string {
  if (s.length < LARGE) {
    const t = new TextRope(s)
    t.apply(op)
    return t.toString()
  }
  const r = ropeOf(s).clone()
  r.apply(op)
  const out = lazyString(r)
  if (out.length >= LARGE) remember(r)
  return out
}

/** TextRope.invert on a plain string, fast for large strings. */
export function invertText(op: TextOp, doc: string): TextOp {
  return (doc.length < LARGE ? new TextRope(doc) : ropeOf(doc)).invert(op)
}
