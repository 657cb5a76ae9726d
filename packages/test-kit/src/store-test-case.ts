// The shape of a conformance case, and the check of its needs against a store's capabilities.
import type { OpType, QueryKind, Store, StoreCapabilities } from '@statecraft/core'
import type { MakeStore } from './helpers.ts'

export interface StoreTestNeeds {
  /** The store keeps an op log (getOps, fetch atVersion, subscribe fromVersion). */
  history?: boolean
  /** The store accepts writes. */
  mutable?: boolean
  /** Op types the case writes. */
  ops?: OpType[]
  /** Query kinds the case reads with. */
  queries?: QueryKind[]
  /** The case needs `makeStoreWithHistory` (a store with a small history window). */
  historyLimit?: boolean
}

export interface StoreTestContext {
  /** Makes a fresh, empty store that keeps only the last `historyLimit` txns of history. */
  makeStoreWithHistory?: (historyLimit: number) => Store | Promise<Store>
}

export interface StoreTestCase {
  name: string
  needs?: StoreTestNeeds
  /** Runs the case on fresh stores from `makeStore` (each closed at the end); throws on failure. */
  run(makeStore: MakeStore, ctx?: StoreTestContext): Promise<void>
}

/** Why a case cannot run on a store with these capabilities, or undefined when it can. */
export function unmetNeeds(c: StoreTestCase, caps: StoreCapabilities, ctx: StoreTestContext = {}): string | undefined {
  const n = c.needs ?? {}
  const missing: string[] = []
  if (n.history === true && !caps.history) missing.push('history')
  if (n.mutable === true && !caps.mutable) missing.push('mutable')
  for (const op of n.ops ?? []) if (!caps.opTypes.includes(op)) missing.push(`op ${op}`)
  for (const q of n.queries ?? []) if (!caps.queries.includes(q)) missing.push(`query ${q}`)
  if (n.historyLimit === true && ctx.makeStoreWithHistory === undefined) missing.push('makeStoreWithHistory')
  return missing.length === 0 ? undefined : missing.join(', ')
}
