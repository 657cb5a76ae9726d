// The client's persistent cache: the server state of each doc it has seen (with the versions that
// state is at), its outbox of pending writes, and per-client seq high-water marks. One
// implementation over any Store used as a key-value store, so the memory, IndexedDB and LevelDB
// caches behave alike and an outbox change and the doc states it depends on commit in one txn.
import { isBinary, prefix } from '@statecraft/core'
import type { Json, Key, Op, Store, Txn, Value, Versions } from '@statecraft/core'

/** A doc's server state as cached: its value (undefined = absent) at `versions`. */
export interface CachedDoc {
  value: Value | undefined
  versions: Versions
}

/** One pending write as cached. Sent again after a reload with the same {clientId, seq}. */
export interface CachedEntry {
  /** Position in the outbox: entries are sent in this order. */
  order: number
  clientId: string
  seq: number
  txn: Txn
  /** Set when the entry can no longer be rebased: it is sent based on these versions, to fail with `conflict`. */
  stuckAt?: Versions
}

export interface CacheContents {
  docs: Map<Key, CachedDoc>
  entries: CachedEntry[]
  /** The next seq each client id may use. */
  seqs: Map<string, number>
}

/** What one commit writes: `null` removes. Applied atomically. */
export interface CacheWrite {
  docs: Map<Key, CachedDoc | null>
  entries: Map<number, CachedEntry | null>
  seqs: Map<string, number>
}

/**
 * Where a client keeps its docs and outbox. `commit` must be atomic and durable when it resolves:
 * the client sends a write only after the commit holding it has resolved.
 */
export interface ClientCache {
  /** A name for logs and status (`memory`, `indexeddb:<name>`, …). */
  readonly kind: string
  load(): Promise<CacheContents>
  commit(w: CacheWrite): Promise<void>
  /** Removes cached docs for which `keep(key)` is false (the client keeps docs with pending writes). */
  clear(keep: (key: Key) => boolean): Promise<void>
  /** Marks docs as just used, for least-recently-used eviction (optional). */
  touch?(keys: Key[]): void
  /** Called after commits: a cache with a size cap evicts clean docs here. */
  afterCommit?(isPinned: (key: Key) => boolean): Promise<void>
  close(): Promise<void>
}

// ---- stored forms: JSON only, binary values as base64

type StoredValue = { j: Json } | { b: string }

function b64(bytes: Uint8Array): string {
  let s = ''
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
  return btoa(s)
}

function unb64(s: string): Uint8Array {
  const bin = atob(s)
  const out = new Uint8Array(bin.length)
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i)
  return out
}

const storeValue = (v: Value): StoredValue => (isBinary(v) ? { b: b64(v) } : { j: v })
const loadValue = (s: StoredValue): Value => ('b' in s ? unb64(s.b) : s.j)

function storeOp(op: Op): Json {
  if (op.type === 'set') return { type: 'set', value: storeValue(op.value) as unknown as Json }
  return op as unknown as Json
}

function loadOp(j: Json): Op {
  const o = j as { type: string; value?: StoredValue }
  if (o.type === 'set') return { type: 'set', value: loadValue(o.value as StoredValue) }
  return j as unknown as Op
}

interface StoredDoc {
  v?: StoredValue
  vs: Versions
}

interface StoredEntry {
  o: number
  c: string
  s: number
  t: [Key, Json][]
  st?: Versions
}

const DOC = 'd/'
const ENTRY = 'o/'
const SEQ = 's/'
const orderKey = (order: number): Key => ENTRY + String(order).padStart(16, '0')

export interface StoreCacheOptions {
  /** A name for logs. */
  kind?: string
  /** Closed with the cache (default false: the caller owns the store). */
  ownStore?: boolean
  afterCommit?: (isPinned: (key: Key) => boolean) => Promise<void>
  /** Marks store keys as used (the IndexedDB store's LRU stamps). */
  touch?: (keys: Key[]) => void
}

/** A ClientCache kept in any Store: docs at `d/<key>`, outbox entries at `o/<order>`, seqs at `s/<clientId>`. */
export function storeCache(store: Store, opts: StoreCacheOptions = {}): ClientCache {
  return {
    kind: opts.kind ?? `store:${store.info.uid}`,
    async load() {
      const { results } = await store.fetch(prefix(''))
      const out: CacheContents = { docs: new Map(), entries: [], seqs: new Map() }
      for (const [k, raw] of results) {
        if (k.startsWith(DOC)) {
          const d = raw as unknown as StoredDoc
          out.docs.set(k.slice(DOC.length), { value: d.v === undefined ? undefined : loadValue(d.v), versions: d.vs })
        } else if (k.startsWith(ENTRY)) {
          const e = raw as unknown as StoredEntry
          const entry: CachedEntry = { order: e.o, clientId: e.c, seq: e.s, txn: new Map(e.t.map(([key, op]) => [key, loadOp(op)])) }
          if (e.st !== undefined) entry.stuckAt = e.st
          out.entries.push(entry)
        } else if (k.startsWith(SEQ) && typeof raw === 'number') {
          out.seqs.set(k.slice(SEQ.length), raw)
        }
      }
      out.entries.sort((a, b) => a.order - b.order)
      return out
    },
    async commit(w) {
      const txn: Txn = new Map()
      for (const [k, d] of w.docs) {
        if (d === null) txn.set(DOC + k, { type: 'del' })
        else {
          const s: StoredDoc = d.value === undefined ? { vs: d.versions } : { v: storeValue(d.value), vs: d.versions }
          txn.set(DOC + k, { type: 'set', value: s as unknown as Json })
        }
      }
      for (const [order, e] of w.entries) {
        if (e === null) txn.set(orderKey(order), { type: 'del' })
        else {
          const s: StoredEntry = { o: e.order, c: e.clientId, s: e.seq, t: [...e.txn].map(([k, op]) => [k, storeOp(op)]) }
          if (e.stuckAt !== undefined) s.st = e.stuckAt
          txn.set(orderKey(order), { type: 'set', value: s as unknown as Json })
        }
      }
      for (const [c, n] of w.seqs) txn.set(SEQ + c, { type: 'set', value: n })
      if (txn.size === 0) return
      await store.mutate(txn)
    },
    async clear(keep) {
      const { results } = await store.fetch(prefix(DOC))
      const gone = [...results.keys()].filter(k => !keep(k.slice(DOC.length)))
      if (gone.length === 0) return
      await store.mutate(new Map(gone.map(k => [k, { type: 'del' } as Op])))
    },
    touch(ks) {
      opts.touch?.(ks.map(k => DOC + k))
    },
    async afterCommit(isPinned) {
      await opts.afterCommit?.(k => !k.startsWith(DOC) || isPinned(k.slice(DOC.length)))
    },
    async close() {
      if (opts.ownStore === true) await store.close()
    },
  }
}

/**
 * A cache in memory: nothing survives the process, but the client behaves the same. Plain maps:
 * what the client commits it built itself (frozen server values, its own ops), so it is kept as
 * given, not validated or copied as a Store would (binary set values excepted: the app owns those).
 */
export function memoryCache(): ClientCache {
  const docs = new Map<Key, CachedDoc>()
  const entries = new Map<number, CachedEntry>()
  const seqs = new Map<string, number>()
  const cache: SyncCache = {
    kind: 'memory',
    load() {
      const list = [...entries.values()].sort((a, b) => a.order - b.order).map(e => ({ ...e, txn: new Map(e.txn) }))
      return Promise.resolve({ docs: new Map(docs), entries: list, seqs: new Map(seqs) })
    },
    commit(w) {
      cache.commitNow(w)
      return Promise.resolve()
    },
    commitNow(w) {
      for (const [k, d] of w.docs) {
        if (d === null) docs.delete(k)
        else docs.set(k, d.value instanceof Uint8Array ? { value: d.value.slice(), versions: d.versions } : d)
      }
      for (const [o, e] of w.entries) {
        if (e === null) entries.delete(o)
        else {
          for (const [k, op] of e.txn) if (op.type === 'set' && isBinary(op.value)) e.txn.set(k, { type: 'set', value: op.value.slice() })
          entries.set(o, e)
        }
      }
      for (const [c, n] of w.seqs) seqs.set(c, n)
    },
    clear(keep) {
      for (const k of docs.keys()) if (!keep(k)) docs.delete(k)
      return Promise.resolve()
    },
    close: () => Promise.resolve(),
  }
  return cache
}

/** A cache whose commit is done (durable as it will be) when `commitNow` returns: the memory cache. */
interface SyncCache extends ClientCache {
  commitNow(w: CacheWrite): void
}

/** @internal */
export const isSyncCache = (c: ClientCache): c is SyncCache => typeof (c as Partial<SyncCache>).commitNow === 'function'

/** True when `x` looks like a Store (rather than a ClientCache). */
export function isStore(x: unknown): x is Store {
  return typeof x === 'object' && x !== null && 'fetch' in x && 'mutate' in x && 'subscribe' in x && 'info' in x
}
