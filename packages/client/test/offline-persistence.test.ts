// Offline writes survive dropping the client: 100 edits across docs and texts made offline go to the
// cache, a new client on the same cache shows them at once (fromCache) and sends them when online,
// and the server applies each exactly once — also when the first client's writes reached the server
// but their acknowledgements were lost. Run on the LevelDB cache and on the IndexedDB one (fake-indexeddb).
import 'fake-indexeddb/auto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, test } from 'vitest'
import { applyOp, keys, memoryStore, type Key, type Op, type Store, type Value } from '@statecraft/core'
import { openLevelStore } from '@statecraft/level'
import { createServer, type StatecraftServer } from '@statecraft/server'
import { rng } from '@statecraft/test-kit'
import { createClient, type ClientOptions, type StatecraftClient } from '@statecraft/client'
import type { Port } from '@statecraft/protocol'

const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c()
})

interface CacheKind {
  name: string
  /** Cache options for one client "session" (a page load / process). */
  open(): Promise<Pick<ClientOptions, 'cache' | 'cacheName'> & { release(): Promise<void> }>
}

function levelKind(): CacheKind {
  const dir = mkdtempSync(join(tmpdir(), 'statecraft-client-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return {
    name: 'level',
    async open() {
      const store: Store = await openLevelStore(dir, { historyLimit: 10 })
      return { cache: store, release: () => store.close() }
    },
  }
}

let dbn = 0
function idbKind(): CacheKind {
  const cacheName = `client-cache-${++dbn}`
  return { name: 'indexeddb', open: () => Promise.resolve({ cache: 'indexeddb' as const, cacheName, release: async () => {} }) }
}

/** 100 random edits over 3 JSON docs and 2 texts, each valid on the value it is made on. */
function edits(seed: number): { key: Key; op: Op }[] {
  const r = rng(seed)
  const values = new Map<Key, Value | undefined>()
  const out: { key: Key; op: Op }[] = []
  for (let i = 0; i < 100; i++) {
    let key: Key
    let op: Op
    if (r.next() < 0.6) {
      key = r.pick(['t/1', 't/2'])
      const s = (values.get(key) as string | undefined) ?? ''
      const pos = r.int(s.length + 1)
      op = s.length > 3 && r.next() < 0.3 ? { type: 'text', op: [r.int(s.length - 1), { d: 1 }] } : { type: 'text', op: pos === 0 ? [`e${i} `] : [pos, `e${i} `] }
    } else {
      key = r.pick(['d/1', 'd/2', 'd/3'])
      const v = values.get(key) as { n: number; log: number[] } | undefined
      op = v === undefined || r.next() < 0.2 ? { type: 'set', value: { n: i, log: [i] } } : { type: 'json1', op: ['log', v.log.length, { i }] as never }
    }
    values.set(key, applyOp(values.get(key), op))
    out.push({ key, op })
  }
  return out
}

function expected(list: { key: Key; op: Op }[]): Map<Key, Value | undefined> {
  const m = new Map<Key, Value | undefined>()
  for (const { key, op } of list) m.set(key, applyOp(m.get(key), op))
  return m
}

async function serverValues(s: StatecraftServer, ks: Key[]): Promise<Map<Key, Value>> {
  return (await s.backend.store.fetch(keys(...ks))).results
}

/**
 * A dial that delivers everything to the server but loses the replies to mutates (JSON frames),
 * then cuts the connection: the writes are applied, the client never hears so.
 */
function dialLosingAcks(server: StatecraftServer): () => Port {
  return () => {
    const inner = server.connectLocal()
    const port: Port = {
      onframe: undefined,
      onclose: undefined,
      get bufferedAmount() {
        return inner.bufferedAmount
      },
      send: f => inner.send(f),
      close: (code, reason) => inner.close(code, reason),
    }
    inner.onframe = f => {
      if (typeof f === 'string' && f.includes('"type":"mutated"')) {
        inner.terminate()
        return
      }
      port.onframe?.(f)
    }
    inner.onclose = (code, reason) => port.onclose?.(code, reason)
    return port
  }
}

describe.each([['level', levelKind], ['indexeddb', idbKind]] as const)('%s cache', (_name, makeKind) => {
  test('100 offline edits survive a new client on the same cache and reach the server exactly once', async () => {
    const kind = makeKind()
    const server = await createServer({ store: memoryStore(), log: () => {} })
    cleanups.push(() => server.close())
    const list = edits(7)
    const want = expected(list)
    const allKeys = [...want.keys()]

    // Session 1: offline from the start; every edit applies locally at once.
    const s1 = await kind.open()
    const a: StatecraftClient = createClient({ dial: () => server.connectLocal(), ...s1, offline: true, log: () => {} })
    for (const { key, op } of list) void a.write(key, op)
    for (const k of allKeys) expect(a.valueOf(k)).toEqual(want.get(k))
    expect(a.status.pending).toBeGreaterThan(0)
    await a.close()
    await s1.release()

    // Session 2: goes online over a link that loses every mutate reply: writes land, unacknowledged.
    const s2 = await kind.open()
    const b = createClient({ dial: dialLosingAcks(server), encoding: 'json', ...s2, offline: true, log: () => {} })
    await b.cacheReady
    for (const k of allKeys) {
      const snap = b.doc(k).snapshot()
      expect(snap.value).toEqual(want.get(k))
      expect(snap.fromCache || snap.pending).toBe(true)
    }
    b.goOnline()
    const deadline = Date.now() + 5000
    while ((await serverValues(server, allKeys)).size < allKeys.length && Date.now() < deadline) await new Promise(r => setTimeout(r, 5))
    await b.close()
    await s2.release()
    const appliedUnacked = (await server.backend.store.getOps(keys(...allKeys), {})).length
    expect(appliedUnacked).toBeGreaterThan(0)

    // Session 3: a normal link. Whatever was applied is acknowledged by seq, not applied again.
    const s3 = await kind.open()
    const c = createClient({ dial: () => server.connectLocal(), ...s3, log: () => {} })
    cleanups.push(async () => {
      await c.close()
      await s3.release()
    })
    await c.whenSynced()
    expect(c.status.pending).toBe(0)
    const log = await server.backend.store.getOps(keys(...allKeys), {})
    const ids = log.map(rec => `${String(rec.meta?.c)}/${String(rec.meta?.s)}`)
    expect(new Set(ids).size).toBe(ids.length)
    const got = await serverValues(server, allKeys)
    for (const k of allKeys) {
      expect(got.get(k), k).toEqual(want.get(k))
      expect(c.valueOf(k), k).toEqual(want.get(k))
    }
  })
})
