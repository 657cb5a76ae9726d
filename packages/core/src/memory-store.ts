// The memory store: the reference implementation of every guarantee of the store contract.
// Simple over fast where they pull apart; every other store is checked against the same suite.
import { StatecraftError, closedError } from './errors.ts'
import { Fanout, isLimited } from './fanout.ts'
import { applyOp, docValue, readValue } from './ot.ts'
import { checkSourceQuery, keyMatcher, rangeBounds } from './query.ts'
import { makeSubscription } from './subscription.ts'
import { checkMutateOptions, checkTxn, cloneTxn, filterTxn, planTxn, shareTxn, type CommitSource } from './txn.ts'
import { freezeJson } from './values.ts'
import { checkMinVersion, checkVersions, readVersion } from './versions.ts'
import { cloneJson, lowerBound, randomId } from './util.ts'
import type {
  FetchOptions, FetchResult, Json, GetOpsOptions, Key, MutateOptions, Op, Query, RangeQuery, Store, StoreInfo,
  SubscribeOptions, Subscription, Txn, TxnRecord, Value, Versions,
} from './types.ts'

export interface MemoryStoreOptions {
  /** The source uid (default: random). */
  uid?: string
  /** How many of the latest txns are kept for getOps, fetch({atVersion}) and resuming. Default 10,000. */
  historyLimit?: number
  /** How many applied seqs are remembered per client for exactly-once. Default 1,000. */
  seqsPerClient?: number
}

interface LogEntry {
  version: number
  txn: Txn
  meta: Record<string, unknown> | undefined
  /** Per key, the op that takes the value after this txn back to the value before it. */
  undo: Map<Key, Op>
}

interface ClientSeqs {
  applied: Map<number, number>
  /** The applied seqs ascending, from `head` on (so forgetting the lowest is O(1)). */
  order: number[]
  head: number
  /** Seqs at or below this were forgotten. */
  floor: number
}

export function memoryStore(opts: MemoryStoreOptions = {}): Store {
  return new MemoryStore(opts)
}

class MemoryStore implements Store, CommitSource {
  readonly info: StoreInfo
  readonly uid: string
  version = 0
  /** Text docs edited by text ops are TextRopes (see core's `docValue`); readers get strings (`readValue`). */
  private readonly docs = new Map<Key, Value>()
  /** Every existing key, sorted. */
  private readonly sorted: Key[] = []
  private readonly keyVersions = new Map<Key, number>()
  /** The op log; entries before `logHead` are dropped (compacted away in batches, so trimming is O(1) per write). */
  private log: (LogEntry | undefined)[] = []
  private logHead = 0
  private readonly clients = new Map<string, ClientSeqs>()
  private readonly fanout: Fanout
  private readonly historyLimit: number
  private readonly seqsPerClient: number
  private closed = false

  constructor(opts: MemoryStoreOptions) {
    this.uid = opts.uid ?? randomId()
    this.historyLimit = Math.max(0, opts.historyLimit ?? 10_000)
    this.seqsPerClient = Math.max(1, opts.seqsPerClient ?? 1000)
    this.info = {
      uid: this.uid,
      sources: [this.uid],
      capabilities: { queries: ['keys', 'range'], opTypes: ['set', 'del', 'json1', 'text'], mutable: true, history: true },
    }
    this.fanout = new Fanout({ value: k => this.readable(k), window: q => this.windowKeys(q) })
  }

  // CommitSource
  get historyStart(): number {
    return (this.log[this.logHead]?.version ?? this.version + 1) - 1
  }
  keyVersion(k: Key): number {
    return this.keyVersions.get(k) ?? 0
  }
  opAt(v: number, k: Key): Op | undefined {
    return this.entryAt(v)?.txn.get(k)
  }
  value(k: Key): Value | undefined {
    return this.docs.get(k)
  }

  private readable(k: Key): Value | undefined {
    const v = this.docs.get(k)
    return v === undefined ? undefined : readValue(v)
  }

  private checkOpen(): void {
    if (this.closed) throw closedError()
  }

  private checkSupported(q: Query): void {
    checkSourceQuery(q, 'memory store')
  }

  private versions(v = this.version): Versions {
    return { [this.uid]: v }
  }

  private pastVersion(vs: Versions | undefined, what: string): number {
    return readVersion(vs, this.uid, this.version, this.historyStart, what)
  }

  async fetch(q: Query, o: FetchOptions = {}): Promise<FetchResult> {
    this.checkOpen()
    this.checkSupported(q)
    checkMinVersion(o.minVersion, this.uid, this.version)
    const at = this.pastVersion(o.atVersion, 'atVersion')
    return at === this.version ? this.fetchNow(q) : this.fetchPast(q, at)
  }

  private fetchNow(q: Query): FetchResult {
    const results = new Map<Key, Value>()
    let more = false
    if (q.kind === 'keys') {
      for (const k of q.keys) {
        const v = this.docs.get(k)
        if (v !== undefined) results.set(k, readValue(v))
      }
    } else if (q.kind === 'range') {
      const ks = this.rangeKeys(q)
      const limit = q.limit ?? Infinity
      for (const k of ks.slice(0, limit)) results.set(k, readValue(this.docs.get(k) as Value))
      more = ks.length > limit
    }
    return q.kind === 'range' && q.limit !== undefined ? { results, versions: this.versions(), more } : { results, versions: this.versions() }
  }

  /** Every existing key in a range's bounds, in query order (limit not applied). */
  private rangeKeys(q: RangeQuery): Key[] {
    const { lo, hi } = rangeBounds(q)
    const start = lowerBound(this.sorted, lo)
    const end = hi === undefined ? this.sorted.length : lowerBound(this.sorted, hi)
    const ks = start < end ? this.sorted.slice(start, end) : []
    return q.reverse === true ? ks.reverse() : ks
  }

  private windowKeys(q: RangeQuery): Key[] {
    const ks = this.rangeKeys(q)
    return q.limit === undefined ? ks : ks.slice(0, q.limit)
  }

  /** The results as of version `at`: today's values with the undo ops of later txns applied. */
  private fetchPast(q: Query, at: number): FetchResult {
    // Undo only the keys the query can return: other keys' history is not needed (as in the LevelDB store).
    const matches = keyMatcher(q)
    const past = new Map<Key, Value | undefined>()
    for (let i = this.log.length - 1; i >= this.logHead; i--) {
      const e = this.log[i] as LogEntry
      if (e.version <= at) break
      for (const [k, op] of e.undo) {
        if (matches(k)) past.set(k, applyOp(past.has(k) ? past.get(k) : this.docs.get(k), op, k))
      }
    }
    const valueAt = (k: Key): Value | undefined => (past.has(k) ? past.get(k) : this.docs.get(k))
    const results = new Map<Key, Value>()
    if (q.kind === 'keys') {
      for (const k of q.keys) {
        const v = valueAt(k)
        if (v !== undefined) results.set(k, readValue(v))
      }
      return { results, versions: this.versions(at) }
    }
    const rq = q as RangeQuery
    const candidates = new Set(this.rangeKeys({ ...rq, reverse: false, kind: 'range' }))
    for (const k of past.keys()) candidates.add(k)
    let ks = [...candidates].filter(k => valueAt(k) !== undefined).sort()
    if (rq.reverse === true) ks.reverse()
    const limit = rq.limit ?? Infinity
    const more = ks.length > limit
    ks = ks.slice(0, limit)
    for (const k of ks) results.set(k, readValue(valueAt(k) as Value))
    return rq.limit === undefined ? { results, versions: this.versions(at) } : { results, versions: this.versions(at), more }
  }

  async mutate(txn: Txn, o: MutateOptions = {}): Promise<Versions> {
    this.checkOpen()
    checkTxn(txn)
    checkMutateOptions(o)
    for (const op of txn.values()) {
      if (!this.info.capabilities.opTypes.includes(op.type)) throw new StatecraftError('unsupported', `the memory store does not take ${op.type} ops`)
    }
    const seen = this.seenSeq(o)
    if (seen !== undefined) return this.versions(seen)

    // Text docs become ropes before their first text op (equal content: nothing visible changes if the plan fails).
    for (const [k, op] of txn) {
      const v = this.docs.get(k)
      if (typeof v === 'string' && op.type === 'text') this.docs.set(k, docValue(v, op) as Value)
    }
    const plan = planTxn(this, cloneTxn(txn), o)
    const version = ++this.version
    for (const [k, v] of plan.values) this.writeKey(k, v, version)
    for (const op of plan.txn.values()) freezeOp(op)
    const meta = o.meta === undefined ? undefined : (freezeJson(cloneJson(o.meta as Json)) as Record<string, unknown>)
    this.log.push({ version, txn: plan.txn, meta, undo: plan.undo })
    this.trimLog()
    if (o.clientId !== undefined && o.seq !== undefined) this.recordSeq(o.clientId, o.seq, version)

    const rec: TxnRecord = meta === undefined ? { versions: this.versions(), txn: plan.txn } : { versions: this.versions(), txn: plan.txn, meta }
    this.fanout.publish(rec)
    return this.versions()
  }

  private entryAt(v: number): LogEntry | undefined {
    return this.log[this.logHead + v - this.historyStart - 1]
  }

  private trimLog(): void {
    const kept = this.log.length - this.logHead
    if (kept <= this.historyLimit) return
    // Dropped entries are released now, not when the array is next compacted (which keeps up to historyLimit of them).
    for (let i = kept - this.historyLimit; i > 0; i--) this.log[this.logHead++] = undefined
    if (this.logHead > 1024 && this.logHead * 2 > this.log.length) {
      this.log = this.log.slice(this.logHead)
      this.logHead = 0
    }
  }

  /** The version a `{clientId, seq}` already made, if it was applied. */
  private seenSeq(o: MutateOptions): number | undefined {
    if (o.clientId === undefined || o.seq === undefined) return undefined
    const c = this.clients.get(o.clientId)
    if (c === undefined) return undefined
    const v = c.applied.get(o.seq)
    if (v !== undefined) return v
    if (o.seq <= c.floor) {
      throw new StatecraftError('version-too-old', `seq ${o.seq} of client ${o.clientId} is older than the seqs the store remembers`)
    }
    return undefined
  }

  private recordSeq(clientId: string, seq: number, version: number): void {
    let c = this.clients.get(clientId)
    if (c === undefined) this.clients.set(clientId, (c = { applied: new Map(), order: [], head: 0, floor: -1 }))
    c.applied.set(seq, version)
    // The highest seqsPerClient seqs are remembered. Seqs usually arrive ascending: an append.
    const last = c.order[c.order.length - 1]
    if (last === undefined || seq > last) c.order.push(seq)
    else c.order.splice(lowerBound(c.order, seq, c.head), 0, seq)
    while (c.applied.size > this.seqsPerClient) {
      const oldest = c.order[c.head++] as number
      c.applied.delete(oldest)
      c.floor = Math.max(c.floor, oldest)
    }
    if (c.head > 1024 && c.head * 2 > c.order.length) {
      c.order = c.order.slice(c.head)
      c.head = 0
    }
  }

  private writeKey(k: Key, v: Value | undefined, version: number): void {
    const had = this.docs.has(k)
    if (v === undefined) {
      if (had) {
        this.docs.delete(k)
        this.sorted.splice(lowerBound(this.sorted, k), 1)
      }
    } else {
      if (!had) this.sorted.splice(lowerBound(this.sorted, k), 0, k)
      this.docs.set(k, v)
    }
    this.keyVersions.set(k, version)
  }

  async getOps(q: Query, from: Versions, to?: Versions, o: GetOpsOptions = {}): Promise<TxnRecord[]> {
    this.checkOpen()
    this.checkSupported(q)
    return this.opsSince(q, from, to, o.limit)
  }

  private opsSince(q: Query, from: Versions, to?: Versions, limit = Infinity): TxnRecord[] {
    checkVersions(from, 'from')
    const f = from[this.uid] ?? 0
    const t = Math.min(to === undefined ? this.version : (checkVersions(to, 'to'), to[this.uid] ?? this.version), this.version)
    if (f > this.version) throw new StatecraftError('invalid', `from names version ${f}; the store is at ${this.version}`)
    if (f >= t) return []
    if (f < this.historyStart) {
      throw new StatecraftError('version-too-old', `ops after version ${f} are no longer kept (history starts after ${this.historyStart})`)
    }
    const matches = keyMatcher(q)
    const out: TxnRecord[] = []
    for (let v = f + 1; v <= t && out.length < limit; v++) {
      const e = this.entryAt(v) as LogEntry
      const filtered = filterTxn(e.txn, matches)
      if (filtered === undefined) continue
      const txn = shareTxn(filtered)
      out.push(e.meta === undefined ? { versions: this.versions(v), txn } : { versions: this.versions(v), txn, meta: e.meta })
    }
    return out
  }

  subscribe(q: Query, o: SubscribeOptions = {}): Subscription {
    let remove = (): void => {}
    const { sub, feed } = makeSubscription(() => remove())
    try {
      this.checkOpen()
      this.checkSupported(q)
      const from = o.fromVersion === undefined ? undefined : (checkVersions(o.fromVersion, 'fromVersion'), o.fromVersion[this.uid])
      if (from !== undefined && !isLimited(q)) {
        feed.push({ txns: this.opsSince(q, { [this.uid]: from }), versions: this.versions(), caughtUp: true })
      } else {
        feed.push({ replace: this.fetchNow(q).results, txns: [], versions: this.versions(), caughtUp: true })
      }
      remove = this.fanout.add(q, feed)
    } catch (e) {
      feed.end(StatecraftError.from(e))
    }
    return sub
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.fanout.endAll()
  }
}

function freezeOp(op: Op): void {
  if (op.type === 'set') {
    if (!(op.value instanceof Uint8Array)) freezeJson(op.value)
  } else if (op.type !== 'del') freezeJson(op.op as never)
  Object.freeze(op)
}
