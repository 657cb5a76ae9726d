// The client SDK in real Chromium (Debian's /usr/bin/chromium via playwright-core) with its
// IndexedDB cache: offline edits survive a page reload and reach the server (createServer on
// 127.0.0.1, port 0) after it. A second tab on the same cache runs on memory (the Web Lock).
import { existsSync } from 'node:fs'
import { createServer as createHttpServer, type Server } from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { build, type Rolldown } from 'vite'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { keys, memoryStore } from '@statecraft/core'
import { createServer, type StatecraftServer } from '@statecraft/server'
import type { BrowserApi } from './browser/entry.ts'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
const here = dirname(fileURLToPath(import.meta.url))
const hasChromium = existsSync(CHROMIUM)
if (!hasChromium) console.warn(`SKIPPED: the Chromium test of @statecraft/client needs ${CHROMIUM}`)

async function bundle(): Promise<Map<string, string>> {
  const out = await build({
    configFile: false,
    logLevel: 'warn',
    root: join(here, 'browser'),
    build: { write: false, target: 'es2022', minify: false, lib: { entry: join(here, 'browser', 'entry.ts'), formats: ['es'], fileName: 'entry' } },
  })
  const files = new Map<string, string>()
  files.set('/', '<!doctype html><meta charset="utf-8"><title>statecraft client</title><link rel="icon" href="data:,"><script type="module" src="/entry.js"></script>')
  for (const o of (Array.isArray(out) ? out : [out]) as Rolldown.RolldownOutput[]) {
    for (const f of o.output) files.set(`/${f.fileName}`, f.type === 'chunk' ? f.code : String(f.source))
  }
  return files
}

type Api = { statecraftClient: BrowserApi }

describe.skipIf(!hasChromium)('client in Chromium', () => {
  let http: Server | undefined
  let server: StatecraftServer | undefined
  let browser: Browser | undefined
  let context: BrowserContext | undefined
  let pageUrl = ''
  const store = memoryStore()
  const errors: string[] = []

  beforeAll(async () => {
    const files = await bundle()
    http = createHttpServer((req, res) => {
      const path = new URL(req.url ?? '/', 'http://x').pathname
      const body = files.get(path)
      if (body === undefined) res.writeHead(404).end()
      else res.writeHead(200, { 'content-type': `${path === '/' ? 'text/html' : 'text/javascript'}; charset=utf-8`, 'cache-control': 'no-store' }).end(body)
    })
    await new Promise<void>(r => http?.listen(0, '127.0.0.1', r))
    const addr = http.address()
    pageUrl = `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}/`
    server = await createServer({ store, host: '127.0.0.1', port: 0, log: () => {} })
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true })
    context = await browser.newContext()
  }, 60_000)

  afterAll(async () => {
    await context?.close()
    await browser?.close()
    await server?.close()
    await new Promise<void>(r => (http === undefined ? r() : http.close(() => r())))
  })

  async function openPage(): Promise<Page> {
    const page = await (context as BrowserContext).newPage()
    page.on('pageerror', e => errors.push(`page error: ${e.message}`))
    page.on('console', m => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`)
    })
    await page.goto(pageUrl, { waitUntil: 'load' })
    return page
  }

  test('offline edits survive a reload and reach the server after it', async () => {
    const url = (server as StatecraftServer).url
    const page = await openPage()
    expect(await page.evaluate(([u]) => (globalThis as unknown as Api).statecraftClient.open(u as string, 'reload-cache', true), [url])).toEqual({ cache: 'indexeddb:reload-cache' })
    const before = await page.evaluate(() => (globalThis as unknown as Api).statecraftClient.editOffline())
    expect(before.text).toBe('hello, from the browser')
    expect(before.doc).toEqual({ title: 'buy milk', done: true })
    expect(before.pending).toBeGreaterThan(0)

    await page.reload({ waitUntil: 'load' })
    await page.evaluate(([u]) => (globalThis as unknown as Api).statecraftClient.open(u as string, 'reload-cache', true), [url])
    const shown = await page.evaluate(() => (globalThis as unknown as Api).statecraftClient.shown())
    expect(shown).toMatchObject({ text: 'hello, from the browser', doc: { title: 'buy milk', done: true }, fromCache: true })
    expect(shown.pending).toBeGreaterThan(0)
    // Nothing reached the server yet: every write was made offline.
    expect((await store.fetch(keys('notes/readme', 'todos/1'))).results.size).toBe(0)

    const after = await page.evaluate(() => (globalThis as unknown as Api).statecraftClient.sync())
    expect(after).toEqual({ text: 'hello, from the browser', doc: { title: 'buy milk', done: true }, pending: 0 })
    const r = await store.fetch(keys('notes/readme', 'todos/1'))
    expect(r.results.get('notes/readme')).toBe('hello, from the browser')
    expect(r.results.get('todos/1')).toEqual({ title: 'buy milk', done: true })

    // A second tab on the same cache does not share the outbox: it runs on memory.
    const tab2 = await openPage()
    expect(await tab2.evaluate(([u]) => (globalThis as unknown as Api).statecraftClient.open(u as string, 'reload-cache', true), [url])).toEqual({ cache: 'memory' })
    await tab2.close()
    await page.close()
    expect(errors).toEqual([])
  }, 60_000)
})
