// withRules in process: what each call shows and refuses, with rules that look at keys only and
// rules that look at values; limit windows, history, live views, writes, conflict keys, admins,
// expiring grants, native queries and rules that throw.
import { afterEach, expect, test } from 'vitest'
import {
  StatecraftError, keys, memoryStore, prefix, range,
  type FetchResult, type Key, type NativeQuery, type Query, type Store, type StoreInfo, type Value,
} from '@statecraft/core'
import { View, del, expectCode, json1, maybeUpdate, nextUpdate, set, text, txnOf } from '@statecraft/test-kit'
import { CapabilityClaims, defineRules, issueToken, verifyToken, withRules, type RulesContext } from '@statecraft/rules'

interface Claims {
  uid: string
}

const rules = defineRules<Claims>({
  'users/{uid}/**': {
    read: ({ auth, params }) => auth?.uid === params.uid,
    write: ({ auth, params }) => auth?.uid === params.uid,
  },
  'public/**': { read: true, write: false },
  // Readable when public or yours; only the owner may change it, and anyone may create one they own.
  'docs/{id}': {
    read: ({ auth, value }) => {
      const v = value as { public?: boolean; owner?: string } | undefined
      return v?.public === true || (auth !== null && v?.owner === auth.uid)
    },
    write: ({ auth, oldValue, newValue }) => {
      const before = oldValue as { owner?: string } | undefined
      const after = newValue as { owner?: string } | undefined
      if (auth === null) return false
      if (before !== undefined && before.owner !== auth.uid) return false
      return after === undefined || after.owner === auth.uid
    },
  },
  'slow/{x}': { read: async ({ auth }) => new Promise(r => setTimeout(() => r(auth?.uid === 'ann'), 1)), write: async () => true },
})

const ann: RulesContext<Claims> = { auth: { uid: 'ann' } }
const bob: RulesContext<Claims> = { auth: { uid: 'bob' } }
const nobody: RulesContext<Claims> = { auth: null }

let store: Store
const open: Store[] = []
const as = (ctx: RulesContext<Claims>, s: Store = store): Store => {
  const p = withRules(s, rules, ctx)
  open.push(p)
  return p
}

afterEach(async () => {
  for (const s of open.splice(0)) await s.close()
  await store?.close()
})

const obj = (r: FetchResult | Map<Key, Value>): Record<Key, unknown> => Object.fromEntries(r instanceof Map ? r : r.results)

async function seed(entries: Record<Key, Value>): Promise<void> {
  store = memoryStore({ uid: 's' })
  await store.mutate(txnOf(Object.fromEntries(Object.entries(entries).map(([k, v]) => [k, set(v)]))))
}

test('fetch leaves out denied keys; a denied key looks exactly like a missing one', async () => {
  await seed({ 'users/ann/a': 1, 'users/bob/a': 2, 'public/x': 3, 'other/y': 4 })
  const q = keys('users/ann/a', 'users/bob/a', 'public/x', 'other/y', 'users/bob/missing')
  expect(obj(await as(ann).fetch(q))).toEqual({ 'users/ann/a': 1, 'public/x': 3 })
  expect(obj(await as(bob).fetch(q))).toEqual({ 'users/bob/a': 2, 'public/x': 3 })
  expect(obj(await as(nobody).fetch(q))).toEqual({ 'public/x': 3 })
  expect(obj(await as(nobody).fetch(range()))).toEqual({ 'public/x': 3 })
  const denied = await as(ann).fetch(keys('users/bob/a'))
  const missing = await as(ann).fetch(keys('users/bob/missing'))
  expect(denied).toEqual(missing)
})

test('a range with limit finds limit readable keys past denied ones; more says only whether readable keys follow', async () => {
  const entries: Record<Key, Value> = {}
  for (let i = 0; i < 60; i++) entries[`users/${i % 3 === 0 ? 'ann' : 'bob'}/${String(i).padStart(2, '0')}`] = i
  // Many denied keys after the last readable one: `more` must not show them.
  for (let i = 0; i < 40; i++) entries[`users/zed/${i}`] = i
  await seed(entries)
  const a = as(ann)
  const annKeys = Object.keys(entries).filter(k => k.startsWith('users/ann/')).sort()
  const first = await a.fetch(range({ limit: 5 }))
  expect([...first.results.keys()]).toEqual(annKeys.slice(0, 5))
  expect(first.more).toBe(true)
  const all = await a.fetch(range({ limit: annKeys.length }))
  expect([...all.results.keys()]).toEqual(annKeys)
  expect(all.more).toBe(false)
  const rev = await a.fetch(prefix('users/', { limit: 3, reverse: true }))
  expect([...rev.results.keys()]).toEqual(annKeys.slice(-3).reverse())
  expect(rev.more).toBe(true)
  const zero = await a.fetch(prefix('users/', { limit: 0 }))
  expect(zero.results.size).toBe(0)
  expect(zero.more).toBe(true)
  const none = await as(nobody).fetch(prefix('users/', { limit: 0 }))
  expect(none.more).toBe(false)
  expect(await as(nobody).fetch(prefix('users/', { limit: 10 }))).toEqual({ results: new Map(), versions: first.versions, more: false })
  // Same for a reader whose rule looks at values.
  await store.mutate(txnOf({ 'docs/1': set({ owner: 'bob' }), 'docs/2': set({ owner: 'ann' }), 'docs/3': set({ public: true }), 'docs/4': set({ owner: 'bob' }) }))
  const d = await a.fetch(prefix('docs/', { limit: 1 }))
  expect(obj(d)).toEqual({ 'docs/2': { owner: 'ann' } })
  expect(d.more).toBe(true)
  const d2 = await a.fetch(prefix('docs/', { limit: 2 }))
  expect(Object.keys(obj(d2))).toEqual(['docs/2', 'docs/3'])
  expect(d2.more).toBe(false)
})

test('the pages of a limited range are one snapshot, even when writes land between them', async () => {
  const entries: Record<Key, Value> = {}
  for (let i = 0; i < 20; i++) entries[`users/bob/${String(i).padStart(2, '0')}`] = i
  entries['users/ann/zz'] = 'last'
  await seed(entries)
  let calls = 0
  const sneaky: Store = {
    ...store,
    info: store.info,
    fetch: async (q, o) => {
      if (++calls === 2) await store.mutate(txnOf({ 'users/ann/zz': del(), 'users/ann/00': set('new') }))
      return store.fetch(q, o)
    },
    getOps: (q, f, t, o) => store.getOps(q, f, t, o),
    subscribe: (q, o) => store.subscribe(q, o),
    mutate: (t, o) => store.mutate(t, o),
    close: async () => {},
  }
  const r = await as(ann, sneaky).fetch(prefix('users/', { limit: 1 }))
  expect(calls).toBeGreaterThan(1)
  expect(obj(r)).toEqual({ 'users/ann/zz': 'last' })
  expect(r.versions).toEqual({ s: 1 })
})

test('getOps keeps readable keys, drops txns with none, strips meta from partial txns and fills its limit', async () => {
  store = memoryStore({ uid: 's' })
  await store.mutate(txnOf({ 'users/ann/a': set(1) }), { meta: { who: 'ann' } })
  for (let i = 0; i < 5; i++) await store.mutate(txnOf({ 'users/bob/a': set(i) }), { meta: { who: 'bob' } })
  await store.mutate(txnOf({ 'users/ann/b': set(2), 'users/bob/b': set(3) }), { meta: { note: 'bob was here' } })
  await store.mutate(txnOf({ 'users/ann/a': del() }))
  const recs = await as(ann).getOps(range(), { s: 0 })
  expect(recs.map(r => r.versions.s)).toEqual([1, 7, 8])
  expect(recs.map(r => [...r.txn.keys()])).toEqual([['users/ann/a'], ['users/ann/b'], ['users/ann/a']])
  expect(recs[0]?.meta).toEqual({ who: 'ann' })
  expect(recs[1]?.meta).toBeUndefined()
  const two = await as(ann).getOps(range(), { s: 0 }, undefined, { limit: 2 })
  expect(two.map(r => r.versions.s)).toEqual([1, 7])
  expect(await as(nobody).getOps(range(), { s: 0 }, undefined, { limit: 3 })).toEqual([])
})

test('getOps with rules that look at values: a key turning visible is a set, turning hidden a del', async () => {
  store = memoryStore({ uid: 's' })
  await store.mutate(txnOf({ 'docs/1': set({ owner: 'bob', n: 1 }) }))
  await store.mutate(txnOf({ 'docs/1': json1(['n', { r: true, i: 2 }]) }))
  await store.mutate(txnOf({ 'docs/1': json1(['public', { i: true }]) }))
  await store.mutate(txnOf({ 'docs/1': json1(['n', { r: true, i: 3 }]) }))
  await store.mutate(txnOf({ 'docs/1': json1(['public', { r: true }]) }))
  await store.mutate(txnOf({ 'docs/1': json1(['n', { r: true, i: 4 }]) }))
  const recs = await as(ann).getOps(keys('docs/1'), { s: 0 })
  expect(recs.map(r => [r.versions.s, r.txn.get('docs/1')])).toEqual([
    [3, { type: 'set', value: { owner: 'bob', n: 2, public: true } }],
    [4, { type: 'json1', op: ['n', { r: true, i: 3 }] }],
    [5, { type: 'del' }],
  ])
  // From a later version the values are read there.
  expect((await as(ann).getOps(keys('docs/1'), { s: 3 })).map(r => r.versions.s)).toEqual([4, 5])
  expect((await as(bob).getOps(keys('docs/1'), { s: 0 })).map(r => r.txn.get('docs/1')?.type)).toEqual(['set', 'json1', 'json1', 'json1', 'json1', 'json1'])
})

test('a subscription shows readable keys only; a txn of denied keys sends nothing', async () => {
  await seed({ 'users/ann/a': 1, 'users/bob/a': 2 })
  const sub = as(ann).subscribe(range())
  const first = await nextUpdate(sub)
  expect(obj(first.replace ?? new Map())).toEqual({ 'users/ann/a': 1 })
  await store.mutate(txnOf({ 'users/bob/a': set(3) }))
  await store.mutate(txnOf({ 'users/bob/b': set(4) }), { meta: { secret: 'bob' } })
  expect(await maybeUpdate(sub, 30)).toBeUndefined()
  await store.mutate(txnOf({ 'users/bob/a': del(), 'users/ann/b': set(5) }), { meta: { secret: 'bob' } })
  const u = await nextUpdate(sub)
  expect(u.txns).toHaveLength(1)
  expect([...(u.txns[0]?.txn.keys() ?? [])]).toEqual(['users/ann/b'])
  expect(u.txns[0]?.meta).toBeUndefined()
  expect(u.versions).toEqual({ s: 4 })
  sub.close()
})

test('a limited live window holds the first N readable keys as keys come and go', async () => {
  await seed({ 'users/ann/b': 1, 'users/bob/a': 0, 'users/bob/c': 0, 'users/ann/d': 2, 'users/ann/f': 3 })
  const a = as(ann)
  const q = prefix('users/', { limit: 2 })
  const view = new View(a.subscribe(q))
  await view.step()
  expect(obj(view.map)).toEqual({ 'users/ann/b': 1, 'users/ann/d': 2 })
  const steps: [() => Promise<unknown>, Record<Key, unknown>][] = [
    [() => store.mutate(txnOf({ 'users/bob/0': set(0) })), { 'users/ann/b': 1, 'users/ann/d': 2 }],
    [() => store.mutate(txnOf({ 'users/ann/a': set(9) })), { 'users/ann/a': 9, 'users/ann/b': 1 }],
    [() => store.mutate(txnOf({ 'users/ann/a': del(), 'users/bob/zz': set(1) })), { 'users/ann/b': 1, 'users/ann/d': 2 }],
    [() => store.mutate(txnOf({ 'users/ann/b': del() })), { 'users/ann/d': 2, 'users/ann/f': 3 }],
    [() => store.mutate(txnOf({ 'users/ann/d': set(20) })), { 'users/ann/d': 20, 'users/ann/f': 3 }],
  ]
  for (const [write, want] of steps) {
    await write()
    await view.syncWith(a, q)
    expect(obj(view.map)).toEqual(want)
  }
  view.sub.close()
})

test('with rules that look at values a live view follows keys turning visible and hidden', async () => {
  await seed({ 'docs/1': { owner: 'bob', n: 1 }, 'docs/2': { owner: 'ann' } })
  const a = as(ann)
  for (const q of [prefix('docs/'), prefix('docs/', { limit: 5 }), keys('docs/1', 'docs/2')] as Query[]) {
    const view = new View(a.subscribe(q))
    await view.step()
    expect(obj(view.map)).toEqual({ 'docs/2': { owner: 'ann' } })
    view.sub.close()
  }
  const view = new View(a.subscribe(prefix('docs/')))
  await view.step()
  await store.mutate(txnOf({ 'docs/1': json1(['public', { i: true }]) }))
  const shown = await view.step()
  expect(shown.txns[0]?.txn.get('docs/1')).toEqual({ type: 'set', value: { owner: 'bob', n: 1, public: true } })
  await store.mutate(txnOf({ 'docs/1': json1(['n', { r: true, i: 2 }]) }))
  expect((await view.step()).txns[0]?.txn.get('docs/1')?.type).toBe('json1')
  await store.mutate(txnOf({ 'docs/1': json1(['public', { r: true }]) }))
  expect((await view.step()).txns[0]?.txn.get('docs/1')).toEqual({ type: 'del' })
  await store.mutate(txnOf({ 'docs/1': json1(['n', { r: true, i: 3 }]) }))
  expect(await maybeUpdate(view.sub, 30)).toBeUndefined()
  await view.syncWith(a, prefix('docs/'))
  // Resuming from a version starts from what the reader could see then.
  const from = { s: 3 }
  const resumed = new View(a.subscribe(prefix('docs/'), { fromVersion: from }))
  for (const [k, v] of (await a.fetch(prefix('docs/'), { atVersion: from })).results) resumed.map.set(k, v)
  await resumed.syncWith(a, prefix('docs/'))
  for (const u of resumed.updates) expect(u.replace).toBeUndefined()
  resumed.sub.close()
  view.sub.close()
})

test('a write with any denied key fails forbidden and writes nothing; so do unreadable conflict keys', async () => {
  await seed({ 'users/ann/a': 1, 'users/bob/a': 2, 'public/x': 0 })
  const a = as(ann)
  const before = await store.fetch(range())
  await expectCode(a.mutate(txnOf({ 'users/ann/b': set(1), 'users/bob/b': set(1) })), 'forbidden')
  await expectCode(a.mutate(txnOf({ 'public/x': set(1) })), 'forbidden')
  await expectCode(a.mutate(txnOf({ 'nowhere/x': set(1) })), 'forbidden')
  await expectCode(as(nobody).mutate(txnOf({ 'users/ann/a': del() })), 'forbidden')
  await expectCode(a.mutate(txnOf({ 'users/ann/b': set(1) }), { baseVersions: before.versions, conflictKeys: ['users/bob/a'] }), 'forbidden')
  expect(await store.fetch(range())).toEqual(before)
  // The refusal reads the same for a key that exists and one that does not.
  const e1 = await expectCode(a.mutate(txnOf({ 'users/bob/a': set(1) })), 'forbidden')
  const e2 = await expectCode(a.mutate(txnOf({ 'users/bob/none': set(1) })), 'forbidden')
  expect(e1.message.replace('users/bob/a', 'K')).toBe(e2.message.replace('users/bob/none', 'K'))
  const c1 = await expectCode(a.mutate(txnOf({ 'users/ann/b': set(1) }), { conflictKeys: ['users/bob/a'], baseVersions: before.versions }), 'forbidden')
  const c2 = await expectCode(a.mutate(txnOf({ 'users/ann/b': set(1) }), { conflictKeys: ['users/bob/none'], baseVersions: before.versions }), 'forbidden')
  expect(c1.message.replace('users/bob/a', 'K')).toBe(c2.message.replace('users/bob/none', 'K'))
  // Allowed writes and readable conflict keys go through, conflicts and all.
  const v = await a.mutate(txnOf({ 'users/ann/b': set(2) }), { baseVersions: before.versions, conflictKeys: ['users/ann/a', 'public/x'] })
  expect(v).toEqual({ s: 2 })
  await a.mutate(txnOf({ 'users/ann/a': set(5) }))
  await expectCode(a.mutate(txnOf({ 'users/ann/c': set(1) }), { baseVersions: before.versions, conflictKeys: ['users/ann/a'] }), 'conflict')
})

test('rules that look at values: create your own, change only your own, and a check-then-write race is retried', async () => {
  store = memoryStore({ uid: 's' })
  const a = as(ann)
  const b = as(bob)
  await a.mutate(txnOf({ 'docs/1': set({ owner: 'ann', n: 1 }) }))
  await expectCode(b.mutate(txnOf({ 'docs/1': json1(['n', { r: true, i: 2 }]) })), 'forbidden')
  await expectCode(b.mutate(txnOf({ 'docs/1': del() })), 'forbidden')
  await expectCode(a.mutate(txnOf({ 'docs/2': set({ owner: 'bob' }) })), 'forbidden')
  await a.mutate(txnOf({ 'docs/1': json1(['n', { r: true, i: 2 }]) }))
  // Handing the doc to bob is a write ann may not make (the new value is not hers).
  await expectCode(a.mutate(txnOf({ 'docs/1': json1(['owner', { r: true, i: 'bob' }]) })), 'forbidden')
  // An op that does not fit: invalid for one who may read the doc, forbidden for one who may not.
  await expectCode(a.mutate(txnOf({ 'docs/1': text(['x']) })), 'invalid')
  await expectCode(b.mutate(txnOf({ 'docs/1': text(['x']) })), 'forbidden')

  // Between the check and the commit the doc changes hands: the commit conflicts, the check runs
  // again on the new value, and the write is refused.
  let sneaked = false
  const racy: Store = {
    info: store.info,
    fetch: (q, o) => store.fetch(q, o),
    getOps: (q, f, t, o) => store.getOps(q, f, t, o),
    subscribe: (q, o) => store.subscribe(q, o),
    mutate: async (t, o) => {
      if (!sneaked && o?.conflictKeys !== undefined) {
        sneaked = true
        await store.mutate(txnOf({ 'docs/1': set({ owner: 'bob', n: 9 }) }))
      }
      return store.mutate(t, o)
    },
    close: async () => {},
  }
  await expectCode(as(ann, racy).mutate(txnOf({ 'docs/1': json1(['n', { r: true, i: 3 }]) })), 'forbidden')
  expect(sneaked).toBe(true)
  expect(obj(await store.fetch(keys('docs/1')))).toEqual({ 'docs/1': { owner: 'bob', n: 9 } })
})

test('a re-sent write (same clientId and seq) returns its first versions through the checks', async () => {
  store = memoryStore({ uid: 's' })
  const a = as(ann)
  const base = await a.mutate(txnOf({ 'docs/1': set({ owner: 'ann', n: 0 }) }))
  const once = { clientId: 'c1', seq: 1, baseVersions: base }
  const v1 = await a.mutate(txnOf({ 'docs/1': set({ owner: 'ann', n: 1 }) }), once)
  await a.mutate(txnOf({ 'docs/1': json1(['x', { i: 1 }]) }))
  expect(await a.mutate(txnOf({ 'docs/1': set({ owner: 'ann', n: 1 }) }), once)).toEqual(v1)
})

test('async rules, and rules that throw (denied, reported, never shown to the client)', async () => {
  await seed({ 'slow/1': 'x', 'boom/1': 'y' })
  expect(obj(await as(ann).fetch(range()))).toEqual({ 'slow/1': 'x' })
  expect(obj(await as(bob).fetch(range()))).toEqual({})
  const errors: string[] = []
  const throwing = defineRules<Claims>(
    { 'boom/{x}': { read: () => { throw new Error('rule bug') }, write: async () => Promise.reject(new Error('async rule bug')) } },
    { onError: (e, where) => errors.push(`${where.right} ${where.pattern} ${where.key}: ${(e as Error).message}`) },
  )
  const s = withRules(store, throwing, ann)
  expect(obj(await s.fetch(keys('boom/1')))).toEqual({})
  const e = await expectCode(s.mutate(txnOf({ 'boom/1': set(1) })), 'forbidden')
  expect(e.message).not.toContain('bug')
  expect(errors).toEqual(['read boom/{x} boom/1: rule bug', 'write boom/{x} boom/1: async rule bug'])
  await s.close()
})

test('admins see and write everything, but schemas still apply', async () => {
  const { z } = await import('zod')
  const r = defineRules<{ uid: string; admin?: boolean }>(
    { 'users/{uid}/**': { read: false, write: false, schema: z.object({ n: z.number() }) } },
    { admin: auth => auth.admin === true },
  )
  await seed({ 'users/ann/a': { n: 1 }, 'x/y': 2 })
  const admin = r(store, { uid: 'root', admin: true })
  const user = r(store, { uid: 'ann' })
  open.push(admin, user)
  expect(obj(await admin.fetch(range()))).toEqual({ 'users/ann/a': { n: 1 }, 'x/y': 2 })
  expect(obj(await user.fetch(range()))).toEqual({})
  await admin.mutate(txnOf({ 'x/z': set(1), 'users/ann/a': set({ n: 2 }) }))
  await expectCode(admin.mutate(txnOf({ 'users/ann/a': set({ n: 'two' }) })), 'invalid')
})

test('a capability grant decides alone, and ends (calls and subscriptions) when it expires', async () => {
  await seed({ 'users/ann/a': 1, 'users/bob/a': 2, 'public/x': 3 })
  const secret = 'another test secret, long enough'
  const claims = await verifyToken(await issueToken({ read: ['users/bob/**'], write: ['users/bob/**'], exp: Date.now() + 150 }, secret), secret)
  expect(claims).toBeInstanceOf(CapabilityClaims)
  const s = rules(store, claims)
  open.push(s)
  // The rules would let nobody read users/bob/…; the token does. public/x it does not grant.
  expect(obj(await s.fetch(range()))).toEqual({ 'users/bob/a': 2 })
  await s.mutate(txnOf({ 'users/bob/b': set(1) }))
  await expectCode(s.mutate(txnOf({ 'users/ann/b': set(1) })), 'forbidden')
  const sub = s.subscribe(range())
  await nextUpdate(sub)
  await new Promise(r => setTimeout(r, 200))
  await expectCode(s.fetch(range()), 'unauthorized')
  await expectCode(s.mutate(txnOf({ 'users/bob/c': set(1) })), 'unauthorized')
  await expectCode(async () => {
    for (;;) if ((await maybeUpdate(sub, 500)) === undefined) return
  }, 'unauthorized')
})

test('native queries: refused unless the store names the keys they read and all are readable', async () => {
  store = memoryStore({ uid: 's' })
  await store.mutate(txnOf({ 'users/ann/a': set(1), 'users/bob/a': set(2) }))
  const info: StoreInfo = { ...store.info, capabilities: { ...store.info.capabilities, queries: ['keys', 'range', 'native'] } }
  // A toy backend: the native query { keys } reads those keys.
  const toKeys = (q: NativeQuery): Query => keys(...((q.query as { keys: Key[] }).keys))
  const native = (withKeys: boolean): Store => ({
    info,
    fetch: (q, o) => store.fetch(q.kind === 'native' ? toKeys(q) : q, o),
    getOps: (q, f, t, o) => store.getOps(q.kind === 'native' ? toKeys(q) : q, f, t, o),
    subscribe: (q, o) => store.subscribe(q.kind === 'native' ? toKeys(q) : q, o),
    mutate: (t, o) => store.mutate(t, o),
    close: async () => {},
    ...(withKeys ? { nativeKeys: (q: NativeQuery) => (q.query as { keys: Key[] }).keys } : {}),
  })
  const q = (...ks: Key[]): NativeQuery => ({ kind: 'native', backend: 'toy', query: { keys: ks } })
  await expectCode(as(ann, native(false)).fetch(q('users/ann/a')), 'forbidden')
  await expectCode(as(ann, native(true)).fetch(q('users/ann/a', 'users/bob/a')), 'forbidden')
  await expectCode(as(ann, native(true)).getOps(q('users/bob/a'), { s: 0 }), 'forbidden')
  expect(obj(await as(ann, native(true)).fetch(q('users/ann/a')))).toEqual({ 'users/ann/a': 1 })
  const sub = as(ann, native(true)).subscribe(q('users/ann/a'))
  expect(obj((await nextUpdate(sub)).replace ?? new Map())).toEqual({ 'users/ann/a': 1 })
  sub.close()
  const admin = withRules(native(false), rules, { auth: { uid: 'root' }, admin: true })
  open.push(admin)
  expect(obj(await admin.fetch(q('users/ann/a', 'users/bob/a')))).toEqual({ 'users/ann/a': 1, 'users/bob/a': 2 })
  await expectCode(as(ann).fetch(q('users/ann/a')), 'unsupported')
  const failed = as(ann, native(false)).subscribe(q('users/ann/a'))
  await expectCode(() => nextUpdate(failed), 'forbidden')
})

test('closing the proxy ends its subscriptions and leaves the store open', async () => {
  await seed({ 'users/ann/a': 1 })
  const a = withRules(store, rules, ann)
  const sub = a.subscribe(range())
  await nextUpdate(sub)
  await a.close()
  expect(await maybeUpdate(sub, 100)).toBe('done')
  await expectCode(a.fetch(range()), 'closed')
  expect(obj(await store.fetch(range()))).toEqual({ 'users/ann/a': 1 })
  expect(new StatecraftError('forbidden', 'x').code).toBe('forbidden')
})

test('a schema error about a key the writer may not read says no more than that it does not fit', async () => {
  const { z } = await import('zod')
  const dropBox = defineRules<Claims>({ 'box/{x}': { read: false, write: true, schema: z.object({ n: z.number(), hidden: z.string() }) } })
  await seed({ 'box/1': { n: 1, hidden: 42 } })
  const s = withRules(store, dropBox, ann)
  open.push(s)
  const viaOp = await expectCode(s.mutate(txnOf({ 'box/1': json1(['n', { r: true, i: 2 }]) })), 'invalid')
  expect(viaOp.details).toEqual({ key: 'box/1' })
  expect(viaOp.message).not.toContain('hidden')
  const viaSet = await expectCode(s.mutate(txnOf({ 'box/1': set({ n: 'x', hidden: 'h' }) })), 'invalid')
  expect(viaSet.details).toMatchObject({ key: 'box/1', path: ['n'] })
})

// Regression: a subscription resumed at the current version got the store's caught-up mark dropped
// (it carried no txn), so a client that went offline and back waited for it until someone wrote.
test('a subscription resumed at the current version is told it has caught up', async () => {
  await seed({ 'users/ann/a': 1, 'users/bob/a': 2 })
  const now = (await as(ann).fetch(keys('users/ann/a'))).versions
  const sub = as(ann).subscribe(keys('users/ann/a'), { fromVersion: now })
  const u = await nextUpdate(sub)
  expect(u.caughtUp).toBe(true)
  expect(u.txns).toEqual([])
  expect(u.replace).toBeUndefined()
  // Later invisible writes still send nothing, visible ones arrive.
  await store.mutate(txnOf({ 'users/bob/a': set(3) }))
  await store.mutate(txnOf({ 'users/ann/a': set(4) }))
  const next = await nextUpdate(sub)
  expect(next.txns.flatMap(r => [...r.txn.keys()])).toEqual(['users/ann/a'])
  sub.close()
})
