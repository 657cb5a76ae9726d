// A structural diff of JSON values as one json1 op: object keys added, removed and changed
// recursively; arrays element-wise when their lengths match, replaced otherwise; strings by a text
// diff inside a json1 `es` edit. Used to rebase pending json1 ops over a snapshot jump.
import { editOp, insertOp, removeOp, replaceOp, type as json1Type, type Doc, type JSONOp, type Path } from 'ot-json1'
import type { Json } from '@statecraft/core'
import { textDiffOp } from './text-diff.ts'

const isObject = (v: Json): v is { [k: string]: Json } => typeof v === 'object' && v !== null && !Array.isArray(v)

function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a) !== Array.isArray(b)) return false
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => jsonEqual(x, b[i] as Json))
  const ao = a as Record<string, Json>
  const bo = b as Record<string, Json>
  const ak = Object.keys(ao)
  if (ak.length !== Object.keys(bo).length) return false
  return ak.every(k => k in bo && jsonEqual(ao[k] as Json, bo[k] as Json))
}

function diffAt(path: Path, a: Json, b: Json, out: JSONOp[]): void {
  if (jsonEqual(a, b)) return
  if (typeof a === 'string' && typeof b === 'string') {
    out.push(editOp(path, 'text-unicode', textDiffOp(a, b)))
    return
  }
  if (isObject(a) && isObject(b)) {
    for (const k of Object.keys(a)) if (!(k in b)) out.push(removeOp([...path, k]))
    for (const k of Object.keys(b)) {
      if (!(k in a)) out.push(insertOp([...path, k], b[k] as Doc))
      else diffAt([...path, k], a[k] as Json, b[k] as Json, out)
    }
    return
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    for (let i = 0; i < a.length; i++) diffAt([...path, i], a[i] as Json, b[i] as Json, out)
    return
  }
  out.push(replaceOp(path, a as Doc, b as Doc))
}

/** A json1 op taking `a` to `b` (undefined = absent), or null when they are equal. */
export function jsonDiffOp(a: Json | undefined, b: Json | undefined): JSONOp {
  if (a === undefined && b === undefined) return null
  if (a === undefined) return insertOp([], b as Doc)
  if (b === undefined) return removeOp([])
  const parts: JSONOp[] = []
  diffAt([], a, b, parts)
  // The parts touch disjoint paths and never shift array indices, so composing them in order is exact.
  let op: JSONOp = null
  for (const p of parts) op = op === null ? p : json1Type.compose(op, p)
  return op
}
