// createServer's options: port 0, host, path and url; attaching to an HTTP server it does not own;
// static files over the same server; and what close() closes (and what it leaves alone).
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { createServer as createHttpServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { keys, memoryStore } from '@statecraft/core'
import { connect } from '@statecraft/client'
import { createServer } from '@statecraft/server'

const quiet = { log: () => {} }

test('port 0 picks a free port on 127.0.0.1; url carries the path', async () => {
  const store = memoryStore()
  const a = await createServer({ store, ...quiet })
  const b = await createServer({ store, path: '/sync', ...quiet })
  expect(a.port).toBeGreaterThan(0)
  expect(b.port).not.toBe(a.port)
  expect(a.url).toBe(`ws://127.0.0.1:${a.port}/`)
  expect(b.url).toBe(`ws://127.0.0.1:${b.port}/sync`)
  const remote = await connect(b.url)
  await remote.fetch(keys('x'))
  await remote.close()
  await expect(connect(`ws://127.0.0.1:${b.port}/other`, { reconnect: false })).rejects.toMatchObject({ code: 'closed' })
  const res = await fetch(`http://127.0.0.1:${b.port}/sync`)
  expect(res.status).toBe(426)
  await a.close()
  await b.close()
  await store.close()
})

test('on a server passed in: other upgrade paths are left alone, and close() leaves the server up', async () => {
  const http: Server = createHttpServer((_req, res) => res.end('app'))
  await new Promise<void>(r => http.listen(0, '127.0.0.1', r))
  // Another WebSocket endpoint on the same server (noServer: ws's `server` mode refuses paths it does not own).
  const other = new WebSocketServer({ noServer: true })
  http.on('upgrade', (req, socket, head) => {
    if (req.url === '/other') other.handleUpgrade(req, socket, head, () => {})
  })
  const store = memoryStore()
  const sc = await createServer({ store, server: http, path: '/sync', ...quiet })
  const port = (http.address() as { port: number }).port
  expect(sc.port).toBe(port)
  expect(sc.url).toBe(`ws://127.0.0.1:${port}/sync`)
  const remote = await connect(sc.url, { reconnect: false, ...quiet })
  await remote.mutate(new Map([['a', { type: 'set', value: 1 }]]))
  const ws = new WebSocket(`ws://127.0.0.1:${port}/other`)
  await new Promise((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  ws.close()
  await sc.close()
  expect(http.listening).toBe(true)
  expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toBe('app')
  // The store is not the server's to close either.
  expect((await store.fetch(keys('a'))).results.get('a')).toBe(1)
  await expect(remote.fetch(keys('a'))).rejects.toMatchObject({ code: 'closed' })
  other.close()
  await new Promise<void>(r => http.close(() => r()))
  await store.close()
})

test('close() ends every connection and the HTTP server it made; it can be called twice', async () => {
  const store = memoryStore()
  const sc = await createServer({ store, ...quiet })
  const remote = await connect(sc.url, { reconnect: { minDelayMs: 5, maxDelayMs: 10 }, ...quiet })
  expect(sc.backend.stats().connections).toBe(1)
  await Promise.all([sc.close(), sc.close()])
  expect(sc.backend.stats().connections).toBe(0)
  await expect(fetch(`http://127.0.0.1:${sc.port}/`)).rejects.toThrow()
  const deadline = Date.now() + 2000
  while (remote.connected && Date.now() < deadline) await new Promise(r => setTimeout(r, 5))
  expect(remote.connected).toBe(false)
  await remote.close()
  await expect(remote.fetch(keys('a'))).rejects.toMatchObject({ code: 'closed' })
  await store.close()
})

const dir = mkdtempSync(join(tmpdir(), 'statecraft-static-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

test('static files are served over the same HTTP server, and nothing outside the directory', async () => {
  mkdirSync(join(dir, 'www', 'assets'), { recursive: true })
  writeFileSync(join(dir, 'www', 'index.html'), '<h1>app</h1>')
  writeFileSync(join(dir, 'www', 'assets', 'app.js'), 'console.log(1)')
  writeFileSync(join(dir, 'secret.txt'), 'secret')
  const store = memoryStore()
  const sc = await createServer({ store, path: '/sync', static: join(dir, 'www'), ...quiet })
  const base = `http://127.0.0.1:${sc.port}`
  const get = async (p: string, method = 'GET'): Promise<[number, string, string | null]> => {
    const r = await fetch(base + p, { method })
    return [r.status, await r.text(), r.headers.get('content-type')]
  }
  expect(await get('/')).toEqual([200, '<h1>app</h1>', 'text/html; charset=utf-8'])
  expect(await get('/assets/app.js')).toEqual([200, 'console.log(1)', 'text/javascript; charset=utf-8'])
  expect(await get('/todos/3')).toEqual([200, '<h1>app</h1>', 'text/html; charset=utf-8'])
  expect((await get('/missing.js'))[0]).toBe(404)
  expect((await get('/..%2Fsecret.txt'))[0]).toBe(403)
  expect(await get('/../secret.txt')).not.toContain('secret')
  expect((await get('/assets/app.js', 'HEAD'))[0]).toBe(200)
  expect((await get('/', 'POST'))[0]).toBe(405)
  const remote = await connect(sc.url)
  await remote.fetch(keys('a'))
  await remote.close()
  await sc.close()
  await store.close()
})
