// One server of the comparison, in its own process (so client and server each get a core), as the
// package benches do. `tsx server-process.ts statecraft|sharedb|yjs [memory]`: it listens on 127.0.0.1 on
// a free port, sends `{ url }` to the parent over IPC, then answers requests (`wait-for`, `heap`,
// `read`, `memory-stats`, `cpu`) until the parent disconnects. It runs with --expose-gc (servers.ts):
// `heap` is heapUsed after gc. Statecraft runs on a LevelDB store in a temp dir (removed on exit;
// with `memory`, on the memory store), with room for 4,000 subscriptions on a connection and a 1 MB
// text in one frame (section 6, 7);
// ShareDB on its in-memory db with ot-text-unicode registered; Yjs on @y/websocket-server.
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { WebSocketServer } from 'ws'
import { keys, memoryStore } from '@statecraft/core'
import { levelStore } from '@statecraft/level'
import { createServer } from '@statecraft/server'
import ShareDB from 'sharedb'
import WebSocketJSONStream from '@teamwork/websocket-json-stream'
import { type as textUnicode } from 'ot-text-unicode'
import { docs as yDocs, setupWSConnection } from '@y/websocket-server/utils'
import type { Request, Reply, System } from './protocol.ts'
import { getHeapSpaceStatistics } from 'node:v8'

const kind = process.argv[2] as System

/** The current value of a text doc as this server holds it (undefined when it has none). */
type Read = (key: string) => Promise<unknown>

async function listen(http: HttpServer): Promise<number> {
  await new Promise<void>(resolve => http.listen(0, '127.0.0.1', resolve))
  const addr = http.address()
  if (addr === null || typeof addr === 'string') throw new Error('no port')
  return addr.port
}

/** Statecraft's LevelDB dir, removed on exit whatever happens. */
let tempDir: string | undefined

interface Running {
  url: string
  read: Read
  /** The store's `memoryStats()` when it has one (LevelDB store, Statecraft only), else null. */
  memoryStats: () => unknown
  close: () => Promise<void>
}

async function start(): Promise<Running> {
  if (kind === 'statecraft') {
    const dir = mkdtempSync(join(tmpdir(), 'statecraft-bench-'))
    tempDir = dir
    // On the memory store (no disk in the path) when started so (`startServer(…, { store: 'memory' })`,
    // section 3's like-for-like rows) or with BENCH_STATECRAFT_STORE=memory (every section: a diagnostic).
    const onMemory = process.argv[3] === 'memory' || process.env.BENCH_STATECRAFT_STORE === 'memory'
    const level = onMemory ? undefined : levelStore(dir)
    await level?.ready()
    const store = level ?? memoryStore()
    const server = await createServer({ store, limits: { maxSubscriptions: 10_000, maxFrameBytes: 8 << 20 }, log: () => {} })
    const withStats = store as { memoryStats?: () => unknown }
    return {
      url: server.url,
      read: async key => (await store.fetch(keys(key))).results.get(key),
      memoryStats: () => (typeof withStats.memoryStats === 'function' ? withStats.memoryStats() : null),
      close: async () => {
        try {
          await server.close()
          await store.close()
        } finally {
          rmSync(dir, { recursive: true, force: true })
        }
      },
    }
  }
  if (kind === 'sharedb') {
    ShareDB.types.register(textUnicode)
    const backend = new ShareDB()
    const http = createHttpServer()
    const wss = new WebSocketServer({ server: http })
    wss.on('connection', ws => {
      backend.listen(new WebSocketJSONStream(ws))
    })
    const port = await listen(http)
    return {
      url: `ws://127.0.0.1:${port}`,
      read: key =>
        new Promise((resolve, reject) =>
          backend.db.getSnapshot('bench', key, null, null, (err, s) => (err === null || err === undefined ? resolve(s?.data) : reject(err instanceof Error ? err : new Error(JSON.stringify(err))))),
        ),
      memoryStats: () => null,
      close: async () => {
        for (const c of wss.clients) c.terminate()
        await new Promise(r => wss.close(r))
        await new Promise(r => http.close(r))
      },
    }
  }
  // Yjs: the server of y-websocket (@y/websocket-server), in memory.
  const http = createHttpServer()
  const wss = new WebSocketServer({ server: http })
  wss.on('connection', (ws, req) => setupWSConnection(ws, req))
  const port = await listen(http)
  return {
    url: `ws://127.0.0.1:${port}`,
    read: async key => yDocs.get(key)?.getText('t').toJSON(),
    memoryStats: () => null,
    close: async () => {
      for (const c of wss.clients) c.terminate()
      await new Promise(r => wss.close(r))
      await new Promise(r => http.close(r))
    },
  }
}

const server = await start()

/** Polls until the server holds `content` at `key` (every 1 ms: a short trace replays in ~0.1 s). */
async function waitFor(key: string, content: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs
  for (;;) {
    if ((await server.read(key)) === content) return
    if (Date.now() > until) {
      const v = await server.read(key)
      throw new Error(`timed out: the server holds ${typeof v === 'string' ? `${v.length} chars` : String(v)} at ${key}, expected ${content.length}`)
    }
    await new Promise(r => setTimeout(r, 1))
  }
}

/** CPU time this process has used (user + system, every thread), µs. */
function cpuMicros(): number {
  const u = process.cpuUsage()
  return u.user + u.system
}

function heap(): number {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run with --expose-gc')
  for (let i = 0; i < 4; i++) gc()
  return process.memoryUsage().heapUsed
}

/** heap() less what V8's code spaces hold: compiled code (the JIT's, which grows as new paths warm up) is not data. */
function dataHeap(): number {
  const used = heap()
  let code = 0
  for (const sp of getHeapSpaceStatistics()) if (sp.space_name.startsWith('code_')) code += sp.space_used_size
  return used - code
}

process.on('message', (m: Request) => {
  const reply = (r: Omit<Reply, 'id'>): void => {
    process.send?.({ id: m.id, ...r })
  }
  const run = async (): Promise<unknown> => {
    if (m.cmd === 'wait-for') return waitFor(m.key, m.content, m.timeoutMs)
    if (m.cmd === 'heap') return heap()
    if (m.cmd === 'data-heap') return dataHeap()
    if (m.cmd === 'read') return server.read(m.key)
    if (m.cmd === 'memory-stats') return server.memoryStats()
    if (m.cmd === 'cpu') return cpuMicros()
    throw new Error(`unknown command ${JSON.stringify(m)}`)
  }
  run().then(
    value => reply({ value }),
    (e: unknown) => reply({ error: e instanceof Error ? e.message : String(e) }),
  )
})
process.send?.({ url: server.url })
// The parent is done, or gone: close (removing the temp dir), and exit even if closing hangs.
process.on('disconnect', () => {
  setTimeout(() => process.exit(0), 3000).unref()
  process.on('exit', () => {
    if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true })
  })
  void server.close().finally(() => process.exit(0))
})
