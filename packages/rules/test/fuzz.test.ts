// Seeded fuzz: random rule sets (patterns with literals, {params} and ** tails; rights that are
// true, false, about the key, or about the value) and random writes, reads, history reads and live
// views by several users (two signed in, one anonymous, one token holder), all checked against a
// reference model of what each user may see. A failure prints its seed; replay with
// STATECRAFT_SEED=<seed>.
import { expect, test } from 'vitest'
import {
  applyOp, applyUpdate, keyMatcher, keys, memoryStore, prefix, range,
  type Key, type Op, type Query, type Store, type Subscription, type TxnRecord, type Update, type Value, type Versions,
} from '@statecraft/core'
import { chooseSeed, maybeUpdate, nextUpdate, withSeed, type Rng } from '@statecraft/test-kit'
import {
  defineRules, issueToken, verifyToken, withRules, type Check, type ReadArgs, type RulesContext, type RuleTable, type WriteArgs,
} from '@statecraft/rules'

interface Claims {
  uid: string
}
type Doc = { owner: string; pub: boolean; n: number }
type Kind = 'allow' | 'deny' | 'param' | 'value'

const SEGS = ['a', 'b', 'c']
const UNIVERSE: Key[] = []
for (const x of SEGS) {
  UNIVERSE.push(x)
  for (const y of SEGS) {
    UNIVERSE.push(`${x}/${y}`)
    for (const z of SEGS) UNIVERSE.push(`${x}/${y}/${z}`)
  }
}

const isDoc = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)

// ---- the random rule set, and an independent reference of which rule decides a key

interface GenRule {
  source: string
  read: Kind
  write: Kind
  /** For the reference: a regex and the param names of its groups; and the specificity ranks. */
  re: RegExp
  names: string[]
  ranks: number[]
}

function genPattern(r: Rng): string {
  const len = 1 + r.int(3)
  const segs: string[] = []
  for (let i = 0; i < len; i++) {
    const last = i === len - 1
    const x = r.next()
    if (last && x < 0.25) segs.push('**')
    else if (x < 0.6) segs.push(r.pick(SEGS))
    else segs.push(`{p${i}}`)
  }
  return segs.join('/')
}

function reference(source: string, read: Kind, write: Kind): GenRule {
  const names: string[] = []
  const ranks: number[] = []
  const parts = source.split('/').map(s => {
    if (s === '**') {
      ranks.push(0)
      return '(?:.*)'
    }
    if (s.startsWith('{')) {
      names.push(s.slice(1, -1))
      ranks.push(1)
      return '([^/]+)'
    }
    ranks.push(2)
    return s
  })
  return { source, read, write, re: new RegExp(`^${parts.join('/')}$`), names, ranks }
}

/** The reference choice: of the matching rules, the one whose ranks are lexicographically greatest. */
function refRuleFor(rules: GenRule[], key: Key): { rule: GenRule; params: Record<string, string> } | undefined {
  let best: { rule: GenRule; params: Record<string, string> } | undefined
  for (const rule of rules) {
    const m = rule.re.exec(key)
    if (m === null) continue
    const params: Record<string, string> = {}
    rule.names.forEach((n, i) => (params[n] = m[i + 1] as string))
    if (best === undefined || greater(rule.ranks, best.rule.ranks)) best = { rule, params }
  }
  return best
}

function greater(a: number[], b: number[]): boolean {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i] ?? -1
    const y = b[i] ?? -1
    if (x !== y) return x > y
  }
  return false
}

function genRules(r: Rng): GenRule[] {
  const out: GenRule[] = []
  const shapes = new Set<string>()
  const kinds: Kind[] = ['allow', 'deny', 'param', 'value']
  const n = 3 + r.int(5)
  while (out.length < n) {
    const source = genPattern(r)
    const shape = source.replace(/\{p\d\}/g, '{}')
    if (shapes.has(shape)) continue
    shapes.add(shape)
    let read = r.pick(kinds)
    let write = r.pick(kinds)
    if (!source.includes('{')) {
      if (read === 'param') read = 'allow'
      if (write === 'param') write = 'deny'
    }
    out.push(reference(source, read, write))
  }
  return out
}

const firstParam = (params: Record<string, string>): string | undefined => Object.values(params)[0]

function readCheck(kind: Kind): Check<ReadArgs<Claims>> {
  switch (kind) {
    case 'allow':
      return true
    case 'deny':
      return false
    case 'param':
      return ({ auth, params }) => auth !== null && firstParam(params) === auth.uid
    case 'value':
      return ({ auth, value }) => isDoc(value) && (value.pub || (auth !== null && value.owner === auth.uid))
  }
}

function writeCheck(kind: Kind): Check<WriteArgs<Claims>> {
  switch (kind) {
    case 'allow':
      return true
    case 'deny':
      return false
    case 'param':
      return ({ auth, params }) => auth !== null && firstParam(params) === auth.uid
    case 'value':
      return ({ auth, oldValue, newValue }) =>
        (oldValue === undefined || (isDoc(oldValue) && oldValue.owner === auth?.uid)) &&
        (newValue === undefined || (isDoc(newValue) && newValue.owner === auth?.uid)) &&
        auth !== null
  }
}

// ---- users and the reference model

interface User {
  name: string
  auth: Claims | null
  /** A token holder's patterns (any one matching grants). */
  cap?: { read: RegExp[]; write: RegExp[] }
  store: Store
}

function patternRegex(p: string): RegExp {
  return reference(p, 'deny', 'deny').re
}

class Model {
  /** The state after each version (index = version). */
  readonly states: Map<Key, Value>[] = [new Map()]
  readonly records: { ops: Map<Key, Op>; meta: Record<string, unknown> | undefined }[] = []

  constructor(readonly rules: GenRule[]) {}

  get version(): number {
    return this.states.length - 1
  }

  state(v = this.version): Map<Key, Value> {
    return this.states[v] as Map<Key, Value>
  }

  commit(ops: Map<Key, Op>, meta?: Record<string, unknown>): void {
    const next = new Map(this.state())
    for (const [k, op] of ops) {
      const v = applyOp(next.get(k), op)
      if (v === undefined) next.delete(k)
      else next.set(k, v)
    }
    this.states.push(next)
    this.records.push({ ops, meta })
  }

  /** Whether the read right is decided without looking at the value, and if so, how. */
  staticRead(u: User, k: Key): boolean | 'value' {
    if (u.cap !== undefined) return u.cap.read.some(re => re.test(k))
    const m = refRuleFor(this.rules, k)
    if (m === undefined) return false
    if (m.rule.read === 'value') return 'value'
    return m.rule.read === 'allow' || (m.rule.read === 'param' && u.auth !== null && firstParam(m.params) === u.auth.uid)
  }

  mayRead(u: User, k: Key, v: Value | undefined): boolean {
    const s = this.staticRead(u, k)
    if (s !== 'value') return s
    return isDoc(v) && (v.pub || (u.auth !== null && v.owner === u.auth.uid))
  }

  visible(u: User, k: Key, v: Value | undefined): boolean {
    return v !== undefined && this.mayRead(u, k, v)
  }

  mayWrite(u: User, k: Key, before: Value | undefined, after: Value | undefined): boolean {
    if (u.cap !== undefined) return u.cap.write.some(re => re.test(k))
    const m = refRuleFor(this.rules, k)
    if (m === undefined) return false
    const uid = u.auth?.uid
    switch (m.rule.write) {
      case 'allow':
        return true
      case 'deny':
        return false
      case 'param':
        return uid !== undefined && firstParam(m.params) === uid
      case 'value':
        return uid !== undefined && (before === undefined || (isDoc(before) && before.owner === uid)) && (after === undefined || (isDoc(after) && after.owner === uid))
    }
  }

  /** What `u` sees of query `q` at version `v` (with the window of a limited range), in query order. */
  view(u: User, q: Query, v = this.version): { entries: [Key, Value][]; more: boolean } {
    const match = keyMatcher(q)
    const st = this.state(v)
    let ks = [...st.keys()].filter(k => match(k) && this.visible(u, k, st.get(k))).sort()
    if (q.kind === 'range' && q.reverse === true) ks.reverse()
    let more = false
    if (q.kind === 'range' && q.limit !== undefined) {
      more = ks.length > q.limit
      ks = ks.slice(0, q.limit)
    }
    return { entries: ks.map(k => [k, st.get(k) as Value]), more }
  }

  /** The history `u` should get of (from, to], projected as the README describes. */
  history(u: User, q: Query, from: number, to = this.version): TxnRecord[] {
    const match = keyMatcher(q)
    const out: TxnRecord[] = []
    for (let v = from + 1; v <= to; v++) {
      const rec = this.records[v - 1] as { ops: Map<Key, Op>; meta: Record<string, unknown> | undefined }
      const before = this.state(v - 1)
      const after = this.state(v)
      const txn = new Map<Key, Op>()
      let leftOut = false
      for (const [k, op] of rec.ops) {
        if (!match(k)) continue
        const s = this.staticRead(u, k)
        let p: Op | undefined
        if (s !== 'value') p = s ? op : undefined
        else {
          const b = before.get(k)
          const a = after.get(k)
          const vb = this.visible(u, k, b)
          const va = this.visible(u, k, a)
          if (vb && va) p = op
          else if (va) p = b === undefined ? op : { type: 'set', value: a as Value }
          else if (vb) p = a === undefined ? op : { type: 'del' }
        }
        if (p === undefined) leftOut = true
        else txn.set(k, p)
      }
      if (txn.size > 0) out.push(rec.meta === undefined || leftOut ? { versions: { s: v }, txn } : { versions: { s: v }, txn, meta: rec.meta })
    }
    return out
  }
}

// ---- random operations

function randomValue(r: Rng): Value {
  if (r.int(4) === 0) return r.int(100)
  return { owner: r.pick(['a', 'b']), pub: r.int(2) === 0, n: r.int(100) }
}

function randomOp(r: Rng, current: Value | undefined): Op {
  const x = r.next()
  if (x < 0.2) return { type: 'del' }
  if (x < 0.55 && isDoc(current)) {
    return r.int(2) === 0
      ? { type: 'json1', op: ['n', { r: true, i: r.int(100) }] }
      : { type: 'json1', op: ['pub', { r: true, i: !current.pub }] }
  }
  return { type: 'set', value: randomValue(r) }
}

function randomQuery(r: Rng): Query {
  if (r.int(3) === 0) return keys(...Array.from({ length: 1 + r.int(4) }, () => r.pick(UNIVERSE)))
  const q: { from?: Key; to?: Key; prefix?: Key; limit?: number; reverse?: boolean } = {}
  const x = r.int(3)
  if (x === 0) q.prefix = r.pick(['', 'a', 'a/', 'b/', 'c/c', 'b/a/'])
  else if (x === 1) {
    q.from = r.pick(UNIVERSE)
    if (r.int(2) === 0) q.to = r.pick(UNIVERSE)
  }
  if (r.int(2) === 0) q.limit = r.int(5)
  if (r.int(2) === 0) q.reverse = true
  return range(q)
}

const show = (x: unknown): string => JSON.stringify(x, (_k, v: unknown) => (v instanceof Map ? Object.fromEntries(v) : v))

// ---- live views

interface Live {
  user: User
  query: Query
  sub: Subscription
  map: Map<Key, Value>
}

async function syncLive(model: Model, l: Live, label: string): Promise<void> {
  const want = (): [Key, Value][] => model.view(l.user, l.query).entries
  const sorted = (m: Map<Key, Value>): [Key, Value][] => [...m].sort(([a], [b]) => (a < b ? -1 : 1))
  const same = (): boolean => show(sorted(l.map)) === show(want().sort(([a], [b]) => (a < b ? -1 : 1)))
  while (!same()) {
    let u: Update
    try {
      u = await nextUpdate(l.sub, 1000)
    } catch (e) {
      throw new Error(`${label}: ${l.user.name}'s view of ${show(l.query)} is ${show(sorted(l.map))}, want ${show(want())}: ${(e as Error).message}`)
    }
    checkUpdate(model, l, u, label)
    applyUpdate(l.map, u)
  }
}

/** Nothing in an update may concern a key the user could not see before or after its version. */
function checkUpdate(model: Model, l: Live, u: Update, label: string): void {
  const v = u.versions.s as number
  const seen = (k: Key, at: number): boolean => at >= 0 && model.visible(l.user, k, model.state(at).get(k))
  for (const k of u.replace?.keys() ?? []) expect(seen(k, v), `${label}: replace shows ${k} to ${l.user.name}`).toBe(true)
  for (const k of u.enter?.keys() ?? []) expect(seen(k, v), `${label}: enter shows ${k} to ${l.user.name}`).toBe(true)
  for (const rec of u.txns) {
    const rv = rec.versions.s as number
    for (const k of rec.txn.keys()) expect(seen(k, rv - 1) || seen(k, rv), `${label}: a txn at ${rv} shows ${k} to ${l.user.name}`).toBe(true)
    if (rec.meta !== undefined) {
      const all = model.records[rv - 1]?.ops ?? new Map<Key, Op>()
      for (const k of all.keys()) {
        if (!keyMatcher(l.query)(k)) continue
        expect(seen(k, rv - 1) || seen(k, rv) || model.staticRead(l.user, k) === true, `${label}: meta of ${rv} goes with ${k} hidden from ${l.user.name}`).toBe(true)
      }
    }
  }
}

// ---- the run

async function run(r: Rng, steps: number): Promise<void> {
  const gen = genRules(r)
  const table: RuleTable<Claims> = {}
  for (const g of gen) table[g.source] = { read: readCheck(g.read), write: writeCheck(g.write) }
  const rules = defineRules<Claims>(table)
  const model = new Model(gen)
  const inner = memoryStore({ uid: 's' })
  const secret = 'fuzz secret, long enough to sign'
  const capRead = [genPattern(r), genPattern(r)]
  const capWrite = [genPattern(r)]
  const claims = await verifyToken(await issueToken({ read: capRead, write: capWrite, exp: Date.now() + 3_600_000 }, secret), secret)
  const make = (name: string, ctx: RulesContext<Claims>, cap?: User['cap']): User => ({
    name,
    auth: ctx.auth,
    store: withRules(inner, rules, ctx),
    ...(cap === undefined ? {} : { cap }),
  })
  const users: User[] = [
    make('a', { auth: { uid: 'a' } }),
    make('b', { auth: { uid: 'b' } }),
    make('anonymous', { auth: null }),
    make(`token(${capRead.join(',')} / ${capWrite.join(',')})`, { auth: null, capability: claims }, { read: capRead.map(patternRegex), write: capWrite.map(patternRegex) }),
  ]
  const context = `rules ${show(gen.map(g => `${g.source}: read ${g.read}, write ${g.write}`))}`
  const liveQueries: Query[] = [range(), prefix('a/', { limit: 2 }), keys('a', 'b/a', 'c/c/c', 'a/b'), range({ from: 'b', limit: 3, reverse: true })]
  const lives: Live[] = []
  for (const user of users) {
    for (const query of liveQueries) {
      const l: Live = { user, query, sub: user.store.subscribe(query), map: new Map() }
      lives.push(l)
      await syncLive(model, l, `${context}, at start`)
      // The first update (replace) must come even when it is empty.
      if (l.map.size === 0) {
        const u = await nextUpdate(l.sub, 1000)
        expect(u.replace).toBeInstanceOf(Map)
      }
    }
  }
  try {
    for (let step = 0; step < steps; step++) {
      const label = `${context}, step ${step}`
      const x = r.next()
      if (x < 0.5) {
        // A write, by a user (checked) or behind the rules (an admin's, always applied).
        const ops = new Map<Key, Op>()
        const n = 1 + r.int(3)
        for (let i = 0; i < n; i++) {
          const k = r.pick(UNIVERSE)
          if (!ops.has(k)) ops.set(k, randomOp(r, model.state().get(k)))
        }
        const meta = r.int(3) === 0 ? { step } : undefined
        if (r.int(10) < 3) {
          await inner.mutate(ops, meta === undefined ? {} : { meta })
          model.commit(ops, meta)
        } else {
          const u = r.pick(users)
          const conflictKeys = r.int(3) === 0 ? [r.pick(UNIVERSE), r.pick(UNIVERSE)] : undefined
          const st = model.state()
          let allowed = true
          for (const [k, op] of ops) if (!model.mayWrite(u, k, st.get(k), applyOp(st.get(k), op))) allowed = false
          for (const k of conflictKeys ?? []) if (!model.mayRead(u, k, st.get(k))) allowed = false
          const o = { ...(meta === undefined ? {} : { meta }), ...(conflictKeys === undefined ? {} : { conflictKeys, baseVersions: { s: model.version } }) }
          let got = 'ok'
          try {
            await u.store.mutate(ops, o)
          } catch (e) {
            got = (e as { code?: string }).code ?? String(e)
          }
          expect(got, `${label}: ${u.name} writes ${show(ops)} ${show(o)}`).toBe(allowed ? 'ok' : 'forbidden')
          if (allowed) model.commit(ops, meta)
        }
        for (const l of lives) await syncLive(model, l, label)
      } else if (x < 0.75) {
        const u = r.pick(users)
        const q = randomQuery(r)
        const got = await u.store.fetch(q)
        const want = model.view(u, q)
        const what = `${label}: ${u.name} fetches ${show(q)}`
        if (q.kind === 'range') expect([...got.results], what).toEqual(want.entries)
        else expect([...got.results].sort(([a], [b]) => (a < b ? -1 : 1)), what).toEqual(want.entries)
        expect(got.versions, what).toEqual({ s: model.version })
        if (q.kind === 'range' && q.limit !== undefined) expect(got.more, what).toBe(want.more)
      } else if (x < 0.95) {
        const u = r.pick(users)
        const q = r.int(2) === 0 ? range() : randomQuery(r)
        const from = r.int(model.version + 1)
        const limit = r.int(3) === 0 ? 1 + r.int(3) : undefined
        const got = await u.store.getOps(q, { s: from }, undefined, limit === undefined ? {} : { limit })
        let want = model.history(u, q, from)
        if (limit !== undefined) want = want.slice(0, limit)
        expect(got, `${label}: ${u.name} reads the history of ${show(q)} from ${from}${limit === undefined ? '' : ` (limit ${limit})`}`).toEqual(want)
      } else {
        // Resume a live view from a past version: it starts from what the user could see then.
        const u = r.pick(users)
        const q = r.int(2) === 0 ? range() : keys('a', 'a/a', 'b/b', 'c/a/b')
        const from = Math.max(0, model.version - r.int(10))
        const l: Live = { user: u, query: q, sub: u.store.subscribe(q, { fromVersion: { s: from } as Versions }), map: new Map(model.view(u, q, from).entries) }
        await syncLive(model, l, `${label} (resumed from ${from})`)
        l.sub.close()
      }
    }
    // Anything still queued must be clean too.
    for (const l of lives) {
      for (let u = await maybeUpdate(l.sub, 5); u !== undefined && u !== 'done'; u = await maybeUpdate(l.sub, 5)) {
        checkUpdate(model, l, u, `${context}, draining`)
        applyUpdate(l.map, u)
      }
      expect(show([...l.map].sort(([a], [b]) => (a < b ? -1 : 1))), `${context}: final view of ${l.user.name} on ${show(l.query)}`).toBe(show(model.view(l.user, l.query).entries.sort(([a], [b]) => (a < b ? -1 : 1))))
    }
  } finally {
    for (const u of users) await u.store.close()
    await inner.close()
  }
}

const seed = chooseSeed()

/** RULES_FUZZ_RUNS=200 for a longer hunt. */
const runs = Number(process.env.RULES_FUZZ_RUNS ?? 8)

test.each(Array.from({ length: runs }, (_, i) => i))('random rules, writes, reads, history and live views (run %i)', async i => {
  const s = seed + i * 7919
  await withSeed(s, r => run(r, 150))
})
