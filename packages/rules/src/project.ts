// Projecting history onto what one connection may read. Each key's op in a txn is judged by whether
// the key was visible (exists and readable) before and after it: visible → visible keeps the op,
// hidden → hidden drops it, and a key that turns visible or hidden gets a `set` of its new value or a
// `del` instead of an op that would need (or show) the hidden value. With rules that do not look
// at values this is plain filtering: a readable key's ops pass, others are dropped.
import { shareValue, type Op, type Txn, type TxnRecord, type Value } from '@statecraft/core'

/** What a connection receives in place of `op`, or undefined for nothing. */
export function projectOp(op: Op, before: Value | undefined, after: Value | undefined, visibleBefore: boolean, visibleAfter: boolean): Op | undefined {
  if (visibleBefore && visibleAfter) return op
  if (visibleAfter) return before === undefined ? op : { type: 'set', value: shareValue(after as Value) }
  if (visibleBefore) return after === undefined ? op : { type: 'del' }
  return undefined
}

/**
 * A record with `txn` in place of its own. Its meta goes with it only when no key was left out:
 * meta describes the whole txn, and may speak of keys this connection may not read.
 */
export function recordWith(rec: TxnRecord, txn: Txn, leftOut: boolean): TxnRecord {
  return rec.meta === undefined || leftOut ? { versions: rec.versions, txn } : { versions: rec.versions, txn, meta: rec.meta }
}
