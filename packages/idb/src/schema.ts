// The IndexedDB database layout shared by the store, the outbox and the cache helpers, and opening
// a database with it (upgrading an empty one, refusing one that is not Statecraft's).
import { wrap, type DBSchema, type IDBPDatabase } from 'idb'
import { StatecraftError } from '@statecraft/core'
import type { Key, Op, Value } from '@statecraft/core'

/** Bumped when the layout changes; `upgrade` below moves older layouts forward. */
export const SCHEMA_VERSION = 1

/** A doc's record: its value (absent once deleted) and the last version that wrote it. */
export interface DocRecord {
  version: number
  value?: Value
}

/** One op log entry, keyed by its version. Entries are arrays so any IndexedDB can store them. */
export interface LogRecord {
  txn: [Key, Op][]
  /** Per key, the op that takes the value after this txn back to the value before it. */
  undo: [Key, Op][]
  meta?: Record<string, unknown>
}

/** Meta keys: 'uid', 'version', and ['floor', clientId] (seqs at or below it were forgotten). */
export type MetaKey = 'uid' | 'version' | ['floor', string]

export interface StatecraftDB extends DBSchema {
  meta: { key: MetaKey; value: string | number }
  docs: { key: Key; value: DocRecord }
  log: { key: number; value: LogRecord }
  /** [clientId, seq] → the version that write made (exactly-once). */
  seqs: { key: [string, number]; value: number }
  /** doc key → last access stamp (ms since the epoch), for LRU eviction. */
  access: { key: Key; value: number }
  /** The outbox: auto-incremented id → pending entry. */
  outbox: { key: number; value: unknown }
}

export type StatecraftIDB = IDBPDatabase<StatecraftDB>

const STORES = ['meta', 'docs', 'log', 'seqs', 'access', 'outbox'] as const

export interface OpenOptions {
  /** The IndexedDB to use (default: the global `indexedDB`). Its classes must be the global ones (`idb` wraps by `instanceof`). */
  indexedDB?: IDBFactory
}

export function factoryOf(o: OpenOptions): IDBFactory {
  const f = o.indexedDB ?? (globalThis as { indexedDB?: IDBFactory }).indexedDB
  if (f === undefined) {
    throw new StatecraftError('unsupported', 'IndexedDB is not available here (in Node, import "fake-indexeddb/auto" or pass { indexedDB })')
  }
  return f
}

/** Opens (creating or upgrading) the Statecraft database `name`. */
export async function openDatabase(name: string, o: OpenOptions = {}): Promise<StatecraftIDB> {
  const req = factoryOf(o).open(name, SCHEMA_VERSION)
  req.addEventListener('upgradeneeded', () => {
    const db = req.result
    for (const s of STORES) {
      if (s === 'outbox') {
        if (!db.objectStoreNames.contains(s)) db.createObjectStore(s, { autoIncrement: true })
      } else if (!db.objectStoreNames.contains(s)) db.createObjectStore(s)
    }
  })
  let db: StatecraftIDB
  try {
    db = (await wrap(req)) as unknown as StatecraftIDB
  } catch (e) {
    throw idbError(e, `cannot open the IndexedDB database ${JSON.stringify(name)}`)
  }
  const missing = STORES.filter(s => !db.objectStoreNames.contains(s))
  if (missing.length > 0) {
    db.close()
    throw new StatecraftError('invalid', `the IndexedDB database ${JSON.stringify(name)} is not a Statecraft database (no ${missing.join(', ')} object store)`)
  }
  return db
}

/** An IndexedDB failure as a StatecraftError: quota → `too-large`, a newer layout → `unsupported`, else `internal`. */
export function idbError(e: unknown, what: string): StatecraftError {
  if (e instanceof StatecraftError) return e
  const name = typeof e === 'object' && e !== null && 'name' in e ? String((e as { name: unknown }).name) : ''
  const msg = e instanceof Error || (typeof e === 'object' && e !== null && 'message' in e) ? String((e as { message: unknown }).message) : String(e)
  const text = `${what}: ${name !== '' ? `${name}: ` : ''}${msg}`
  if (name === 'QuotaExceededError') return new StatecraftError('too-large', text)
  if (name === 'VersionError') return new StatecraftError('unsupported', `${text} (written by a newer @statecraft/idb)`)
  return new StatecraftError('internal', text)
}
