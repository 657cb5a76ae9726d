// A fuzz world for the client SDK: an in-process server on a memory store, clients with a memory
// store as their persisted cache (kept across restarts of client i). `makeCrashWorld`: each restart
// is a crash instead of a clean close (the cache takes no commit after it).
import { memoryStore, type Store } from '@statecraft/core'
import { createServer } from '@statecraft/server'
import type { FuzzWorld } from '@statecraft/test-kit'
import { createClient, type StatecraftClient } from '@statecraft/client'
import type { Port } from '@statecraft/protocol'
import { crashable } from './stores.ts'

export const makeWorld = (o: { historyLimit: number }): Promise<FuzzWorld> => world(o.historyLimit, false)

export const makeCrashWorld = (o: { historyLimit: number }): Promise<FuzzWorld> => world(o.historyLimit, true)

async function world(historyLimit: number, crashes: boolean): Promise<FuzzWorld> {
  const store = memoryStore({ historyLimit })
  const server = await createServer({ store, log: () => {} })
  const caches = new Map<number, Store>()
  let made = 0
  return {
    store,
    dial: () => server.connectLocal(),
    client(i, dial, restart) {
      let cache = caches.get(i)
      if (cache === undefined || !restart) caches.set(i, (cache = memoryStore({ historyLimit: 1 })))
      const crash = crashable(cache)
      const c: StatecraftClient = createClient({ clientId: `c${i}.${made++}`, dial: dial as () => Promise<Port>, cache: crash.store, log: () => {}, onError: () => {}, reconnect: { minDelayMs: 1, maxDelayMs: 5 } })
      return {
        value: k => c.doc(k).value,
        write: (k, op) => c.write(k, op),
        goOffline: () => c.goOffline(),
        goOnline: () => c.goOnline(),
        whenSynced: () => c.whenSynced(),
        close: async () => {
          if (crashes) {
            c.goOffline()
            crash.crash()
          }
          await c.close()
        },
        describe: k => {
          const d = c.docs.get(k)
          const ss = (c as unknown as { session?: { alive: boolean; remote: { connected: boolean }; subs: Map<string, unknown> } }).session
          const rsubs = ss === undefined ? '' : [...(ss.remote as unknown as { subs: Map<number, { id: number; query: unknown; active: boolean; last: unknown; delivered: boolean; feed: { closed: boolean } }> }).subs.values()].map(x => `${x.id}:${JSON.stringify(x.query)}:${x.active}:${x.delivered}:${x.feed.closed}:${JSON.stringify(x.last)}`).join(' ')
          const sess = ss === undefined ? 'no session' : `alive=${ss.alive} connected=${ss.remote.connected} subs=${[...ss.subs.keys()].join(',')} id=${c.clientId.slice(0, 4)} remote=${rsubs} server=${JSON.stringify(server.backend.stats())}`
          return sess + ' ' + (d === undefined ? 'no doc' : JSON.stringify({ server: d.server, versions: d.versions, pending: d.pending.map(e => [e.clientId, e.seq, [...e.txn]]), inbox: d.inbox.length, caughtUp: d.caughtUp, online: c.online, status: c.status }))
        },
      }
    },
    async close() {
      await server.close()
      await store.close()
    },
  }
}

