// The page bundled for the client's Chromium test (browser.test.ts): a client on the browser's real
// IndexedDB cache, talking to a real server over WebSocket. Offline edits, a reload, then online.
import { createClient, type StatecraftClient } from '@statecraft/client'

let db: StatecraftClient | undefined

export interface BrowserApi {
  /** Opens the client (offline or not) on the IndexedDB cache `cacheName`. */
  open(url: string, cacheName: string, offline: boolean): Promise<{ cache: string | undefined }>
  /** Offline edits; resolves once they are durable in IndexedDB (the promises of the writes stay pending). */
  editOffline(): Promise<{ text: string; doc: unknown; pending: number }>
  /** What the client shows right after the cache opened. */
  shown(): { text: string; doc: unknown; fromCache: boolean; pending: number }
  /** Goes online and waits for the outbox to empty. */
  sync(): Promise<{ text: string; doc: unknown; pending: number }>
}

const api: BrowserApi = {
  async open(url, cacheName, offline) {
    db = createClient({ url, cache: 'indexeddb', cacheName, offline, log: m => console.warn(m) })
    await db.cacheReady
    return { cache: db.status.cache }
  },
  async editOffline() {
    const c = db as StatecraftClient
    const t = c.text('notes/readme')
    void t.insert(0, 'hello from the browser')
    void t.insert(5, ',')
    void c.doc('todos/1').set({ title: 'buy milk', done: false })
    void c.doc('todos/1').setAt(['done'], true)
    await c.whenPersisted()
    return { text: t.value, doc: c.doc('todos/1').value, pending: c.status.pending }
  },
  shown() {
    const c = db as StatecraftClient
    const s = c.doc('todos/1').snapshot()
    return { text: c.text('notes/readme').value, doc: s.value, fromCache: s.fromCache || s.pending, pending: c.status.pending }
  },
  async sync() {
    const c = db as StatecraftClient
    c.goOnline()
    await c.whenSynced()
    return { text: c.text('notes/readme').value, doc: c.doc('todos/1').value, pending: c.status.pending }
  },
}

;(globalThis as { statecraftClient?: BrowserApi }).statecraftClient = api
