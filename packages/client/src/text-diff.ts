// Text diffs as ot-text-unicode ops: how a client that was offline past the server's history
// rebases its pending text edits over the change from its old snapshot to the current one.
import fastDiff from 'fast-diff'
import type { TextOp } from 'ot-text-unicode'

/** Length in unicode code points (ot-text-unicode counts positions this way). */
export function codePoints(s: string): number {
  let n = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    // A high surrogate followed by a low one is one code point.
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1)
      if (d >= 0xdc00 && d <= 0xdfff) i++
    }
    n++
  }
  return n
}

/** A text op taking `a` to `b` (empty when they are equal). */
export function textDiffOp(a: string, b: string): TextOp {
  if (a === b) return []
  const op: TextOp = []
  let skip = 0
  for (const [kind, s] of fastDiff(a, b)) {
    if (s === '') continue
    if (kind === 0) {
      skip += codePoints(s)
      continue
    }
    if (skip > 0) op.push(skip)
    skip = 0
    if (kind === 1) op.push(s)
    else op.push({ d: codePoints(s) })
  }
  return op
}
