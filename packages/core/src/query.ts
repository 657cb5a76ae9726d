// Queries: helpers to build them, validation, and matching keys against them.
import { StatecraftError } from './errors.ts'
import { show } from './util.ts'
import type { Key, KeysQuery, Query, RangeQuery } from './types.ts'

export const keys = (...ks: Key[]): KeysQuery => ({ kind: 'keys', keys: ks })

export type RangeOptions = Omit<RangeQuery, 'kind'>
export const range = (opts: RangeOptions = {}): RangeQuery => ({ kind: 'range', ...opts })
export const prefix = (p: Key, opts: Omit<RangeOptions, 'prefix'> = {}): RangeQuery => ({ kind: 'range', prefix: p, ...opts })

/** Throws `invalid`, naming the field, unless `q` is a well-formed query. */
export function checkQuery(q: unknown): asserts q is Query {
  if (typeof q !== 'object' || q === null) throw new StatecraftError('invalid', 'query must be an object')
  const kind = (q as { kind?: unknown }).kind
  if (kind === 'keys') {
    const ks = (q as { keys?: unknown }).keys
    if (!Array.isArray(ks)) throw new StatecraftError('invalid', 'query.keys must be an array of strings')
    ks.forEach((k, i) => {
      if (typeof k !== 'string') throw new StatecraftError('invalid', `query.keys[${i}] must be a string, got ${typeof k}`)
    })
  } else if (kind === 'range') {
    const r = q as Record<string, unknown>
    for (const f of ['from', 'to', 'prefix'] as const) {
      if (r[f] !== undefined && typeof r[f] !== 'string') throw new StatecraftError('invalid', `query.${f} must be a string`)
    }
    if (r.limit !== undefined && (typeof r.limit !== 'number' || !Number.isSafeInteger(r.limit) || r.limit < 0)) {
      throw new StatecraftError('invalid', `query.limit must be a non-negative integer, got ${show(r.limit)}`)
    }
    if (r.reverse !== undefined && typeof r.reverse !== 'boolean') throw new StatecraftError('invalid', 'query.reverse must be a boolean')
  } else if (kind === 'native') {
    if (typeof (q as { backend?: unknown }).backend !== 'string') throw new StatecraftError('invalid', 'query.backend must be a string')
  } else {
    throw new StatecraftError('invalid', `unknown query kind ${JSON.stringify(kind)}; expected keys, range or native`)
  }
}

/** `checkQuery`, and `unsupported` for a native query: what a source store without a native backend accepts. */
export function checkSourceQuery(q: unknown, storeName: string): asserts q is KeysQuery | RangeQuery {
  checkQuery(q)
  if (q.kind === 'native') throw new StatecraftError('unsupported', `the ${storeName} has no native backend ${JSON.stringify(q.backend)}`)
}

/** The bounds of a range as one half-open interval [lo, hi); hi undefined = unbounded. */
export function rangeBounds(q: RangeQuery): { lo: Key; hi: Key | undefined } {
  let lo = q.from ?? ''
  let hi = q.to
  if (q.prefix !== undefined && q.prefix !== '') {
    if (lo < q.prefix) lo = q.prefix
    const end = prefixEnd(q.prefix)
    if (end !== undefined && (hi === undefined || end < hi)) hi = end
  }
  return { lo, hi }
}

/** The smallest key greater than every key that starts with p, or undefined if there is none. */
export function prefixEnd(p: Key): Key | undefined {
  for (let i = p.length - 1; i >= 0; i--) {
    const c = p.charCodeAt(i)
    if (c < 0xffff) return p.slice(0, i) + String.fromCharCode(c + 1)
  }
  return undefined
}

export function inRange(q: RangeQuery, k: Key, b = rangeBounds(q)): boolean {
  return k >= b.lo && (b.hi === undefined || k < b.hi)
}

/**
 * Whether a key is in a query's key set, ignoring a range's `limit` (a limited range's window is
 * tracked by whoever holds the results).
 */
export function matchesKey(q: Query, k: Key): boolean {
  switch (q.kind) {
    case 'keys':
      return q.keys.includes(k)
    case 'range':
      return inRange(q, k)
    case 'native':
      return false
  }
}

/** A fast key predicate for a query (a Set for key queries). */
export function keyMatcher(q: Query): (k: Key) => boolean {
  if (q.kind === 'keys') {
    const s = new Set(q.keys)
    return k => s.has(k)
  }
  if (q.kind === 'range') {
    const b = rangeBounds(q)
    return k => inRange(q, k, b)
  }
  return () => false
}

export const compareKeys = (a: Key, b: Key): number => (a < b ? -1 : a > b ? 1 : 0)
