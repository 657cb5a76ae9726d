// The IndexedDB store in real Chromium: bundles test/browser/entry.ts with vite, serves it from
// 127.0.0.1, and runs it in Debian's Chromium through playwright-core. Every conformance case of
// test-kit becomes one test here, failing with the error the browser reported; then the checks only
// a browser can make: a second tab is refused by the Web Lock, and data survives a reload.
import { existsSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { build, type Rolldown } from 'vite'
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core'
import { storeTestCases } from '@statecraft/test-kit'
import type { BrowserApi, CaseResult } from './browser/entry.ts'

const CHROMIUM = '/usr/bin/chromium'
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
]
const here = dirname(fileURLToPath(import.meta.url))
const hasChromium = existsSync(CHROMIUM)
if (!hasChromium) {
  console.warn(`SKIPPED: the Chromium tests of @statecraft/idb need ${CHROMIUM} (apt-get install -y chromium)`)
}

/** Bundles the browser entry; returns the files to serve by path. */
async function bundle(): Promise<Map<string, { type: string; body: string }>> {
  const out = await build({
    configFile: false,
    logLevel: 'warn',
    root: join(here, 'browser'),
    build: {
      write: false,
      target: 'es2022',
      minify: false,
      lib: { entry: join(here, 'browser', 'entry.ts'), formats: ['es'], fileName: 'entry' },
    },
  })
  const files = new Map<string, { type: string; body: string }>()
  files.set('/', {
    type: 'text/html',
    body: '<!doctype html><meta charset="utf-8"><title>statecraft idb</title><link rel="icon" href="data:,"><script type="module" src="/entry.js"></script>',
  })
  for (const o of (Array.isArray(out) ? out : [out]) as Rolldown.RolldownOutput[]) {
    for (const f of o.output) {
      files.set(`/${f.fileName}`, { type: 'text/javascript', body: f.type === 'chunk' ? f.code : String(f.source) })
    }
  }
  return files
}

function serve(files: Map<string, { type: string; body: string }>): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    const f = files.get(new URL(req.url ?? '/', 'http://x').pathname)
    if (f === undefined) {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': `${f.type}; charset=utf-8`, 'cache-control': 'no-store' }).end(f.body)
  })
  return new Promise(resolve => {
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address()
      resolve({ server, url: `http://127.0.0.1:${typeof addr === 'object' && addr !== null ? addr.port : 0}/` })
    })
  })
}

/** Opens the page and waits for the entry to have installed its API. */
async function openPage(context: BrowserContext, url: string, errors: string[]): Promise<Page> {
  const page = await context.newPage()
  page.on('pageerror', e => errors.push(`page error: ${e.message}`))
  page.on('console', m => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`)
  })
  // Module scripts run before the load event, so the API is there once goto returns.
  await page.goto(url, { waitUntil: 'load' })
  await ready(page)
  return page
}

type Api = { statecraftIdb: BrowserApi }

async function ready(page: Page): Promise<void> {
  const ok = await page.evaluate(() => (globalThis as { statecraftIdb?: unknown }).statecraftIdb !== undefined)
  if (!ok) throw new Error('the test page did not install its API (see the page errors)')
}

describe.skipIf(!hasChromium)('idb store in Chromium', () => {
  let server: Server | undefined
  let browser: Browser | undefined
  let context: BrowserContext | undefined
  let url = ''
  const errors: string[] = []
  const results = new Map<string, CaseResult>()
  let runError: string | undefined

  beforeAll(async () => {
    const files = await bundle()
    ;({ server, url } = await serve(files))
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true })
    context = await browser.newContext()
    try {
      const page = await openPage(context, url, errors)
      const all = await page.evaluate(() => (globalThis as unknown as Api).statecraftIdb.runAll())
      for (const r of all) results.set(r.name, r)
      const count = (st: CaseResult['status']): number => all.filter(r => r.status === st).length
      const ms = all.reduce((t, r) => t + r.ms, 0)
      console.log(`Chromium: ${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped in ${Math.round(ms)} ms`)
      await page.close()
    } catch (e) {
      // Reported by every case below, with the page's own errors.
      runError = e instanceof Error ? `${e.name}: ${e.message}` : JSON.stringify(e)
    }
  }, 60_000)

  afterAll(async () => {
    await context?.close()
    await browser?.close()
    await new Promise<void>(r => (server === undefined ? r() : server.close(() => r())))
  })

  const resultOf = (name: string): CaseResult => {
    if (runError !== undefined) {
      throw new Error(`the browser run failed: ${runError}${errors.length > 0 ? `\n${errors.join('\n')}` : ''}`)
    }
    const r = results.get(name)
    if (r === undefined) throw new Error(`the browser reported nothing for ${JSON.stringify(name)}`)
    return r
  }

  for (const c of storeTestCases) {
    test(`conformance: ${c.name}`, () => {
      const r = resultOf(c.name)
      if (r.status === 'failed') throw new Error(`failed in Chromium: ${r.error ?? ''}`)
      expect(r.status).toBe('passed')
    })
  }

  test('browser: Web Locks are used, and a second opener in this page gets conflict', () => {
    const r = resultOf('browser: Web Locks are used, and a second opener in this page gets conflict')
    if (r.status === 'failed') throw new Error(`failed in Chromium: ${r.error ?? ''}`)
  })

  test('browser: a second tab opening the same store gets conflict until the first closes', async () => {
    if (context === undefined) throw new Error('no browser')
    const name = `tabs-${Date.now()}`
    const tab1 = await openPage(context, url, errors)
    const tab2 = await openPage(context, url, errors)
    await tab1.evaluate(n => (globalThis as unknown as Api).statecraftIdb.holdStore(n), name)
    expect(await tab2.evaluate(n => (globalThis as unknown as Api).statecraftIdb.tryOpen(n), name)).toBe('conflict')
    // Closing the tab releases its lock.
    await tab1.close()
    await expect.poll(() => tab2.evaluate(n => (globalThis as unknown as Api).statecraftIdb.tryOpen(n), name), { timeout: 5000 }).toBe('opened')
    await tab2.close()
  })

  test('browser: docs, history, seqs and the outbox survive a reload', async () => {
    if (context === undefined) throw new Error('no browser')
    const name = `reload-${Date.now()}`
    const page = await openPage(context, url, errors)
    await page.evaluate(n => (globalThis as unknown as Api).statecraftIdb.writeBeforeReload(n), name)
    await page.reload({ waitUntil: 'load' })
    await ready(page)
    const after = await page.evaluate(n => (globalThis as unknown as Api).statecraftIdb.readAfterReload(n), name)
    expect(after).toEqual({
      uid: 'reload-src',
      versions: { 'reload-src': 2 },
      a: { x: 2 },
      b: [1, 2, 3],
      opVersions: [{ 'reload-src': 1 }, { 'reload-src': 2 }],
      resent: { 'reload-src': 1 },
      outbox: [1, 2],
    })
    await page.close()
  })

  test('browser: the page logged no errors', () => {
    expect(errors).toEqual([])
  })
})
