// The outbox: writes made offline, persisted in IndexedDB until the server acknowledges them.
// `push` resolves only once its IndexedDB transaction has completed with strict durability.
import { StatecraftError, closedError } from '@statecraft/core'
import { idbError, openDatabase, type OpenOptions, type StatecraftIDB } from './schema.ts'

export interface OutboxEntry<T> {
  /** Increasing in push order; never reused. */
  id: number
  value: T
}

/** Pending writes in push order. Values are stored by structured clone (Maps, Uint8Arrays and JSON are fine). */
export interface Outbox<T = unknown> {
  /** Appends an entry; resolves with its id once it is durably on disk. */
  push(value: T): Promise<number>
  /** Every entry, oldest first. */
  list(): Promise<OutboxEntry<T>[]>
  /** Removes acknowledged entries (ids not there are ignored). */
  remove(ids: Iterable<number>): Promise<void>
  /** How many entries are waiting. */
  count(): Promise<number>
  /** Removes every entry. */
  clear(): Promise<void>
  /** Closes the database connection; later calls reject with `closed`. */
  close(): void
}

/**
 * Opens the outbox of the IndexedDB database `name` (the same database as `idbStore(name)` may
 * share: the outbox is its own object store). Several openers (tabs) may share one outbox; each
 * call is one IndexedDB transaction.
 */
export async function idbOutbox<T = unknown>(name: string, opts: OpenOptions = {}): Promise<Outbox<T>> {
  const db = await openDatabase(name, opts)
  const outbox = new IdbOutbox<T>(db)
  db.addEventListener('versionchange', () => outbox.close())
  db.addEventListener('close', () => outbox.close())
  return outbox
}

class IdbOutbox<T> implements Outbox<T> {
  private closed = false
  constructor(private readonly db: StatecraftIDB) {}

  private check(): void {
    if (this.closed) throw closedError('outbox')
  }

  async push(value: T): Promise<number> {
    this.check()
    const tx = this.db.transaction('outbox', 'readwrite', { durability: 'strict' })
    try {
      const [id] = await Promise.all([tx.store.add(value), tx.done])
      return id
    } catch (e) {
      if (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'DataCloneError') {
        throw new StatecraftError('invalid', `an outbox entry must be structured-cloneable: ${String((e as { message?: unknown }).message)}`)
      }
      throw idbError(e, 'cannot append to the outbox')
    }
  }

  async list(): Promise<OutboxEntry<T>[]> {
    this.check()
    const tx = this.db.transaction('outbox', 'readonly')
    try {
      const [ids, values] = await Promise.all([tx.store.getAllKeys(), tx.store.getAll(), tx.done])
      return ids.map((id, i) => ({ id, value: values[i] as T }))
    } catch (e) {
      throw idbError(e, 'cannot read the outbox')
    }
  }

  async remove(ids: Iterable<number>): Promise<void> {
    this.check()
    const tx = this.db.transaction('outbox', 'readwrite', { durability: 'strict' })
    try {
      await Promise.all([...[...ids].map(id => tx.store.delete(id)), tx.done])
    } catch (e) {
      throw idbError(e, 'cannot remove outbox entries')
    }
  }

  async count(): Promise<number> {
    this.check()
    try {
      return await this.db.count('outbox')
    } catch (e) {
      throw idbError(e, 'cannot count the outbox')
    }
  }

  async clear(): Promise<void> {
    this.check()
    const tx = this.db.transaction('outbox', 'readwrite', { durability: 'strict' })
    try {
      await Promise.all([tx.store.clear(), tx.done])
    } catch (e) {
      throw idbError(e, 'cannot clear the outbox')
    }
  }

  close(): void {
    if (this.closed) return
    this.closed = true
    this.db.close()
  }
}
