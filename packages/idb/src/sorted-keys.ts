// The keys of a store in UTF-16 code unit order, kept in memory so range windows can be read
// synchronously (core's Fanout asks for them while it routes a commit).
import { lowerBound, rangeBounds } from '@statecraft/core'
import type { Key, RangeQuery } from '@statecraft/core'

export class SortedKeys {
  private keys: Key[] = []

  /** Replaces the contents (any order). */
  reset(ks: Iterable<Key>): void {
    this.keys = [...ks].sort()
  }

  add(k: Key): void {
    const i = lowerBound(this.keys, k)
    if (this.keys[i] !== k) this.keys.splice(i, 0, k)
  }

  remove(k: Key): void {
    const i = lowerBound(this.keys, k)
    if (this.keys[i] === k) this.keys.splice(i, 1)
  }

  /** Every key in a range's bounds, in query order (limit not applied). */
  range(q: RangeQuery): Key[] {
    const { lo, hi } = rangeBounds(q)
    const start = lowerBound(this.keys, lo)
    const end = hi === undefined ? this.keys.length : lowerBound(this.keys, hi)
    const ks = start < end ? this.keys.slice(start, end) : []
    return q.reverse === true ? ks.reverse() : ks
  }

  /** The keys in a range's window: its bounds, then its limit. */
  window(q: RangeQuery): Key[] {
    const ks = this.range(q)
    return q.limit === undefined ? ks : ks.slice(0, q.limit)
  }
}
