// Every existing key of the store, sorted by UTF-16 code unit, in memory. Live range queries with
// `limit` need their window synchronously (Fanout's `window`), and range reads get their key list
// here without an iterator. Chunked so that inserts and deletes cost O(chunk + log n).
import { lowerBound } from '@statecraft/core'
import type { Key } from '@statecraft/core'

const MAX_CHUNK = 512

export class SortedKeys {
  /** Non-empty sorted chunks; every key of chunk i is below every key of chunk i+1. */
  private chunks: Key[][] = []
  private count = 0

  get size(): number {
    return this.count
  }

  /** Appends keys already in order and above every key held (the load at open). */
  appendSorted(k: Key): void {
    let last = this.chunks[this.chunks.length - 1]
    if (last === undefined || last.length >= MAX_CHUNK) this.chunks.push((last = []))
    last.push(k)
    this.count++
  }

  /** Index of the chunk that holds k or would hold it. */
  private chunkFor(k: Key): number {
    let lo = 0
    let hi = this.chunks.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const c = this.chunks[mid] as Key[]
      if ((c[c.length - 1] as Key) < k) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  has(k: Key): boolean {
    const c = this.chunks[this.chunkFor(k)]
    if (c === undefined) return false
    const i = lowerBound(c, k)
    return c[i] === k
  }

  /** Adds k; false when it was there. */
  insert(k: Key): boolean {
    if (this.chunks.length === 0) {
      this.chunks.push([k])
      this.count++
      return true
    }
    const ci = this.chunkFor(k)
    const c = this.chunks[ci] as Key[]
    const i = lowerBound(c, k)
    if (c[i] === k) return false
    c.splice(i, 0, k)
    this.count++
    if (c.length > MAX_CHUNK) this.chunks.splice(ci + 1, 0, c.splice(c.length >>> 1))
    return true
  }

  /** Removes k; false when it was not there. */
  delete(k: Key): boolean {
    const ci = this.chunkFor(k)
    const c = this.chunks[ci]
    if (c === undefined) return false
    const i = lowerBound(c, k)
    if (c[i] !== k) return false
    c.splice(i, 1)
    this.count--
    if (c.length === 0) this.chunks.splice(ci, 1)
    return true
  }

  /** Keys in [lo, hi) (hi undefined = unbounded), ascending or descending, at most `limit`. */
  range(lo: Key, hi: Key | undefined, limit = Infinity, reverse = false): Key[] {
    const out: Key[] = []
    if (limit <= 0 || this.chunks.length === 0) return out
    if (!reverse) {
      let ci = this.chunkFor(lo)
      let i = lowerBound(this.chunks[ci] as Key[], lo)
      for (; ci < this.chunks.length; ci++, i = 0) {
        const c = this.chunks[ci] as Key[]
        for (; i < c.length; i++) {
          const k = c[i] as Key
          if (hi !== undefined && k >= hi) return out
          out.push(k)
          if (out.length >= limit) return out
        }
      }
      return out
    }
    let ci: number
    let i: number
    if (hi === undefined) {
      ci = this.chunks.length - 1
      i = (this.chunks[ci] as Key[]).length - 1
    } else {
      ci = this.chunkFor(hi)
      i = lowerBound(this.chunks[ci] as Key[], hi) - 1
    }
    for (; ci >= 0; ci--, i = ci >= 0 ? (this.chunks[ci] as Key[]).length - 1 : 0) {
      const c = this.chunks[ci] as Key[]
      for (; i >= 0; i--) {
        const k = c[i] as Key
        if (k < lo) return out
        out.push(k)
        if (out.length >= limit) return out
      }
    }
    return out
  }
}
