// withRules: a store that shows one connection only what its rules let it read, and takes only the
// writes they let it make. Reads leave denied keys out (a range with `limit` keeps looking until it
// has `limit` readable keys); history and subscriptions are projected key by key (project.ts);
// a write with any denied key fails `forbidden` and writes nothing.
import {
  StatecraftError, applyOp, checkMutateOptions, checkQuery, checkTxn, closedError, keys, maxVersions, randomId,
  type FetchOptions, type FetchResult, type GetOpsOptions, type Key, type MutateOptions, type NativeQuery, type Query,
  type RangeQuery, type Store, type StoreInfo, type SubscribeOptions, type Subscription, type Txn, type TxnRecord,
  type Value, type Versions,
} from '@statecraft/core'
import { checkedMutate, type WritePlan } from './checked-mutate.ts'
import type { RulesContext } from './claims.ts'
import { Gate, type Decision } from './gate.ts'
import { projectOp, recordWith } from './project.ts'
import type { CompiledRules, RuleSet } from './rule-types.ts'
import { rulesSubscription, withoutLimit } from './rules-subscription.ts'
import { checkSchema, failedSubscription, nativeKeysOf, type NativeKeysReporter } from './schema.ts'
import { SubscriptionSet } from './subscription-set.ts'

/**
 * `store` as one connection may see it: `context.auth` is its claims (null: anonymous),
 * `context.admin` lets everything through, `context.capability` is a token's grant. Closing it ends
 * its subscriptions; the store behind it stays open (the server makes one per connection).
 */
export function withRules<C>(store: Store, rules: RuleSet<C> | CompiledRules<C>, context: RulesContext<C>): Store {
  const compiled = 'compiled' in rules ? rules.compiled : rules
  return new RulesStore(store, compiled as CompiledRules<unknown>, context as RulesContext<unknown>)
}

const forbidden = (message: string, key?: Key): StatecraftError =>
  new StatecraftError('forbidden', message, key === undefined ? undefined : { key })

/** The largest page a limited range reads at a time, while it looks for readable keys. */
const MAX_PAGE = 4096

class RulesStore implements Store {
  readonly info: StoreInfo
  private closed = false
  private readonly subs = new SubscriptionSet()
  private readonly gate: Gate<unknown>
  private readonly nativeKeys: NativeKeysReporter['nativeKeys'] | undefined

  constructor(
    private readonly inner: Store,
    private readonly rules: CompiledRules<unknown>,
    context: RulesContext<unknown>,
  ) {
    this.info = { ...inner.info, uid: randomId() }
    this.gate = new Gate(rules, context)
    this.nativeKeys = rules.options.nativeKeys ?? nativeKeysOf(inner)
  }

  /** What every call checks first: open, a well-formed query, a grant that has not expired. */
  private admit(q?: Query): void {
    if (this.closed) throw closedError()
    if (q !== undefined) checkQuery(q)
    this.gate.checkLive()
  }

  private async readable(k: Key, v: Value | undefined): Promise<boolean> {
    return (await this.gate.read(k, () => v)) === true
  }

  private async visibleOf(results: Map<Key, Value>, only?: Set<Key>): Promise<Map<Key, Value>> {
    const out = new Map<Key, Value>()
    for (const [k, v] of results) if ((only === undefined || only.has(k)) && (await this.readable(k, v))) out.set(k, v)
    return out
  }

  // ---- fetch

  async fetch(q: Query, o: FetchOptions = {}): Promise<FetchResult> {
    this.admit(q)
    if (this.gate.admin) return this.inner.fetch(q, o)
    if (q.kind === 'native') {
      const allowed = await this.checkNative(q)
      const r = await this.inner.fetch(q, o)
      return { ...r, results: await this.visibleOf(r.results, allowed) }
    }
    if (q.kind === 'range' && q.limit !== undefined) return this.fetchWindow(q, q.limit, o)
    const r = await this.inner.fetch(q, o)
    return { ...r, results: await this.visibleOf(r.results) }
  }

  /**
   * The first `limit` readable keys of a range, and whether more readable keys follow. Pages past
   * the first read at the first page's versions, so the answer is one consistent snapshot.
   */
  private async fetchWindow(q: RangeQuery, limit: number, o: FetchOptions): Promise<FetchResult> {
    const want = limit + 1
    const found: [Key, Value][] = []
    let page: RangeQuery = { ...q }
    let size = want
    let opts = o
    let first: FetchResult | undefined
    for (;;) {
      let r: FetchResult
      try {
        r = await this.inner.fetch({ ...page, limit: size }, opts)
      } catch (e) {
        // The first page's versions left the history while we paged: read the range whole.
        if (first !== undefined && e instanceof StatecraftError && e.code === 'version-too-old') return this.fetchWhole(q, limit, o)
        throw e
      }
      first ??= r
      let last: Key | undefined
      for (const [k, v] of r.results) {
        if (last === undefined || (q.reverse === true ? k < last : k > last)) last = k
        if (found.length < want && (await this.readable(k, v))) found.push([k, v])
      }
      if (found.length >= want || r.more !== true || last === undefined) break
      if (!this.inner.info.capabilities.history) return this.fetchWhole(q, limit, o)
      // The smallest key after `last` is last + "\0"; reversed, `to` is exclusive.
      page = q.reverse === true ? { ...page, to: last } : { ...page, from: `${last}\u0000` }
      opts = { atVersion: first.versions }
      size = Math.min(size * 2, MAX_PAGE)
    }
    return { results: new Map(found.slice(0, limit)), versions: first.versions, more: found.length > limit }
  }

  /** A limited range read as one unlimited read, for stores that cannot read the past. */
  private async fetchWhole(q: RangeQuery, limit: number, o: FetchOptions): Promise<FetchResult> {
    const r = await this.inner.fetch(withoutLimit(q), o)
    const found: [Key, Value][] = []
    for (const [k, v] of r.results) {
      if (found.length > limit) break
      if (await this.readable(k, v)) found.push([k, v])
    }
    return { results: new Map(found.slice(0, limit)), versions: r.versions, more: found.length > limit }
  }

  // ---- native queries

  /**
   * A native query runs only when the store can say which keys it reads, and this connection may
   * read every one of them. Returns those keys (results are kept to them).
   */
  private async checkNative(q: NativeQuery): Promise<Set<Key>> {
    if (!this.inner.info.capabilities.queries.includes('native')) {
      throw new StatecraftError('unsupported', 'this store answers no native queries')
    }
    const ks = this.nativeKeys === undefined ? undefined : await this.nativeKeys(q)
    if (ks === undefined) throw forbidden('native queries are refused: the store cannot say which keys they read')
    const decisions = new Map<Key, Decision>()
    for (const k of ks) decisions.set(k, await this.gate.read(k))
    const need = [...decisions].filter(([, d]) => d === 'values').map(([k]) => k)
    const values = need.length === 0 ? new Map<Key, Value>() : (await this.inner.fetch(keys(...need))).results
    for (const [k, d] of decisions) {
      const ok = d === 'values' ? await this.readable(k, values.get(k)) : d
      if (!ok) throw forbidden('this native query reads keys this connection may not read')
    }
    return new Set(ks)
  }

  // ---- history

  async getOps(q: Query, from: Versions, to?: Versions, o: GetOpsOptions = {}): Promise<TxnRecord[]> {
    this.admit(q)
    if (this.gate.admin) return this.inner.getOps(q, from, to, o)
    if (q.kind === 'native') await this.checkNative(q)
    const limit = o.limit
    // A source `from` does not name is read from its start (as getOps does).
    const start: Versions = { ...Object.fromEntries(this.inner.info.sources.map(src => [src, 0])), ...from }
    const history = new HistoryProjection(this.gate, this.inner, start)
    const out: TxnRecord[] = []
    let cursor = from
    for (;;) {
      const recs = await this.inner.getOps(q, cursor, to, limit === undefined ? {} : { limit })
      await history.load(recs)
      for (const rec of recs) {
        const p = await history.project(rec)
        if (p !== undefined) out.push(p)
        if (limit !== undefined && out.length >= limit) return out
      }
      const last = recs[recs.length - 1]
      // Records left out count against the store's limit: read on until ours is met.
      if (limit === undefined || last === undefined || recs.length < limit) return out
      cursor = maxVersions(cursor, last.versions)
    }
  }

  // ---- subscriptions

  subscribe(q: Query, o: SubscribeOptions = {}): Subscription {
    try {
      this.admit(q)
    } catch (e) {
      return failedSubscription(StatecraftError.from(e))
    }
    if (this.gate.admin) return this.subs.track(this.inner.subscribe(q, o))
    const before = q.kind === 'native' ? async (): Promise<void> => void (await this.checkNative(q)) : undefined
    return rulesSubscription({ inner: this.inner, gate: this.gate, query: q, options: o, subs: this.subs, ...(before === undefined ? {} : { before }) })
  }

  // ---- writes

  async mutate(txn: Txn, o: MutateOptions = {}): Promise<Versions> {
    if (this.closed) throw closedError()
    checkTxn(txn)
    checkMutateOptions(o)
    this.gate.checkLive()
    const conflictKeys = o.conflictKeys ?? []
    // First without values: a key denied whatever the values is refused without reading the store.
    let needValues = false
    for (const k of txn.keys()) {
      const d = await this.gate.write(k)
      if (d === false) throw forbidden(`this connection may not write ${JSON.stringify(k)}`, k)
      if (d === 'values') needValues = true
    }
    for (const k of conflictKeys) {
      const d = await this.gate.read(k)
      if (d === false) throw forbidden(`this connection may not read ${JSON.stringify(k)}, named in conflictKeys`, k)
      if (d === 'values') needValues = true
    }
    const schemas = [...txn.keys()].some(k => this.gate.schemaFor(k) !== undefined)
    if (!needValues && !schemas) return this.inner.mutate(txn, o)
    return checkedMutate(this.inner, txn, o, async (plan: WritePlan) => {
      if (needValues) {
        for (const w of plan.writes.values()) {
          let opError: unknown
          const newValue = (): Value | undefined => {
            try {
              return w.newValue()
            } catch (e) {
              opError = e
              throw e
            }
          }
          if ((await this.gate.write(w.key, { oldValue: () => w.oldValue, newValue })) === true) continue
          // The op does not fit the value, so the rule could not judge it. Say so only to a
          // connection that may read the value; to others it would describe a hidden value.
          if (opError !== undefined && (await this.readable(w.key, w.oldValue))) throw opError
          throw forbidden(`this connection may not write ${JSON.stringify(w.key)}`, w.key)
        }
        for (const [k, v] of plan.reads) {
          if (!(await this.readable(k, v))) throw forbidden(`this connection may not read ${JSON.stringify(k)}, named in conflictKeys`, k)
        }
      }
      for (const w of plan.writes.values()) {
        const schema = this.gate.schemaFor(w.key)
        if (schema === undefined) continue
        try {
          await checkSchema(schema, w.key, w.newValue())
        } catch (e) {
          // An op's result is built on the old value: its issues may describe a value this
          // connection may not read. A `set` says only what the writer sent.
          if (w.op.type === 'set' || w.op.type === 'del' || (await this.readable(w.key, w.oldValue))) throw e
          throw new StatecraftError('invalid', `the value written to ${JSON.stringify(w.key)} does not fit its schema`, { key: w.key })
        }
      }
    })
  }

  async close(): Promise<void> {
    this.closed = true
    this.subs.closeAll()
  }
}

/**
 * getOps projected for one connection. Keys whose rule looks at values are followed from `from`
 * (their values read at `from`, then each op applied) so each op is judged on the values around it.
 */
class HistoryProjection {
  private readonly decisions = new Map<Key, Decision>()
  private readonly values = new Map<Key, Value | undefined>()

  constructor(
    private readonly gate: Gate<unknown>,
    private readonly inner: Store,
    private readonly from: Versions,
  ) {}

  /** Decides the keys of `recs` and reads the values of those that need them (as of `from`). */
  async load(recs: TxnRecord[]): Promise<void> {
    const need: Key[] = []
    for (const rec of recs) {
      for (const k of rec.txn.keys()) {
        if (!this.decisions.has(k)) this.decisions.set(k, await this.gate.read(k))
        // A key first seen in this page has had no op since `from`: its value there is its value now.
        if (this.decisions.get(k) === 'values' && !this.values.has(k) && !need.includes(k)) need.push(k)
      }
    }
    if (need.length === 0) return
    const r = await this.inner.fetch(keys(...need), { atVersion: this.from })
    for (const k of need) this.values.set(k, r.results.get(k))
  }

  async project(rec: TxnRecord): Promise<TxnRecord | undefined> {
    const txn: Txn = new Map()
    let leftOut = false
    for (const [k, op] of rec.txn) {
      const d = this.decisions.get(k)
      let p: typeof op | undefined
      if (d !== 'values') p = d === true ? op : undefined
      else {
        const before = this.values.get(k)
        let after: Value | undefined
        try {
          after = applyOp(before, op)
        } catch {
          throw new StatecraftError('internal', 'the rules view of the history lost step with the store')
        }
        this.values.set(k, after)
        const visibleBefore = before !== undefined && (await this.gate.read(k, () => before)) === true
        const visibleAfter = after !== undefined && (await this.gate.read(k, () => after)) === true
        p = projectOp(op, before, after, visibleBefore, visibleAfter)
      }
      if (p === undefined) leftOut = true
      else txn.set(k, p)
    }
    return txn.size === 0 ? undefined : recordWith(rec, txn, leftOut)
  }
}
