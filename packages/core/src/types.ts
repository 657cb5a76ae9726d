// The store contract: the types every Statecraft store, proxy and transport speaks.
// Guarantees are written on the interface; the memory store is their reference implementation
// and @statecraft/test-kit checks each one.
import type { JSONOp } from 'ot-json1'
import type { TextOp } from 'ot-text-unicode'

/** Keys are strings ordered by UTF-16 code unit (plain `<`), so ranges and prefixes are meaningful. */
export type Key = string

/** A JSON value: what JSON.stringify / JSON.parse round-trip. */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json }

/**
 * A stored value: JSON or binary. Values handed out by a store are deeply frozen (JSON) or
 * fresh copies (binary): mutating them never changes the store.
 */
export type Value = Json | Uint8Array

/** Versions of each source a result is consistent with: `{ [sourceUid]: version }`. */
export type Versions = Record<string, number>

/**
 * OT op payloads by type name. Augment this interface (declaration merging) and register the type
 * with `registerOTType` to add an OT type.
 */
export interface OTOpPayloads {
  json1: JSONOp
  text: TextOp
}
export type OTTypeName = Extract<keyof OTOpPayloads, string>

export interface SetOp { type: 'set'; value: Value }
export interface DelOp { type: 'del' }
export type OTOp = { [K in OTTypeName]: { type: K; op: OTOpPayloads[K] } }[OTTypeName]
export type Op = SetOp | DelOp | OTOp
export type OpType = Op['type']

/** A transaction: ops on several keys, applied atomically. */
export type Txn = Map<Key, Op>

export type KeysQuery = { kind: 'keys'; keys: Key[] }
/** `from` inclusive, `to` exclusive, `prefix` narrows both; `limit` keeps the first (or, reversed, last) N keys. */
export type RangeQuery = {
  kind: 'range'
  from?: Key
  to?: Key
  prefix?: Key
  limit?: number
  reverse?: boolean
}
/** Passed straight to a backend that understands it (SQL …). */
export type NativeQuery = { kind: 'native'; backend: string; query: unknown }
export type Query = KeysQuery | RangeQuery | NativeQuery
export type QueryKind = Query['kind']

export interface StoreCapabilities {
  /** Query kinds this store answers; others reject with `unsupported`. */
  queries: QueryKind[]
  /** Op types `mutate` accepts. */
  opTypes: OpType[]
  /** False for read-only stores: `mutate` rejects with `unsupported`. */
  mutable: boolean
  /** True when the store keeps an op log: `getOps`, `fetch({atVersion})`, `subscribe({fromVersion})`. */
  history: boolean
}

export interface StoreInfo {
  /** Unique id of this store instance (for a source: its source uid). */
  uid: string
  /** The source uids whose versions appear in this store's `Versions`. */
  sources: string[]
  capabilities: StoreCapabilities
}

export interface FetchOptions {
  /** Read the past: the results as they were at these versions (inside the history window). */
  atVersion?: Versions
  /** Fail with `invalid` when the store has not reached these versions. */
  minVersion?: Versions
}

export interface FetchResult {
  /** Every key that matched and exists. A missing key is absent, never `undefined`-valued. */
  results: Map<Key, Value>
  /** The versions the results are consistent with. */
  versions: Versions
  /** For a range with `limit`: more keys matched beyond the limit. */
  more?: boolean
}

export interface MutateOptions {
  /**
   * The versions this write was based on. A key written by `set`/`del` since then, or any key in
   * `conflictKeys` changed since then, fails the write with `conflict`; a `json1`/`text` op on a key
   * edited since then is transformed over those edits. Without it the write is unconditional.
   */
  baseVersions?: Versions
  /** Keys read by a transaction: any change to them since `baseVersions` is a `conflict`. */
  conflictKeys?: Key[]
  /** With `seq`: exactly-once. A `{clientId, seq}` already applied returns its original versions. */
  clientId?: string
  seq?: number
  /** Stored with the txn record and handed to `getOps` and subscribers. */
  meta?: Record<string, unknown>
}

export interface TxnRecord {
  versions: Versions
  txn: Txn
  meta?: Record<string, unknown>
}

export interface GetOpsOptions {
  /** At most this many records (the oldest first). */
  limit?: number
}

export interface SubscribeOptions {
  /** Resume: yield the txns after this version instead of the current results. */
  fromVersion?: Versions
}

/**
 * One step of a subscription. Apply with `applyUpdate`:
 * 1. `replace`: the whole result set (the first update of a subscription without `fromVersion`).
 * 2. `txns`, in order: ops on keys in the view.
 * 3. `leave`: keys that left a `limit` window without being deleted.
 * 4. `enter`: keys that entered a `limit` window, with their values.
 */
export interface Update {
  replace?: Map<Key, Value>
  txns: TxnRecord[]
  leave?: Key[]
  enter?: Map<Key, Value>
  versions: Versions
  /** False while a subscription is still catching up in several steps. */
  caughtUp: boolean
}

/** Live results. Iterate it; `close()` (or `break`) ends it; the store's `close()` ends it too. */
export interface Subscription extends AsyncIterable<Update> {
  close(): void
}

/**
 * A Statecraft store. Every piece of the system is one: the memory store, the LevelDB and
 * IndexedDB stores, a remote server seen from a client, and every proxy.
 *
 * Guarantees (each a case in `runStoreTests`):
 * - a missing key is absent from results, never `undefined`-valued; `del` of a missing key succeeds;
 * - a txn applies atomically or not at all; a failed write changes nothing;
 * - each committed txn advances the source's version by one;
 * - a subscription first yields the current results (`replace`) or, with `fromVersion`, the txns
 *   since then, then every matching txn once, in order, with no gap;
 * - a live range query with `limit` keeps its window right as keys enter and leave it;
 * - `close()` ends subscriptions; every call after it rejects with `closed`.
 */
export interface Store {
  readonly info: StoreInfo
  fetch(query: Query, options?: FetchOptions): Promise<FetchResult>
  mutate(txn: Txn, options?: MutateOptions): Promise<Versions>
  /** Txn records with versions in (from, to], restricted to keys the query matches. */
  getOps(query: Query, from: Versions, to?: Versions, options?: GetOpsOptions): Promise<TxnRecord[]>
  subscribe(query: Query, options?: SubscribeOptions): Subscription
  close(): Promise<void>
}
