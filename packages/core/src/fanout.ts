// Subscription fan-out for a source store: routes each committed txn to the subscriptions it
// concerns, once, in commit order, and keeps `limit` windows of live range queries right.
import { keyMatcher, rangeBounds, inRange } from './query.ts'
import { filterTxn } from './txn.ts'
import { isBinary, shareValue } from './values.ts'
import type { Feed } from './subscription.ts'
import type { Key, Query, RangeQuery, TxnRecord, Value } from './types.ts'

export interface FanoutSource {
  /** The current value of a key (undefined = absent). */
  value(key: Key): Value | undefined
  /** The keys now in a limited range's window, in query order. */
  window(q: RangeQuery): Key[]
}

interface Sub {
  feed: Feed
  query: Query
  matches: (k: Key) => boolean
  /** For a range with `limit`: the keys in its window. */
  window?: Set<Key>
}

export const isLimited = (q: Query): q is RangeQuery & { limit: number } => q.kind === 'range' && q.limit !== undefined

export class Fanout {
  private readonly byKey = new Map<Key, Set<Sub>>()
  private readonly ranges = new Set<Sub>()

  constructor(private readonly src: FanoutSource) {}

  get size(): number {
    let n = this.ranges.size
    const seen = new Set<Sub>()
    for (const s of this.byKey.values()) for (const sub of s) seen.add(sub)
    return n + seen.size
  }

  /** Starts routing txns to `feed`. Call right after pushing its first update. Returns the remover. */
  add(query: Query, feed: Feed): () => void {
    const sub: Sub = { feed, query, matches: keyMatcher(query) }
    if (query.kind === 'keys') {
      for (const k of new Set(query.keys)) {
        let s = this.byKey.get(k)
        if (s === undefined) this.byKey.set(k, (s = new Set()))
        s.add(sub)
      }
    } else if (query.kind === 'range') {
      if (isLimited(query)) sub.window = new Set(this.src.window(query))
      this.ranges.add(sub)
    }
    return () => this.remove(sub)
  }

  private remove(sub: Sub): void {
    if (sub.query.kind === 'keys') {
      for (const k of sub.query.keys) {
        const s = this.byKey.get(k)
        if (s === undefined) continue
        s.delete(sub)
        if (s.size === 0) this.byKey.delete(k)
      }
    } else this.ranges.delete(sub)
  }

  /** Routes a committed txn. Call after the store's state includes it. */
  publish(rec: TxnRecord): void {
    const touched = new Set<Sub>()
    for (const k of rec.txn.keys()) for (const sub of this.byKey.get(k) ?? []) touched.add(sub)
    for (const sub of touched) this.sendFiltered(sub, rec)
    for (const sub of this.ranges) {
      if (sub.window === undefined) this.sendFiltered(sub, rec)
      else this.sendWindow(sub, sub.query as RangeQuery, sub.window, rec)
    }
  }

  private sendFiltered(sub: Sub, rec: TxnRecord): void {
    const txn = filterTxn(rec.txn, sub.matches)
    if (txn === undefined) return
    // Every subscriber that gets the whole txn gets the same content: `rec` says so (Feed.push).
    sub.feed.push({ txns: [withTxn(rec, txn)], versions: rec.versions, caughtUp: true }, txn.size === rec.txn.size ? rec : undefined)
  }

  private sendWindow(sub: Sub, q: RangeQuery, before: Set<Key>, rec: TxnRecord): void {
    const bounds = rangeBounds(q)
    let inBounds = false
    for (const k of rec.txn.keys()) if (inRange(q, k, bounds)) inBounds = true
    if (!inBounds) return
    const after = new Set(this.src.window(q))
    const txn = new Map(rec.txn)
    const leave: Key[] = []
    const enter = new Map<Key, Value>()
    for (const k of rec.txn.keys()) {
      // Ops reach the subscriber for keys it holds and keeps, and for keys it holds that were deleted.
      const keep = before.has(k) && (after.has(k) || this.src.value(k) === undefined)
      if (!keep) txn.delete(k)
    }
    for (const k of before) if (!after.has(k) && !txn.has(k)) leave.push(k)
    for (const k of after) {
      if (before.has(k)) continue
      const v = this.src.value(k)
      if (v !== undefined) enter.set(k, shareValue(v))
    }
    sub.window = after
    if (txn.size === 0 && leave.length === 0 && enter.size === 0) return
    sub.feed.push({
      txns: txn.size > 0 ? [withTxn(rec, txn)] : [],
      ...(leave.length > 0 ? { leave } : {}),
      ...(enter.size > 0 ? { enter } : {}),
      versions: rec.versions,
      caughtUp: true,
    })
  }

  /** Ends every subscription. */
  endAll(): void {
    const all = new Set<Sub>(this.ranges)
    for (const s of this.byKey.values()) for (const sub of s) all.add(sub)
    this.byKey.clear()
    this.ranges.clear()
    for (const sub of all) sub.feed.end()
  }
}

/**
 * The record a subscriber gets: `filtered` is a Map made for it (so it is shared with nobody); as
 * `shareTxn` would, binary `set` values in it are replaced by copies, in place.
 */
const withTxn = (rec: TxnRecord, filtered: TxnRecord['txn']): TxnRecord => {
  for (const [k, op] of filtered) if (op.type === 'set' && isBinary(op.value)) filtered.set(k, { type: 'set', value: op.value.slice() })
  return rec.meta === undefined ? { versions: rec.versions, txn: filtered } : { versions: rec.versions, txn: filtered, meta: rec.meta }
}
