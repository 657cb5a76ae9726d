// Small platform-neutral helpers.
import type { Json } from './types.ts'
import { ownString } from './rope.ts'

const g = globalThis as { crypto?: { randomUUID?: () => string } }

/** A random id (UUID where the platform has one). */
export function randomId(): string {
  const uuid = g.crypto?.randomUUID
  // Node's randomUUID concatenates hex pairs: a tree of ~15 cons strings, ~500 bytes while the id
  // is kept (one per connection, client, store). ownString copies it flat: ~100 bytes.
  if (uuid !== undefined) return ownString(uuid.call(g.crypto))
  return Math.random().toString(36).slice(2) + Date.now().toString(36) + Math.random().toString(36).slice(2)
}

/** A deep copy of a JSON value. */
export function cloneJson<T extends Json>(v: T): T {
  if (typeof v !== 'object' || v === null) return v
  if (Array.isArray(v)) return v.map(x => cloneJson(x)) as T
  const out: Record<string, Json> = {}
  for (const k of Object.keys(v)) out[k] = cloneJson((v as Record<string, Json>)[k] as Json)
  return out as T
}

/** Index of the first element of a sorted array (searched from `lo`) that is >= k. */
export function lowerBound<T extends string | number>(arr: readonly T[], k: T, lo = 0): number {
  let hi = arr.length
  while (lo < hi) {
    const mid = (lo + hi) >>> 1
    if ((arr[mid] as T) < k) lo = mid + 1
    else hi = mid
  }
  return lo
}

/** A short, safe rendering of any value for an error message. */
export function show(v: unknown): string {
  if (v === null || v === undefined || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  if (typeof v === 'string') return JSON.stringify(v.length > 80 ? v.slice(0, 80) + '…' : v)
  if (typeof v === 'function' || typeof v === 'symbol') return typeof v
  try {
    const s = JSON.stringify(v)
    return s.length > 80 ? s.slice(0, 80) + '…' : s
  } catch {
    return typeof v
  }
}
