// Applying subscription updates to a local view of the results.
import { applyOp } from './ot.ts'
import type { Key, Update, Value } from './types.ts'

/** Applies an update to `view` in place: replace, then txns, then leave, then enter. */
export function applyUpdate(view: Map<Key, Value>, u: Update): Map<Key, Value> {
  if (u.replace !== undefined) {
    view.clear()
    for (const [k, v] of u.replace) view.set(k, v)
  }
  for (const rec of u.txns) {
    for (const [k, op] of rec.txn) {
      const v = applyOp(view.get(k), op, JSON.stringify(k))
      if (v === undefined) view.delete(k)
      else view.set(k, v)
    }
  }
  for (const k of u.leave ?? []) view.delete(k)
  for (const [k, v] of u.enter ?? []) view.set(k, v)
  return view
}
