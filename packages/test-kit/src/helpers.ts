// Small helpers the conformance cases use: op and txn builders, version arithmetic, store
// lifetimes, reading values, and asserting that a call fails with a given StatecraftError code.
import { expect } from 'vitest'
import { StatecraftError, keys } from '@statecraft/core'
import type { ErrorCode, Key, Op, OTOpPayloads, Store, Txn, Value, Versions } from '@statecraft/core'

/** Makes a fresh, empty store. */
export type MakeStore = () => Store | Promise<Store>

/** Settings shared by every helper; `configureTestKit` changes them. */
export const testKitConfig = {
  /** How long a helper waits for a subscription update before failing. */
  timeoutMs: 2000,
}

export function configureTestKit(o: { timeoutMs?: number }): void {
  if (o.timeoutMs !== undefined) testKitConfig.timeoutMs = o.timeoutMs
}

export const set = (value: Value): Op => ({ type: 'set', value })
export const del = (): Op => ({ type: 'del' })
export const json1 = (op: OTOpPayloads['json1']): Op => ({ type: 'json1', op })
export const text = (op: OTOpPayloads['text']): Op => ({ type: 'text', op })

/** A txn from `{ key: op }` (keys in insertion order, except integer-like keys, as for any object). */
export const txnOf = (ops: Record<Key, Op>): Txn => new Map(Object.entries(ops))

/** Sum of every source's version: for a single-source store, its version. */
export const ver = (vs: Versions): number => Object.values(vs).reduce((a, b) => a + b, 0)

/** `vs` with every source moved on by `n`. */
export function bump(vs: Versions, n: number): Versions {
  const out: Versions = {}
  for (const [k, v] of Object.entries(vs)) out[k] = v + n
  return out
}

/** Makes a store, runs `fn` with it and closes it, whatever happens. */
export async function withStore<T>(makeStore: MakeStore, fn: (s: Store) => Promise<T>): Promise<T> {
  const s = await makeStore()
  let ok = false
  try {
    const out = await fn(s)
    ok = true
    return out
  } finally {
    if (ok) await s.close()
    else await s.close().catch(() => {})
  }
}

/** Sets one key (one txn). */
export const put = (s: Store, k: Key, v: Value, o?: Parameters<Store['mutate']>[1]): Promise<Versions> =>
  s.mutate(txnOf({ [k]: set(v) }), o)

/** The store's current versions (from an empty keys query). */
export const versionsOf = async (s: Store): Promise<Versions> => (await s.fetch(keys())).versions

/** The value of one key, or undefined when the results do not have it (checking it is not undefined-valued). */
export async function valueOf(s: Store, k: Key): Promise<Value | undefined> {
  const r = await s.fetch(keys(k))
  if (!r.results.has(k)) return undefined
  const v = r.results.get(k)
  expect(v, `key ${JSON.stringify(k)} is in the results with an undefined value`).not.toBeUndefined()
  return v
}

/** Entries of a result map sorted by key, for order-insensitive comparison. */
export const sortedEntries = (m: Map<Key, Value>): [Key, Value][] =>
  [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))

const describeValue = (v: unknown): string => {
  try {
    return JSON.stringify(v, (_k, x: unknown) => (x instanceof Map ? Object.fromEntries(x) : x instanceof Uint8Array ? `<${x.length} bytes>` : x)) ?? String(v)
  } catch {
    return String(v)
  }
}

/**
 * Asserts that `p` (a promise, or a function whose call or returned promise fails) rejects with a
 * StatecraftError whose code is `code` (or one of `code`). Returns the error.
 */
export async function expectCode(
  p: Promise<unknown> | (() => unknown),
  code: ErrorCode | ErrorCode[],
  what = 'the call',
): Promise<StatecraftError> {
  const codes = Array.isArray(code) ? code : [code]
  let result: unknown
  try {
    result = await (typeof p === 'function' ? p() : p)
  } catch (e) {
    if (!(e instanceof StatecraftError)) {
      expect.fail(`${what} should fail with a StatecraftError ${codes.join(' or ')}, but threw ${e instanceof Error ? `${e.name}: ${e.message}` : describeValue(e)}`)
    }
    if (!codes.includes(e.code)) {
      expect.fail(`${what} should fail with ${codes.join(' or ')}, but failed with ${e.code}: ${e.message}`)
    }
    return e
  }
  return expect.fail(`${what} should fail with ${codes.join(' or ')}, but it succeeded with ${describeValue(result)}`)
}

export { describeValue }
