// Section 4: server heap per idle connected client with one subscription. The server process runs
// with --expose-gc and reports heapUsed after gc, before and after 1,000 clients (each its own
// WebSocket, all subscribed to one shared doc) have connected and caught up.
import { WebSocket } from 'ws'
import * as Y from 'yjs'
import { WebsocketProvider } from 'y-websocket'
import type { System } from './protocol.ts'
import { startServer } from './servers.ts'
import { cb, sharedbConnection, sharedbOpen, statecraftClient } from './clients.ts'
import { sleep } from './stats.ts'

async function connectOne(system: System, url: string, key: string): Promise<() => Promise<void>> {
  if (system === 'statecraft') {
    const c = statecraftClient(url)
    c.doc(key).subscribe(() => {})
    await c.whenSynced()
    return () => c.close()
  }
  if (system === 'sharedb') {
    const conn = await sharedbConnection(url)
    await cb(done => conn.get('bench', key).subscribe(done))
    return async () => conn.close()
  }
  const doc = new Y.Doc()
  const p = new WebsocketProvider(url, key, doc, { WebSocketPolyfill: WebSocket as unknown as typeof globalThis.WebSocket, disableBc: true })
  await new Promise<void>(resolve => (p.synced ? resolve() : p.once('sync', () => resolve())))
  return async () => {
    p.destroy()
    doc.destroy()
  }
}

/** Bytes of server heap per connected client (one subscription each), at `clients` clients. */
export async function heapPerClient(system: System, clients: number): Promise<{ perClient: number; base: number; loaded: number }> {
  const server = await startServer(system)
  const closers: (() => Promise<void>)[] = []
  try {
    const key = 'mem/doc'
    // The doc exists and one client has been through every code path before the baseline.
    if (system === 'sharedb') {
      const conn = await sharedbConnection(server.url)
      await sharedbOpen(conn.get('bench', key), { title: 'shared' }, 'json0')
      conn.close()
    } else if (system === 'statecraft') {
      const c = statecraftClient(server.url)
      await c.doc(key).set({ title: 'shared' })
      await c.close()
    }
    await (await connectOne(system, server.url, key))()
    await sleep(200)
    const base = await server.heap()
    for (let i = 0; i < clients; i += 50) {
      closers.push(...(await Promise.all(Array.from({ length: Math.min(50, clients - i) }, () => connectOne(system, server.url, key)))))
    }
    await sleep(500)
    const loaded = await server.heap()
    return { perClient: (loaded - base) / clients, base, loaded }
  } finally {
    for (let i = 0; i < closers.length; i += 100) await Promise.all(closers.slice(i, i + 100).map(c => c()))
    await server.stop()
  }
}
