// The demo's client: one per signed-in user, on the page's own origin (`/sync`), cached in
// IndexedDB (offline edits survive a reload), with refused writes reported to the page.
import { createClient, type StatecraftClient } from '@statecraft/client'
import type { StatecraftError } from '@statecraft/core'

/** The shared text everyone edits, and the presence room of its editor; `?note=name` opens notes/name instead. */
export const NOTE_KEY = `notes/${new URLSearchParams(location.search).get('note') ?? 'shared'}`

export interface RefusedWrite {
  id: number
  key: string
  code: string
  message: string
}

const OFFLINE_FLAG = 'statecraft-demo-offline'

/** The offline switch outlives a reload of the tab (so pending edits can be seen surviving one). */
export const startsOffline = (): boolean => sessionStorage.getItem(OFFLINE_FLAG) === '1'

export function setOffline(db: StatecraftClient, offline: boolean): void {
  if (offline) {
    sessionStorage.setItem(OFFLINE_FLAG, '1')
    db.goOffline()
  } else {
    sessionStorage.removeItem(OFFLINE_FLAG)
    db.goOnline()
  }
}

export function syncUrl(loc: Location = location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/sync`
}

const refusedListeners = new Set<(e: RefusedWrite) => void>()

/** Calls `fn` for every write the server refuses. Returns the unsubscribe. */
export function onRefused(fn: (e: RefusedWrite) => void): () => void {
  refusedListeners.add(fn)
  return () => {
    refusedListeners.delete(fn)
  }
}

// One client per user for the page's life: React may mount twice (StrictMode), but a second
// client would find the first one's IndexedDB cache locked and fall back to memory.
const clients = new Map<string, StatecraftClient>()
let refusedCount = 0

export function demoClient(name: string): StatecraftClient {
  let c = clients.get(name)
  if (c === undefined) {
    c = createClient({
      url: syncUrl(),
      cache: 'indexeddb',
      cacheName: `statecraft-demo-${name}`,
      auth: () => name,
      offline: startsOffline(),
      onError: (err: StatecraftError, key: string) => {
        const e = { id: ++refusedCount, key, code: err.code, message: err.message }
        for (const l of refusedListeners) l(e)
      },
    })
    clients.set(name, c)
  }
  return c
}

/** Signing out: the user's client closes (its cache stays for next time). */
export async function closeClient(name: string): Promise<void> {
  const c = clients.get(name)
  clients.delete(name)
  await c?.close()
}
