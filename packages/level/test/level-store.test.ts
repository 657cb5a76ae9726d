// What the LevelDB store promises beyond the shared conformance suite: durability across restarts,
// refusing directories it must not touch, a bounded op log, cheap large-doc edits, group commit,
// close(), tombstone purging and key order on disk.
import { createHash } from 'node:crypto'
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, expect, test } from 'vitest'
import { ClassicLevel } from 'classic-level'
import { StatecraftError, applyUpdate, keys, prefix, range } from '@statecraft/core'
import type { Key, Op, Store, Txn, TxnRecord, Value, Versions } from '@statecraft/core'
import { FORMAT_VERSION, levelStore, openLevelStore, type LevelStore, type LevelStoreOptions } from '@statecraft/level'

const root = mkdtempSync(join(tmpdir(), 'statecraft-level-test-'))
afterAll(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const freshDir = (): string => join(root, `t${++n}`)

const set = (value: Value): Op => ({ type: 'set', value })
const txn = (ops: Record<Key, Op>): Txn => new Map(Object.entries(ops))
const v = (s: Store, vs: Versions): number => vs[s.info.uid] as number

async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  const e = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(e, `expected a ${code} error`).toBeInstanceOf(StatecraftError)
  expect((e as StatecraftError).code).toBe(code)
}

/** Every file under `dir` with its size, mtime and content hash. */
function fingerprint(dir: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const p = join(dir, name)
    const st = statSync(p)
    out[name] = st.isDirectory() ? 'dir' : `${st.size} ${st.mtimeMs} ${createHash('sha1').update(readFileSync(p)).digest('hex')}`
  }
  return out
}

const waitFor = async (cond: () => boolean, ms = 5000): Promise<void> => {
  const until = Date.now() + ms
  while (!cond()) {
    if (Date.now() > until) throw new Error('timed out waiting')
    await new Promise(r => setTimeout(r, 10))
  }
}

test('versions, values, history and client seqs survive a restart; versions go on', async () => {
  const dir = freshDir()
  const a = await openLevelStore(dir, { uid: 'src' })
  await a.mutate(txn({ j: set({ x: [1, 2] }), bin: set(new Uint8Array([0, 1, 255])) }), { meta: { who: 'me' } })
  await a.mutate(txn({ t: { type: 'text', op: ['hello'] } }), { clientId: 'c1', seq: 1 })
  const v3 = await a.mutate(txn({ j: { type: 'json1', op: ['x', 0, { r: true }] } }), { clientId: 'c1', seq: 2 })
  await a.mutate(txn({ t: { type: 'text', op: [5, ' world'] }, gone: { type: 'del' } }))
  const opsBefore = await a.getOps(range(), { src: 0 })
  await a.close()

  const b = await openLevelStore(dir)
  expect(b.info.uid).toBe('src')
  const now = await b.fetch(range())
  expect(now.versions).toEqual({ src: 4 })
  expect(Object.fromEntries(now.results)).toEqual({ j: { x: [2] }, bin: new Uint8Array([0, 1, 255]), t: 'hello world' })
  expect(await b.getOps(range(), { src: 0 })).toEqual(opsBefore)
  expect((await b.fetch(keys('j', 't'), { atVersion: { src: 2 } })).results).toEqual(new Map<Key, Value>([['j', { x: [1, 2] }], ['t', 'hello']]))
  // The seq was remembered: the re-sent write returns its version and is not applied again.
  expect(await b.mutate(txn({ j: set('again') }), { clientId: 'c1', seq: 2 })).toEqual(v3)
  expect((await b.fetch(keys('j'))).results.get('j')).toEqual({ x: [2] })
  expect(await b.mutate(txn({ k: set(1) }))).toEqual({ src: 5 })
  await b.close()
})

test('a directory that is not a Statecraft store is refused and left unchanged', async () => {
  const plain = freshDir()
  mkdirSync(plain)
  writeFileSync(join(plain, 'notes.txt'), 'mine')
  const before = fingerprint(plain)
  expect(() => levelStore(plain)).toThrow(StatecraftError)
  await expectCode(openLevelStore(plain), 'invalid')
  expect(fingerprint(plain)).toEqual(before)

  // Another program's LevelDB: not ours either, and not even opened.
  const foreign = freshDir()
  const db = new ClassicLevel(foreign)
  await db.put('k', 'v')
  await db.close()
  const fp = fingerprint(foreign)
  expect(() => levelStore(foreign)).toThrow(/not a Statecraft store/)
  expect(fingerprint(foreign)).toEqual(fp)

  const file = join(freshDir() + '.file')
  writeFileSync(file, 'x')
  expect(() => levelStore(file)).toThrow(/not a directory/)
})

test('a store written by a newer format is refused with a clear error and left unchanged', async () => {
  const dir = freshDir()
  const s = await openLevelStore(dir)
  await s.mutate(txn({ a: set(1) }))
  await s.close()
  const marker = JSON.parse(readFileSync(join(dir, 'statecraft.json'), 'utf8')) as { format: number }
  expect(marker.format).toBe(FORMAT_VERSION)
  writeFileSync(join(dir, 'statecraft.json'), JSON.stringify({ ...marker, format: FORMAT_VERSION + 1 }))
  const before = fingerprint(dir)
  let err: unknown
  try {
    levelStore(dir)
  } catch (e) {
    err = e
  }
  expect(err).toBeInstanceOf(StatecraftError)
  expect((err as StatecraftError).code).toBe('unsupported')
  expect((err as StatecraftError).message).toMatch(/newer Statecraft/)
  expect(fingerprint(dir)).toEqual(before)
})

test('an empty directory becomes a new store; a second store on an open directory is refused', async () => {
  const dir = freshDir()
  mkdirSync(dir)
  const s = await openLevelStore(dir)
  expect(readdirSync(dir)).toContain('statecraft.json')
  expect(await s.mutate(txn({ a: set(1) }))).toEqual({ [s.info.uid]: 1 })
  await expectCode(openLevelStore(dir), 'invalid')
  await s.close()
  expect(() => levelStore(dir, { uid: 'another' })).toThrow(/has uid/)
})

test('the op log keeps the last historyLimit txns; older records are deleted from disk in the background', async () => {
  const dir = freshDir()
  const o: LevelStoreOptions = { uid: 's', historyLimit: 10, compactInterval: 20 }
  const s = levelStore(dir, o)
  for (let i = 1; i <= 50; i++) await s.mutate(txn({ [`k${i % 7}`]: set(i) }))
  await expectCode(s.getOps(range(), { s: 39 }), 'version-too-old')
  await expectCode(s.fetch(keys('k1'), { atVersion: { s: 39 } }), 'version-too-old')
  expect((await s.getOps(range(), { s: 40 })).length).toBe(10)
  expect((await s.fetch(keys('k1'), { atVersion: { s: 40 } })).results.get('k1')).toBe(36)
  await waitFor(() => s.stats().compactionBacklog === 0)
  await s.close()
  // Reopened with a larger window, the deleted records stay gone.
  const again = await openLevelStore(dir, { historyLimit: 1000 })
  await expectCode(again.getOps(range(), { s: 39 }), 'version-too-old')
  expect((await again.getOps(range(), { s: 40 })).length).toBe(10)
  await again.close()
})

test('the op log can also be bounded by age', async () => {
  const s = await openLevelStore(freshDir(), { uid: 's', historyMaxAge: 100, compactInterval: 20 })
  for (let i = 1; i <= 5; i++) await s.mutate(txn({ a: set(i) }))
  await new Promise(r => setTimeout(r, 200))
  await s.mutate(txn({ a: set(6) }))
  await waitFor(() => s.stats().historyStart >= 5)
  await expectCode(s.getOps(range(), { s: 0 }), 'version-too-old')
  await expectCode(s.fetch(keys('a'), { atVersion: { s: 3 } }), 'version-too-old')
  expect((await s.getOps(range(), { s: 5 })).map(r => r.versions)).toEqual([{ s: 6 }])
  await s.close()
})

test('small edits to a large doc are stored as ops after a snapshot and read back right, cold and after restart', async () => {
  const dir = freshDir()
  const s = await openLevelStore(dir, { uid: 's' })
  let expected = 'x'.repeat(100_000)
  await s.mutate(txn({ doc: set(expected) }))
  for (let i = 0; i < 30; i++) {
    const pos = 1 + ((i * 3331) % (expected.length - 1))
    await s.mutate(txn({ doc: { type: 'text', op: [pos, `<${i}>`] } }))
    expected = expected.slice(0, pos) + `<${i}>` + expected.slice(pos)
  }
  expect(s.stats().docsWithOps).toBe(1)
  await s.close()
  const cold = await openLevelStore(dir, { cacheSize: 0 })
  expect((await cold.fetch(keys('doc'))).results.get('doc') === expected).toBe(true)
  expect(cold.stats().docsWithOps).toBe(1)
  // A stale edit is still transformed over the ops since its base.
  await cold.mutate(txn({ doc: { type: 'text', op: ['!'] } }), { baseVersions: { s: 1 } })
  expect((await cold.fetch(keys('doc'))).results.get('doc') === '!' + expected).toBe(true)
  await cold.close()
})

test('concurrent writes share batches, and each resolves once its batch is durable', async () => {
  const s = await openLevelStore(freshDir(), { uid: 's' })
  const vs = await Promise.all(Array.from({ length: 64 }, (_, i) => s.mutate(txn({ [`k${i}`]: set(i) }))))
  expect(vs.map(x => v(s, x)).sort((a, b) => a - b)).toEqual(Array.from({ length: 64 }, (_, i) => i + 1))
  expect(s.stats().batches).toBeLessThan(16)
  await s.close()
})

test('close() waits for writes in flight and ends subscriptions; every call after it rejects with closed', async () => {
  const dir = freshDir()
  const s = levelStore(dir, { uid: 's' })
  const sub = s.subscribe(range())
  const it = sub[Symbol.asyncIterator]()
  await it.next()
  const writes = Array.from({ length: 20 }, (_, i) => s.mutate(txn({ [`k${i}`]: set(i) })))
  await s.close()
  expect((await Promise.all(writes)).length).toBe(20)
  // The subscriber saw every txn, then the end.
  let seen = 0
  for (let r = await it.next(); r.done !== true; r = await it.next()) seen += r.value.txns.length
  expect(seen).toBe(20)
  await expectCode(s.mutate(txn({ a: set(1) })), 'closed')
  await expectCode(s.fetch(keys('a')), 'closed')
  await expectCode(s.getOps(range(), { s: 0 }), 'closed')
  await expectCode(s.subscribe(range())[Symbol.asyncIterator]().next(), 'closed')
  const again = await openLevelStore(dir)
  expect((await again.fetch(range())).results.size).toBe(20)
  await again.close()
})

test('tombstones older than the history window are purged, and old writes to those keys still conflict', async () => {
  const s = await openLevelStore(freshDir(), { uid: 's', historyLimit: 2, compactInterval: 20 })
  await s.mutate(txn({ a: set(1) }))
  await s.mutate(txn({ a: { type: 'del' } }))
  expect(s.stats().tombstones).toBe(1)
  for (let i = 0; i < 5; i++) await s.mutate(txn({ other: set(i) }))
  await waitFor(() => s.stats().tombstones === 0)
  // Based on version 1, before the delete at 2: a conflict, though the tombstone is gone.
  await expectCode(s.mutate(txn({ a: set('late') }), { baseVersions: { s: 1 } }), 'conflict')
  expect(v(s, await s.mutate(txn({ a: set('now') }), { baseVersions: { s: 7 } }))).toBe(8)
  await s.close()
})

test('keys keep UTF-16 order on disk: range reads after a restart, with no cache', async () => {
  const dir = freshDir()
  const ks = ['a', 'a\u0000', 'a\u0001', 'a\u0001b', 'ab', '\u007f', '\u0080', '\u07ff', '\u0800', '\uD7FF', '\uD83D\uDE00', '\uD83D', '\uDE00x', '\uE000', '\uFFFF', '']
  const s = await openLevelStore(dir)
  await s.mutate(new Map(ks.map(k => [k, set(k)])))
  await s.close()
  const cold = await openLevelStore(dir, { cacheSize: 0 })
  const sorted = [...ks].sort()
  const all = await cold.fetch(range())
  expect([...all.results.keys()]).toEqual(sorted)
  expect([...all.results.values()]).toEqual(sorted)
  expect([...(await cold.fetch(prefix('a'))).results.keys()]).toEqual(sorted.filter(k => k.startsWith('a')))
  expect([...(await cold.fetch(range({ from: '\uD800', to: '\uE001' }))).results.keys()]).toEqual(['\uD83D', '\uD83D\uDE00', '\uDE00x', '\uE000'])
  await cold.close()
})

test('a live limited window pulls entering docs from disk when they are not in memory', async () => {
  const dir = freshDir()
  const s: LevelStore = await openLevelStore(dir, { cacheSize: 0 })
  await s.mutate(new Map(['a', 'b', 'c', 'd', 'e'].map(k => [k, set({ k })])))
  await s.close()
  const cold = await openLevelStore(dir, { cacheSize: 0 })
  const sub = cold.subscribe(prefix('', { limit: 2 }))
  const it = sub[Symbol.asyncIterator]()
  const view = new Map<Key, Value>()
  applyUpdate(view, (await it.next()).value)
  expect([...view.keys()]).toEqual(['a', 'b'])
  await cold.mutate(txn({ a: { type: 'del' }, b: { type: 'del' } }))
  applyUpdate(view, (await it.next()).value)
  expect(Object.fromEntries(view)).toEqual({ c: { k: 'c' }, d: { k: 'd' } })
  sub.close()
  await cold.close()
})

test('after a restart, subscriptions resume from the op log on disk and forgotten seqs stay forgotten', async () => {
  const dir = freshDir()
  const a = await openLevelStore(dir, { uid: 's', seqsPerClient: 2 })
  for (let seq = 1; seq <= 4; seq++) await a.mutate(txn({ [`k${seq}`]: set(seq) }), { clientId: 'c', seq })
  await a.close()
  const b = await openLevelStore(dir, { seqsPerClient: 2 })
  // Seqs 1 and 2 were forgotten (only 2 kept): a re-send of them cannot be told from a new write.
  await expectCode(b.mutate(txn({ x: set(1) }), { clientId: 'c', seq: 2 }), 'version-too-old')
  expect(await b.mutate(txn({ x: set(1) }), { clientId: 'c', seq: 4 })).toEqual({ s: 4 })
  const sub = b.subscribe(range(), { fromVersion: { s: 1 } })
  const it = sub[Symbol.asyncIterator]()
  const first = (await it.next()).value
  expect(first.txns.map((r: TxnRecord) => r.versions)).toEqual([{ s: 2 }, { s: 3 }, { s: 4 }])
  await b.mutate(txn({ k5: set(5) }))
  expect((await it.next()).value.txns.map((r: TxnRecord) => [...r.txn.keys()])).toEqual([['k5']])
  sub.close()
  await b.close()
})

test('a subscription still starting when the store closes ends too', async () => {
  const dir = freshDir()
  const a = await openLevelStore(dir)
  await a.mutate(new Map(Array.from({ length: 200 }, (_, i) => [`k${i}`, set(i)])))
  await a.close()
  const b = await openLevelStore(dir, { cacheSize: 0 })
  const sub = b.subscribe(range())
  const closing = b.close()
  const it = sub[Symbol.asyncIterator]()
  let r = await it.next()
  while (r.done !== true) r = await it.next()
  await closing
})

test('a failed LevelDB write rejects its txns and stops the store; nothing unacknowledged appears on reopen', async () => {
  const dir = freshDir()
  const s = await openLevelStore(dir, { uid: 's' })
  await s.mutate(txn({ a: set(1) }))
  // Fault injection: the next batch fails as a full disk would (classic-level's own write, under
  // abstract-level's public batch, which the store bypasses).
  const db = (s as unknown as { db: { _batch: (...a: unknown[]) => Promise<void> } }).db
  db._batch = () => Promise.reject(new Error('No space left on device'))
  const results = await Promise.allSettled([s.mutate(txn({ a: set(2) })), s.mutate(txn({ b: set(2) }))])
  for (const r of results) {
    expect(r.status).toBe('rejected')
    expect(((r as PromiseRejectedResult).reason as StatecraftError).code).toBe('internal')
  }
  await expectCode(s.mutate(txn({ c: set(3) })), 'internal')
  await expectCode(s.fetch(keys('a')), 'internal')
  await s.close()
  const again = await openLevelStore(dir)
  expect(Object.fromEntries((await again.fetch(range())).results)).toEqual({ a: 1 })
  expect(await again.mutate(txn({ b: set(3) }))).toEqual({ s: 2 })
  await again.close()
})

// Regression: reading the past applied every undo op of the later txns, also those of keys not
// asked for, to values never read; a text edit of another key then threw, and every subscription
// resumed from before it failed (two notes edited at once in the demo).
test('fetch({ atVersion }) of some keys ignores later edits of other keys', async () => {
  const s = await openLevelStore(freshDir())
  const v1 = await s.mutate(txn({ a: { type: 'text', op: ['note a'] }, b: { type: 'text', op: ['note b'] } }))
  await s.mutate(txn({ b: { type: 'text', op: [4, ' edited'] } }))
  await s.mutate(txn({ a: { type: 'text', op: [6, '!'] }, b: { type: 'text', op: ['more '] } }))
  expect((await s.fetch(keys('a'), { atVersion: v1 })).results).toEqual(new Map([['a', 'note a']]))
  expect((await s.fetch(prefix('a'), { atVersion: v1 })).results).toEqual(new Map([['a', 'note a']]))
  expect((await s.fetch(keys('b'), { atVersion: v1 })).results).toEqual(new Map([['b', 'note b']]))
  await s.close()
})

test('text docs are held as ropes: many small edits, strings for every reader, the past, a restart, memoryStats', async () => {
  const dir = freshDir()
  const s = await openLevelStore(dir, { uid: 's', historyLimit: 500 })
  const window = s.subscribe(prefix('', { limit: 2 }))
  const it = window[Symbol.asyncIterator]()
  await it.next()
  let expected = ''
  const versions: Array<[number, string]> = []
  const pending: Promise<Versions>[] = []
  let seed = 1
  const rnd = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2147483648), seed % n)
  for (let i = 0; i < 3000; i++) {
    const len = expected.length
    let op: unknown[]
    if (len > 0 && rnd(4) === 0) {
      const pos = rnd(len)
      op = pos === 0 ? [{ d: 1 }] : [pos, { d: 1 }]
      expected = expected.slice(0, pos) + expected.slice(pos + 1)
    } else {
      const pos = len === 0 ? 0 : Math.max(0, len - rnd(50))
      const ins = rnd(10) === 0 ? 'é中 ' : String.fromCharCode(97 + rnd(26))
      op = pos === 0 ? [ins] : [pos, ins]
      expected = expected.slice(0, pos) + ins + expected.slice(pos)
    }
    pending.push(s.mutate(txn({ doc: { type: 'text', op } as Op })))
    if (i % 500 === 499) {
      const vs = await Promise.all(pending.splice(0))
      versions.push([v(s, vs[vs.length - 1] as Versions), expected])
    }
  }
  const got = (await s.fetch(keys('doc'))).results.get('doc')
  expect(typeof got).toBe('string')
  expect(got === expected).toBe(true)
  // The window's reader got the doc as a string when it entered.
  const entered = (await it.next()).value
  expect(typeof entered?.enter?.get('doc')).toBe('string')
  // Reading the past undoes ropes' ops.
  const [pastV, pastText] = versions[versions.length - 2] as [number, string]
  expect((await s.fetch(keys('doc'), { atVersion: { s: pastV } })).results.get('doc') === pastText).toBe(true)
  const m = s.memoryStats()
  expect(m.docs).toBe(1)
  expect(m.textBytes).toBeGreaterThan(expected.length)
  expect(m.textBytes).toBeLessThan(3 * expected.length + 2000)
  expect(m.opLogBytes).toBeGreaterThan(0)
  expect(m.heapEstimate).toBeGreaterThanOrEqual(m.textBytes + m.opLogBytes)
  window.close()
  await s.close()
  const again = await openLevelStore(dir, { cacheSize: 0 })
  expect((await again.fetch(keys('doc'))).results.get('doc') === expected).toBe(true)
  await again.mutate(txn({ doc: { type: 'text', op: ['>'] } }))
  expect((await again.fetch(keys('doc'))).results.get('doc') === '>' + expected).toBe(true)
  await again.close()
})

test('a text op that does not fit the doc (past the end, other deleted text) is invalid and changes nothing', async () => {
  const s = await openLevelStore(freshDir(), { uid: 's' })
  await s.mutate(txn({ doc: { type: 'text', op: ['hello'] } }))
  await expectCode(s.mutate(txn({ doc: { type: 'text', op: [3, { d: 5 }] } })), 'invalid')
  await expectCode(s.mutate(txn({ doc: { type: 'text', op: [{ d: 'jello' }] } })), 'invalid')
  await expectCode(s.mutate(txn({ other: set(1), doc: { type: 'text', op: [6, 'x'] } })), 'invalid')
  expect((await s.fetch(keys('doc', 'other'))).results).toEqual(new Map([['doc', 'hello']]))
  await s.close()
})
