// Deleting a Statecraft IndexedDB database outright (logout, tests): docs, history, seqs and outbox.
import { factoryOf, idbError, type OpenOptions } from './schema.ts'

/**
 * Deletes the database `name`. Stores and outboxes open on it (in any tab) close themselves first;
 * resolves once it is gone.
 */
export async function deleteIdbStore(name: string, opts: OpenOptions = {}): Promise<void> {
  const factory = factoryOf(opts)
  try {
    await new Promise<void>((resolve, reject) => {
      const req = factory.deleteDatabase(name)
      req.onsuccess = () => resolve()
      req.onerror = () => reject(req.error ?? new Error('deleteDatabase failed'))
    })
  } catch (e) {
    throw idbError(e, `cannot delete the IndexedDB database ${JSON.stringify(name)}`)
  }
}
