// The page bundled for the Chromium test (browser.test.ts): runs every conformance case of
// test-kit against idbStore on the browser's real IndexedDB, plus checks only a browser can make
// (Web Locks across tabs, data surviving a reload), and hands results back as JSON.
import { StatecraftError, keys, range } from '@statecraft/core'
import { storeTestCases, unmetNeeds, set, txnOf } from '@statecraft/test-kit'
import { idbOutbox, idbStore } from '@statecraft/idb'

export interface CaseResult {
  name: string
  status: 'passed' | 'failed' | 'skipped'
  error?: string
  ms: number
}

const describe = (e: unknown): string =>
  e instanceof Error ? `${e.name}: ${e.message}${e.stack !== undefined ? `\n${e.stack.split('\n').slice(1, 6).join('\n')}` : ''}` : String(e)

let n = 0
const fresh = (what: string): string => `${what}-${Date.now().toString(36)}-${++n}`

async function runConformance(): Promise<CaseResult[]> {
  const makeStore = () => idbStore(fresh('conformance'))
  const ctx = { makeStoreWithHistory: (historyLimit: number) => idbStore(fresh('conformance'), { historyLimit }) }
  const probe = await makeStore()
  const caps = probe.info.capabilities
  await probe.close()
  const out: CaseResult[] = []
  for (const c of storeTestCases) {
    const t0 = performance.now()
    const why = unmetNeeds(c, caps, ctx)
    if (why !== undefined) {
      out.push({ name: c.name, status: 'skipped', error: `needs ${why}`, ms: 0 })
      continue
    }
    try {
      await c.run(makeStore, ctx)
      out.push({ name: c.name, status: 'passed', ms: performance.now() - t0 })
    } catch (e) {
      out.push({ name: c.name, status: 'failed', error: describe(e), ms: performance.now() - t0 })
    }
  }
  return out
}

function check(cond: boolean, what: string): void {
  if (!cond) throw new Error(what)
}

/** Browser-only checks, each a named case like the conformance ones. */
const browserCases: { name: string; run(): Promise<void> }[] = [
  {
    name: 'browser: Web Locks are used, and a second opener in this page gets conflict',
    async run() {
      check(typeof navigator.locks?.request === 'function', 'navigator.locks is missing')
      const name = fresh('lock')
      const a = await idbStore(name)
      const held = await navigator.locks.query()
      check((held.held ?? []).some(l => l.name === `statecraft-idb:${name}`), 'the store holds no Web Lock named after its database')
      let code: string | undefined
      try {
        await idbStore(name)
      } catch (e) {
        code = e instanceof StatecraftError ? e.code : String(e)
      }
      check(code === 'conflict', `a second opener should fail with conflict, got ${String(code)}`)
      const waiting = idbStore(name, { onLocked: 'wait' })
      await a.mutate(txnOf({ k: set(1) }))
      await a.close()
      const b = await waiting
      check((await b.fetch(keys('k'))).results.get('k') === 1, 'the waiting opener does not see the first one\'s write')
      await b.close()
    },
  },
]

async function runBrowserCases(): Promise<CaseResult[]> {
  const out: CaseResult[] = []
  for (const c of browserCases) {
    const t0 = performance.now()
    try {
      await c.run()
      out.push({ name: c.name, status: 'passed', ms: performance.now() - t0 })
    } catch (e) {
      out.push({ name: c.name, status: 'failed', error: describe(e), ms: performance.now() - t0 })
    }
  }
  return out
}

/** Before a reload: a store with docs and history, and an outbox with entries. */
async function writeBeforeReload(name: string): Promise<void> {
  const s = await idbStore(name, { uid: 'reload-src' })
  await s.mutate(txnOf({ a: set({ x: 1 }), b: set(Uint8Array.of(1, 2, 3)) }), { clientId: 'c', seq: 1 })
  await s.mutate(txnOf({ a: { type: 'json1', op: ['x', { r: true, i: 2 }] } }))
  await s.close()
  const box = await idbOutbox<{ n: number }>(name)
  await box.push({ n: 1 })
  await box.push({ n: 2 })
  // Left open on purpose: a reload must not lose durably pushed entries.
}

/** After the reload: everything is back. Returns what it found, for the Node side to compare. */
async function readAfterReload(name: string): Promise<unknown> {
  const s = await idbStore(name)
  const r = await s.fetch(range())
  const ops = await s.getOps(range(), { 'reload-src': 0 })
  const again = await s.mutate(txnOf({ a: set('dup') }), { clientId: 'c', seq: 1 })
  await s.close()
  const box = await idbOutbox<{ n: number }>(name)
  const entries = await box.list()
  box.close()
  return {
    uid: s.info.uid,
    versions: r.versions,
    a: r.results.get('a'),
    b: Array.from(r.results.get('b') as Uint8Array),
    opVersions: ops.map(o => o.versions),
    resent: again,
    outbox: entries.map(e => e.value.n),
  }
}

/** Opens a store and keeps it open (another tab then tries the same database). */
async function holdStore(name: string): Promise<void> {
  await idbStore(name)
}

/** Tries to open a store: 'opened' or the error code. */
async function tryOpen(name: string): Promise<string> {
  try {
    const s = await idbStore(name)
    await s.close()
    return 'opened'
  } catch (e) {
    return e instanceof StatecraftError ? e.code : describe(e)
  }
}

const api = {
  async runAll(): Promise<CaseResult[]> {
    return [...(await runConformance()), ...(await runBrowserCases())]
  },
  writeBeforeReload,
  readAfterReload,
  holdStore,
  tryOpen,
}

export type BrowserApi = typeof api
;(globalThis as { statecraftIdb?: BrowserApi }).statecraftIdb = api
