// The rules at the security boundary: the real server on 127.0.0.1 with the demo rules and its
// authenticate, and a client for each kind of credential (none, the wrong user, the right user, an
// expired token, a tampered token, a token, a narrower token, a narrower token "widened" again)
// doing each kind of call. Allowed calls work; denied ones fail with the right code; and every
// frame the client receives is searched for the markers of data it may not read.
import { afterEach, beforeEach, expect, test } from 'vitest'
import { keys, memoryStore, prefix, range, type Key, type Query, type Store, type Value, type Versions } from '@statecraft/core'
import { connect, defaultWebSocket, type RemoteStore, type WebSocketConstructor } from '@statecraft/client'
import { createServer, type StatecraftServer } from '@statecraft/server'
import { View, expectCode, maybeUpdate, set, txnOf } from '@statecraft/test-kit'
import { issueToken, narrowToken } from '@statecraft/rules'
import { authenticate, rules } from '../examples/demo-rules.ts'

const secret = 'matrix test secret: 32 bytes long!'
const quiet = (): void => {}
const hour = (): number => Date.now() + 3_600_000

/** Every marker in the data: a connection must never receive one it may not read. */
const MARKERS = ['ALICE', 'BOB', 'NOTES', 'OTHER', 'MIXED'] as const
type Marker = (typeof MARKERS)[number]

const todo = (title: string): Value => ({ title, done: false })

/** The seed, one txn each: [ops, meta]. */
const SEED: [Record<Key, Value>, Record<string, unknown> | undefined][] = [
  [{ 'todos/alice/k1': todo('ALICE-v1') }, { by: 'ALICE' }],
  [{ 'todos/alice/ALICE-k2': todo('ALICE-v2') }, undefined],
  [{ 'todos/bob/k1': todo('BOB-v1') }, { by: 'BOB' }],
  [{ 'todos/bob/BOB-k2': todo('BOB-v2') }, undefined],
  [{ 'notes/NOTES-k1': 'NOTES-v1' }, undefined],
  [{ 'zz/OTHER-k1': 'OTHER-v1', 'zz/k0': 'OTHER-v0' }, undefined],
  [{ 'todos/alice/k1': todo('ALICE-v3'), 'todos/bob/k1': todo('BOB-v3') }, { note: 'MIXED-meta' }],
]

interface May {
  aliceRead: boolean
  aliceWrite: boolean
  bobRead: boolean
  bobWrite: boolean
  notesRead: boolean
  notesWrite: boolean
}

interface Cred {
  token: () => Promise<string | undefined>
  /** undefined: the connection is refused with `unauthorized`. */
  may: May | undefined
}

const none: May = { aliceRead: false, aliceWrite: false, bobRead: false, bobWrite: false, notesRead: false, notesWrite: false }
const rootToken = (): Promise<string> => issueToken({ read: ['todos/alice/**', 'notes/**'], write: ['todos/alice/**'], exp: hour() }, secret)
const narrower = async (): Promise<string> => narrowToken(await rootToken(), { read: ['todos/alice/**'], write: [] })

const CREDS: Record<string, Cred> = {
  'no auth': { token: async () => undefined, may: none },
  'wrong user': { token: async () => 'bob', may: { ...none, bobRead: true, bobWrite: true, notesRead: true, notesWrite: true } },
  'right user': { token: async () => 'alice', may: { ...none, aliceRead: true, aliceWrite: true, notesRead: true, notesWrite: true } },
  'expired token': { token: () => issueToken({ read: ['**'], write: ['**'], exp: Date.now() - 1 }, secret), may: undefined },
  'tampered token': {
    token: async () => {
      const t = await rootToken()
      const i = Math.floor(t.length / 3)
      return t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1)
    },
    may: undefined,
  },
  token: { token: rootToken, may: { ...none, aliceRead: true, aliceWrite: true, notesRead: true } },
  'narrower token': { token: narrower, may: { ...none, aliceRead: true } },
  'narrower token, widened again': { token: async () => narrowToken(await narrower(), { read: ['**'], write: ['**'] }), may: { ...none, aliceRead: true } },
}

const readable = (may: May, k: Key): boolean =>
  k.startsWith('todos/alice/') ? may.aliceRead : k.startsWith('todos/bob/') ? may.bobRead : k.startsWith('notes/') ? may.notesRead : false
const writable = (may: May, k: Key): boolean =>
  k.startsWith('todos/alice/') ? may.aliceWrite : k.startsWith('todos/bob/') ? may.bobWrite : k.startsWith('notes/') ? may.notesWrite : false

/** The markers whose data `may` does not cover (MIXED: the meta of a txn no one reads whole). */
function hiddenMarkers(may: May): Marker[] {
  const out: Marker[] = ['OTHER', 'MIXED']
  if (!may.aliceRead) out.push('ALICE')
  if (!may.bobRead) out.push('BOB')
  if (!may.notesRead) out.push('NOTES')
  return out
}

let store: Store
let server: StatecraftServer

beforeEach(async () => {
  store = memoryStore({ uid: 's' })
  for (const [ops, meta] of SEED) await store.mutate(txnOf(Object.fromEntries(Object.entries(ops).map(([k, v]) => [k, set(v)]))), meta === undefined ? {} : { meta })
  server = await createServer({ store, rules, authenticate: authenticate(secret), log: quiet })
})

afterEach(async () => {
  await server.close()
  await store.close()
})

/** A WebSocket class that keeps a copy of every frame the client receives. */
function recording(frames: Uint8Array[]): WebSocketConstructor {
  const Base = defaultWebSocket()
  const enc = new TextEncoder()
  return function Recording(url: string) {
    const ws = new Base(url)
    ;(ws as unknown as { addEventListener(t: 'message', f: (ev: { data: unknown }) => void): void }).addEventListener('message', ev => {
      const d = ev.data
      frames.push(typeof d === 'string' ? enc.encode(d) : d instanceof ArrayBuffer ? new Uint8Array(d.slice(0)) : new Uint8Array(d as Uint8Array))
    })
    return ws
  } as unknown as WebSocketConstructor
}

const contains = (frame: Uint8Array, marker: string): boolean => Buffer.from(frame).includes(marker)

function unlimited(q: Query): Query {
  if (q.kind !== 'range' || q.limit === undefined) return q
  const { limit: _limit, ...rest } = q
  return rest
}

/** The state of the store as one credential should see it. */
async function expected(may: May, q: Query = range()): Promise<Map<Key, Value>> {
  const all = await store.fetch(unlimited(q))
  let ks = [...all.results.keys()].filter(k => readable(may, k)).sort()
  if (q.kind === 'range' && q.reverse === true) ks = ks.reverse()
  if (q.kind === 'range' && q.limit !== undefined) ks = ks.slice(0, q.limit)
  return new Map(ks.map(k => [k, all.results.get(k) as Value]))
}

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p
    return 'ok'
  } catch (e) {
    return (e as { code?: string }).code ?? String(e)
  }
}

const okIf = (yes: boolean): string => (yes ? 'ok' : 'forbidden')

type Call = (db: RemoteStore, may: May) => Promise<void>

const CALLS: Record<string, Call> = {
  async read(db, may) {
    const ks = ['todos/alice/k1', 'todos/alice/ALICE-k2', 'todos/bob/k1', 'notes/NOTES-k1', 'zz/OTHER-k1', 'todos/alice/missing']
    const r = await db.fetch(keys(...ks))
    expect([...r.results.keys()].sort()).toEqual(ks.filter(k => readable(may, k) && !k.endsWith('missing')).sort())
    expect(r.results).toEqual(await expected(may, keys(...ks)))
  },

  async range(db, may) {
    const queries: Query[] = [range(), prefix('todos/'), range({ limit: 2 }), prefix('todos/', { limit: 1, reverse: true }), range({ from: 'notes/', limit: 1 })]
    for (const q of queries) {
      const r = await db.fetch(q)
      const want = await expected(may, q)
      expect([...r.results.entries()], JSON.stringify(q)).toEqual([...want.entries()])
      if (q.kind === 'range' && q.limit !== undefined) {
        const total = (await expected(may, unlimited(q))).size
        expect(r.more, `more of ${JSON.stringify(q)}`).toBe(total > q.limit)
      }
    }
  },

  async getOps(db, may) {
    const recs = await db.getOps(range(), { s: 0 })
    const want = SEED.map(([ops, meta], i) => {
      const ks = Object.keys(ops).filter(k => readable(may, k))
      const whole = ks.length === Object.keys(ops).length
      return { v: i + 1, ks, meta: whole ? meta : undefined }
    }).filter(r => r.ks.length > 0)
    expect(recs.map(r => ({ v: r.versions.s, ks: [...r.txn.keys()], meta: r.meta }))).toEqual(want)
    const first = await db.getOps(range(), { s: 0 }, undefined, { limit: 1 })
    expect(first.map(r => r.versions.s)).toEqual(want.slice(0, 1).map(r => r.v))
  },

  async subscribe(db, may) {
    const full = new View(db.subscribe(range()))
    const windowQ = prefix('todos/', { limit: 1 })
    const window = new View(db.subscribe(windowQ))
    await full.step()
    await window.step()
    expect(full.map).toEqual(await expected(may))
    expect(window.map).toEqual(await expected(may, windowQ))
    await store.mutate(txnOf({ 'todos/bob/k1': set(todo('BOB-live')) }), { meta: { by: 'BOB' } })
    await store.mutate(txnOf({ 'zz/OTHER-k1': set('OTHER-live') }))
    await store.mutate(txnOf({ 'todos/alice/0': set(todo('ALICE-live')), 'todos/bob/0': set(todo('BOB-live')) }), { meta: { note: 'MIXED-live' } })
    await store.mutate(txnOf({ 'notes/NOTES-k1': set('NOTES-live') }))
    await store.mutate(txnOf({ 'todos/alice/k1': set(todo('ALICE-live2')) }))
    await full.syncWith(db, range())
    await window.syncWith(db, windowQ)
    expect(full.map).toEqual(await expected(may))
    expect(window.map).toEqual(await expected(may, windowQ))
    // Nothing more is on its way (no update for what it may not read).
    expect(await maybeUpdate(full.sub, 50)).toBeUndefined()
    full.sub.close()
    window.sub.close()
  },

  async mutate(db, may) {
    const tries: Record<Key, Value>[] = [
      { 'todos/alice/new': todo('a') },
      { 'todos/bob/new': todo('b') },
      { 'notes/new': 'n' },
      { 'zz/new': 1 },
      { 'todos/alice/new2': todo('a'), 'notes/new2': 'n' },
    ]
    for (const ops of tries) {
      const allowed = Object.keys(ops).every(k => writable(may, k))
      const before = await store.fetch(range())
      const got = await outcome(db.mutate(txnOf(Object.fromEntries(Object.entries(ops).map(([k, v]) => [k, set(v)])))))
      expect(got, JSON.stringify(ops)).toBe(okIf(allowed))
      if (!allowed) expect(await store.fetch(range())).toEqual(before)
    }
    if (may.aliceWrite) {
      // A schema error crosses the wire with its code and zod's path.
      const e = await expectCode(db.mutate(txnOf({ 'todos/alice/bad': set({ title: 5, done: false }) })), 'invalid')
      expect(e.details).toMatchObject({ key: 'todos/alice/bad', path: ['title'] })
    }
  },

  async transaction(db, may) {
    const read = 'todos/alice/k1'
    const base: Versions = (await db.fetch(keys(read))).versions
    const tx = (write: Key, conflictKeys: Key[], baseVersions: Versions): Promise<string> =>
      outcome(db.mutate(txnOf({ [write]: set(write.startsWith('notes/') ? 'n' : todo('t')) }), { baseVersions, conflictKeys }))
    expect(await tx('todos/alice/t1', [read], base)).toBe(okIf(may.aliceRead && may.aliceWrite))
    expect(await tx('todos/bob/t1', [read], base)).toBe(okIf(may.aliceRead && may.bobWrite))
    expect(await tx('notes/t1', ['notes/NOTES-k1'], base)).toBe(okIf(may.notesRead && may.notesWrite))
    // The read key changes: a conflict for whoever may make the write, forbidden for the rest.
    await store.mutate(txnOf({ [read]: set(todo('ALICE-changed')) }))
    expect(await tx('todos/alice/t2', [read], base)).toBe(may.aliceRead && may.aliceWrite ? 'conflict' : 'forbidden')
    // A denied conflict key reads the same whether or not it exists (the error names only the
    // key the client itself sent).
    const e1 = await expectCode(db.mutate(txnOf({ 'todos/alice/t3': set(todo('t')) }), { baseVersions: base, conflictKeys: ['zz/k0'] }), 'forbidden')
    const e2 = await expectCode(db.mutate(txnOf({ 'todos/alice/t3': set(todo('t')) }), { baseVersions: base, conflictKeys: ['zz/k9'] }), 'forbidden')
    expect({ ...e1.toWire(), message: e1.message.replace('zz/k0', 'K'), details: {} }).toEqual({ ...e2.toWire(), message: e2.message.replace('zz/k9', 'K'), details: {} })
  },
}

const cases = Object.keys(CREDS).flatMap(cred => Object.keys(CALLS).map(call => [cred, call] as const))

test.each(cases)('%s: %s', async (credName, callName) => {
  const cred = CREDS[credName] as Cred
  const frames: Uint8Array[] = []
  const token = await cred.token()
  const opening = connect(server.url, {
    WebSocket: recording(frames),
    log: quiet,
    reconnect: false,
    ...(token === undefined ? {} : { auth: () => token }),
  })
  if (cred.may === undefined) {
    await expectCode(opening, 'unauthorized')
    expect(frames.length, 'the refusal came as a frame').toBeGreaterThan(0)
    for (const f of frames) for (const m of MARKERS) expect(contains(f, m), `a refused connection received ${m}`).toBe(false)
    return
  }
  const db = await opening
  try {
    await (CALLS[callName] as Call)(db, cred.may)
  } finally {
    await db.close()
  }
  expect(frames.length).toBeGreaterThan(1)
  for (const m of hiddenMarkers(cred.may)) {
    const leaked = frames.findIndex(f => contains(f, m))
    expect(leaked, `frame ${leaked} of ${frames.length} carries ${m}: ${leaked < 0 ? '' : Buffer.from(frames[leaked] as Uint8Array).toString('latin1')}`).toBe(-1)
  }
  // The search does find what the connection may read (so a clean result means something).
  if (cred.may.aliceRead && callName !== 'mutate' && callName !== 'transaction') {
    expect(frames.some(f => contains(f, 'ALICE'))).toBe(true)
  }
})
