// One open store per database: an exclusive Web Lock (navigator.locks) held while the store is
// open, so two tabs (or two openers in one page) never write the same database at once. Where Web
// Locks are missing (Node), an in-process registry gives the same rule within one JS realm.
import { StatecraftError } from '@statecraft/core'

/** What a second opener does while the database is held: fail at once, or wait for the holder to close. */
export type OnLocked = 'fail' | 'wait'

/** Releases the lock (idempotent). */
export type Release = () => void

const lockedError = (name: string): StatecraftError =>
  new StatecraftError(
    'conflict',
    `the IndexedDB store ${JSON.stringify(name)} is open elsewhere (another tab, or another idbStore in this page); ` +
      `close it first, or open with { onLocked: 'wait' }`,
    { locked: name },
  )

/** Takes the exclusive lock of database `name` (of `scope`, the IDBFactory, for the in-process fallback). */
export function acquireLock(name: string, onLocked: OnLocked, scope: object): Promise<Release> {
  const locks = (globalThis as { navigator?: { locks?: LockManager } }).navigator?.locks
  return locks === undefined ? acquireLocal(name, onLocked, scope) : acquireWebLock(locks, name, onLocked)
}

function acquireWebLock(locks: LockManager, name: string, onLocked: OnLocked): Promise<Release> {
  return new Promise<Release>((resolve, reject) => {
    let release: Release = () => {}
    const held = new Promise<void>(r => {
      release = r
    })
    locks
      .request(`statecraft-idb:${name}`, { mode: 'exclusive', ifAvailable: onLocked === 'fail' }, async lock => {
        if (lock === null) {
          reject(lockedError(name))
          return
        }
        resolve(release)
        await held
      })
      .catch((e: unknown) => reject(StatecraftError.from(e)))
  })
}

interface LocalLock {
  held: boolean
  waiters: (() => void)[]
}

const local = new WeakMap<object, Map<string, LocalLock>>()

async function acquireLocal(name: string, onLocked: OnLocked, scope: object): Promise<Release> {
  const byName = local.get(scope) ?? new Map<string, LocalLock>()
  local.set(scope, byName)
  let l = byName.get(name)
  if (l === undefined) byName.set(name, (l = { held: false, waiters: [] }))
  const lock = l
  if (lock.held) {
    if (onLocked === 'fail') throw lockedError(name)
    await new Promise<void>(r => lock.waiters.push(r))
  }
  lock.held = true
  let released = false
  return () => {
    if (released) return
    released = true
    const next = lock.waiters.shift()
    if (next !== undefined) next()
    else {
      lock.held = false
      byName.delete(name)
    }
  }
}
