// The IndexedDB store: a full source store in one IndexedDB database. Docs, the op log, client seqs
// and the version are written in one IndexedDB transaction per txn, so a crash leaves all or
// nothing. Docs, key versions and seqs are also held in memory (loaded at open), so commits plan
// (core's planTxn) and fan out (core's Fanout) synchronously, exactly as the memory store does; the
// op log stays on disk and is read when history is asked for.
import {
  Fanout, StatecraftError, checkMinVersion, checkMutateOptions, checkSourceQuery, checkTxn, checkVersions, readVersion, closedError, cloneJson, cloneTxn,
  feedOf, filterTxn, freezeJson, isBinary, isLimited, isOTOp, keyMatcher, makeSubscription, planTxn, randomId, applyOp, shareValue,
} from '@statecraft/core'
import type {
  CommitSource, Feed, FetchOptions, FetchResult, GetOpsOptions, Json, Key, MutateOptions, Op, Query, RangeQuery, Store,
  StoreInfo, SubscribeOptions, Subscription, Txn, TxnRecord, Update, Value, Versions,
} from '@statecraft/core'
import type { IDBPTransaction, StoreNames } from 'idb'
import { factoryOf, idbError, openDatabase, type DocRecord, type LogRecord, type OpenOptions, type StatecraftDB, type StatecraftIDB } from './schema.ts'
import { Serial } from './serial.ts'
import { SortedKeys } from './sorted-keys.ts'
import { acquireLock, type OnLocked, type Release } from './tab-lock.ts'

export interface IdbStoreOptions extends OpenOptions {
  /** The source uid of a new database (default: random). An existing database keeps its own; naming another is `invalid`. */
  uid?: string
  /** How many of the latest txns the op log keeps for getOps, fetch({atVersion}) and resuming. Default 10,000. */
  historyLimit?: number
  /** How many applied seqs are remembered per client for exactly-once. Default 1,000. */
  seqsPerClient?: number
  /** When another opener holds the database: `'fail'` (default) rejects with `conflict`; `'wait'` waits until it closes. */
  onLocked?: OnLocked
  /** IndexedDB durability of commits (default `'default'`; `'strict'` flushes to disk before `mutate` resolves). */
  durability?: IDBTransactionDurability
  /** Reads update LRU access stamps in memory; they are written to disk this long after (ms, default 1000) and on close. */
  accessFlushMs?: number
}

/** One cached doc as LRU eviction sees it. */
export interface CacheDocInfo {
  key: Key
  /** Estimated size: key length + JSON length (characters), or key length + byte length for binary. */
  bytes: number
  /** When the doc was last read or written (ms since the epoch; 0 = never recorded). */
  lastAccess: number
}

export interface CacheStats {
  /** The sum of every doc's `bytes`. */
  totalBytes: number
  /** Every existing doc, least recently used first. */
  docs: CacheDocInfo[]
  /** The store's versions these stats describe (pass as `baseVersions` to evict only unchanged docs). */
  versions: Versions
}

/** A Store kept in IndexedDB, with the cache metadata the client SDK's LRU eviction needs. */
export interface IdbStore extends Store {
  /** The IndexedDB database name. */
  readonly name: string
  /** Sizes and last-access stamps of every doc. */
  cacheStats(): CacheStats
  /** Marks keys as just used (fetch, subscribe and mutate already do). */
  touch(keys: Iterable<Key>): void
  /**
   * Deletes every doc in one txn (subscribers see the deletes; meta `{ cleared: true }`) and drops the
   * whole op log, so no old value stays on disk. Client seqs stay (exactly-once still holds); the outbox
   * is not touched. Resolves to the versions after the clear.
   */
  clearCache(): Promise<Versions>
}

interface ClientSeqs {
  applied: Map<number, number>
  /** Seqs at or below this were forgotten. */
  floor: number
}

interface LoadedState {
  uid: string
  version: number
  historyStart: number
  docs: Map<Key, DocRecord>
  clients: Map<string, ClientSeqs>
  access: Map<Key, number>
}

const COMMIT_STORES = ['meta', 'docs', 'log', 'seqs', 'access'] as const

/**
 * Opens (or creates) the IndexedDB store `name`. Resolves once the database is open and its docs,
 * key versions and seqs are loaded into memory; rejects with `conflict` when another opener holds
 * it (see `onLocked`). A reopened store has the same uid, version, docs and history.
 */
export async function idbStore(name: string, opts: IdbStoreOptions = {}): Promise<IdbStore> {
  const factory = factoryOf(opts)
  const release = await acquireLock(name, opts.onLocked ?? 'fail', factory)
  let db: StatecraftIDB | undefined
  try {
    db = await openDatabase(name, opts)
    const state = await loadState(db, name, opts.uid)
    return new IdbStoreImpl(name, db, state, release, opts)
  } catch (e) {
    db?.close()
    release()
    throw idbError(e, `cannot open the IndexedDB store ${JSON.stringify(name)}`)
  }
}

async function loadState(db: StatecraftIDB, name: string, wantUid: string | undefined): Promise<LoadedState> {
  const tx = db.transaction(['meta', 'docs', 'seqs', 'access', 'log'], 'readonly')
  const [metaKeys, metaVals, docKeys, docVals, seqKeys, seqVals, accKeys, accVals, firstLog] = await Promise.all([
    tx.objectStore('meta').getAllKeys(),
    tx.objectStore('meta').getAll(),
    tx.objectStore('docs').getAllKeys(),
    tx.objectStore('docs').getAll(),
    tx.objectStore('seqs').getAllKeys(),
    tx.objectStore('seqs').getAll(),
    tx.objectStore('access').getAllKeys(),
    tx.objectStore('access').getAll(),
    tx.objectStore('log').getAllKeys(null, 1),
    tx.done,
  ])
  let uid: string | undefined
  let version = 0
  const clients = new Map<string, ClientSeqs>()
  const clientOf = (c: string): ClientSeqs => {
    let s = clients.get(c)
    if (s === undefined) clients.set(c, (s = { applied: new Map(), floor: -1 }))
    return s
  }
  metaKeys.forEach((k, i) => {
    const v = metaVals[i]
    if (k === 'uid' && typeof v === 'string') uid = v
    else if (k === 'version' && typeof v === 'number') version = v
    else if (Array.isArray(k) && k[0] === 'floor' && typeof v === 'number') clientOf(k[1]).floor = v
  })
  seqKeys.forEach(([c, seq], i) => clientOf(c).applied.set(seq, seqVals[i] as number))
  const docs = new Map<Key, DocRecord>()
  docKeys.forEach((k, i) => docs.set(k, docVals[i] as DocRecord))
  const access = new Map<Key, number>()
  accKeys.forEach((k, i) => access.set(k, accVals[i] as number))
  const first = firstLog[0]
  const historyStart = first === undefined ? version : first - 1

  if (uid === undefined) {
    uid = wantUid ?? randomId()
    const w = db.transaction('meta', 'readwrite')
    await Promise.all([w.store.put(uid, 'uid'), w.store.put(version, 'version'), w.done])
  } else if (wantUid !== undefined && wantUid !== uid) {
    throw new StatecraftError('invalid', `the IndexedDB store ${JSON.stringify(name)} has uid ${JSON.stringify(uid)}, not ${JSON.stringify(wantUid)}`)
  }
  return { uid, version, historyStart, docs, clients, access }
}

/** An estimate of the space a doc takes: see CacheDocInfo.bytes. */
const sizeOf = (k: Key, v: Value): number => k.length + (isBinary(v) ? v.byteLength : JSON.stringify(v).length)

class IdbStoreImpl implements IdbStore {
  readonly info: StoreInfo
  readonly uid: string
  version: number
  historyStart: number
  private readonly docs = new Map<Key, Value>()
  private readonly sorted = new SortedKeys()
  private readonly keyVersions = new Map<Key, number>()
  private readonly sizes = new Map<Key, number>()
  private totalBytes = 0
  private readonly access: Map<Key, number>
  private readonly dirtyAccess = new Set<Key>()
  private lastStamp = 0
  private flushTimer: ReturnType<typeof setTimeout> | undefined
  private readonly clients: Map<string, ClientSeqs>
  private readonly fanout: Fanout
  /** The single writer: commits, and reads of the op log, run here one at a time. */
  private readonly serial = new Serial()
  private readonly historyLimit: number
  private readonly seqsPerClient: number
  private readonly durability: IDBTransactionDurability
  private readonly accessFlushMs: number
  private closed = false
  private closing: Promise<void> | undefined

  constructor(
    readonly name: string,
    private readonly db: StatecraftIDB,
    state: LoadedState,
    private readonly release: Release,
    opts: IdbStoreOptions,
  ) {
    this.uid = state.uid
    this.version = state.version
    this.historyStart = state.historyStart
    this.clients = state.clients
    this.access = state.access
    this.historyLimit = Math.max(0, opts.historyLimit ?? 10_000)
    this.seqsPerClient = Math.max(1, opts.seqsPerClient ?? 1000)
    this.durability = opts.durability ?? 'default'
    this.accessFlushMs = Math.max(0, opts.accessFlushMs ?? 1000)
    for (const [k, rec] of state.docs) {
      this.keyVersions.set(k, rec.version)
      if (rec.value !== undefined) this.setDoc(k, isBinary(rec.value) ? rec.value : freezeJson(rec.value))
    }
    this.sorted.reset(this.docs.keys())
    for (const t of this.access.values()) this.lastStamp = Math.max(this.lastStamp, t)
    this.info = {
      uid: this.uid,
      sources: [this.uid],
      capabilities: { queries: ['keys', 'range'], opTypes: ['set', 'del', 'json1', 'text'], mutable: true, history: true },
    }
    this.fanout = new Fanout({ value: k => this.docs.get(k), window: q => this.sorted.window(q) })
    // Another connection wants to upgrade or delete the database: step aside.
    db.addEventListener('versionchange', () => {
      void this.close()
    })
    // The browser closed the connection (storage cleared, disk error): nothing more can be read or written.
    db.addEventListener('close', () => {
      this.closed = true
      this.fanout.endAll()
      this.release()
    })
  }

  private keyVersion(k: Key): number {
    return this.keyVersions.get(k) ?? 0
  }

  private setDoc(k: Key, v: Value | undefined): void {
    this.totalBytes -= this.sizes.get(k) ?? 0
    if (v === undefined) {
      this.docs.delete(k)
      this.sizes.delete(k)
    } else {
      const n = sizeOf(k, v)
      this.docs.set(k, v)
      this.sizes.set(k, n)
      this.totalBytes += n
    }
  }

  private checkOpen(): void {
    if (this.closed) throw closedError()
  }

  private checkSupported(q: Query): void {
    checkSourceQuery(q, 'IndexedDB store')
  }

  private versions(v = this.version): Versions {
    return { [this.uid]: v }
  }

  private pastVersion(vs: Versions | undefined, what: string): number {
    return readVersion(vs, this.uid, this.version, this.historyStart, what)
  }

  // ---- Reading

  async fetch(q: Query, o: FetchOptions = {}): Promise<FetchResult> {
    this.checkOpen()
    this.checkSupported(q)
    checkMinVersion(o.minVersion, this.uid, this.version)
    const at = this.pastVersion(o.atVersion, 'atVersion')
    if (at === this.version) return this.fetchNow(q)
    // The past is read under the writer's queue, so no commit moves the docs or prunes the log meanwhile.
    return this.serial.run(() => this.fetchPast(q, this.pastVersion(o.atVersion, 'atVersion')))
  }

  private fetchNow(q: Query): FetchResult {
    const results = new Map<Key, Value>()
    let more = false
    if (q.kind === 'keys') {
      for (const k of q.keys) {
        const v = this.docs.get(k)
        if (v !== undefined) results.set(k, shareValue(v))
      }
    } else if (q.kind === 'range') {
      const ks = this.sorted.range(q)
      const limit = q.limit ?? Infinity
      for (const k of ks.slice(0, limit)) results.set(k, shareValue(this.docs.get(k) as Value))
      more = ks.length > limit
    }
    this.touch(results.keys())
    return q.kind === 'range' && q.limit !== undefined ? { results, versions: this.versions(), more } : { results, versions: this.versions() }
  }

  /** The results as of version `at`: today's values with the undo ops of later txns applied, newest first. */
  private async fetchPast(q: Query, at: number): Promise<FetchResult> {
    if (at === this.version) return this.fetchNow(q)
    const log = await this.readLog(at + 1, this.version)
    const past = new Map<Key, Value | undefined>()
    for (let i = log.length - 1; i >= 0; i--) {
      const [, rec] = log[i] as [number, LogRecord]
      for (const [k, op] of rec.undo) past.set(k, applyOp(past.has(k) ? past.get(k) : this.docs.get(k), op, k))
    }
    const valueAt = (k: Key): Value | undefined => (past.has(k) ? past.get(k) : this.docs.get(k))
    const results = new Map<Key, Value>()
    if (q.kind === 'keys') {
      for (const k of q.keys) {
        const v = valueAt(k)
        if (v !== undefined) results.set(k, shareValue(v))
      }
      return { results, versions: this.versions(at) }
    }
    const rq = q as RangeQuery
    const matches = keyMatcher(rq)
    const candidates = new Set(this.sorted.range({ ...rq, reverse: false, kind: 'range' }))
    for (const k of past.keys()) if (matches(k)) candidates.add(k)
    let ks = [...candidates].filter(k => valueAt(k) !== undefined).sort()
    if (rq.reverse === true) ks.reverse()
    const limit = rq.limit ?? Infinity
    const more = ks.length > limit
    ks = ks.slice(0, limit)
    for (const k of ks) results.set(k, shareValue(valueAt(k) as Value))
    return rq.limit === undefined ? { results, versions: this.versions(at) } : { results, versions: this.versions(at), more }
  }

  /** Op log entries with versions in [lo, hi], oldest first; `version-too-old` when any is gone. */
  private async readLog(lo: number, hi: number, count?: number): Promise<[number, LogRecord][]> {
    if (lo > hi) return []
    const tx = this.db.transaction('log', 'readonly')
    const range = IDBKeyRange.bound(lo, hi)
    let ks: number[]
    let vs: LogRecord[]
    try {
      ;[ks, vs] = await Promise.all([tx.store.getAllKeys(range, count), tx.store.getAll(range, count), tx.done])
    } catch (e) {
      throw idbError(e, 'cannot read the op log')
    }
    const want = Math.min(hi - lo + 1, count ?? Infinity)
    if (ks.length !== want || ks[0] !== lo) {
      throw new StatecraftError('version-too-old', `ops from version ${lo} are no longer kept (history starts after ${this.historyStart})`)
    }
    return ks.map((k, i) => [k, vs[i] as LogRecord])
  }

  async getOps(q: Query, from: Versions, to?: Versions, o: GetOpsOptions = {}): Promise<TxnRecord[]> {
    this.checkOpen()
    this.checkSupported(q)
    checkVersions(from, 'from')
    if (to !== undefined) checkVersions(to, 'to')
    return this.serial.run(() => this.opsSince(q, from, to, o.limit))
  }

  /** Txn records in (from, to] matching `q`. Run under `serial`. */
  private async opsSince(q: Query, from: Versions, to?: Versions, limit = Infinity): Promise<TxnRecord[]> {
    const f = from[this.uid] ?? 0
    const t = Math.min(to === undefined ? this.version : (to[this.uid] ?? this.version), this.version)
    if (f > this.version) throw new StatecraftError('invalid', `from names version ${f}; the store is at ${this.version}`)
    if (f >= t) return []
    if (f < this.historyStart) {
      throw new StatecraftError('version-too-old', `ops after version ${f} are no longer kept (history starts after ${this.historyStart})`)
    }
    const matches = keyMatcher(q)
    const out: TxnRecord[] = []
    // Read in batches so a small `limit` does not load the whole log.
    const batch = Number.isFinite(limit) ? Math.max(64, limit) : undefined
    for (let v = f + 1; v <= t && out.length < limit; ) {
      const recs = await this.readLog(v, t, batch)
      for (const [version, rec] of recs) {
        if (out.length >= limit) break
        const txn = filterTxn(new Map(rec.txn), matches)
        if (txn === undefined) continue
        for (const op of txn.values()) freezeOp(op)
        const meta = rec.meta === undefined ? undefined : (freezeJson(rec.meta as Json) as Record<string, unknown>)
        out.push(meta === undefined ? { versions: this.versions(version), txn } : { versions: this.versions(version), txn, meta })
      }
      v += recs.length
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
        if (from > this.version) throw new StatecraftError('invalid', `fromVersion names version ${from}; the store is at ${this.version}`)
        if (from < this.historyStart && from < this.version) {
          throw new StatecraftError('version-too-old', `ops after version ${from} are no longer kept (history starts after ${this.historyStart})`)
        }
        if (from === this.version) {
          feed.push({ txns: [], versions: this.versions(), caughtUp: true })
          remove = this.fanout.add(q, feed)
        } else {
          // Catch up from the op log on disk; txns committed meanwhile wait in a buffer behind it.
          const now = this.version
          const held = bufferedFeed(feed)
          remove = this.fanout.add(q, held.feed)
          this.serial
            .run(async () => (feed.closed ? [] : await this.opsSince(q, { [this.uid]: from }, { [this.uid]: now })))
            .then(
              txns => {
                feed.push({ txns, versions: this.versions(now), caughtUp: true })
                held.flush()
              },
              (e: unknown) => feed.end(StatecraftError.from(e)),
            )
            .catch(() => {})
        }
      } else {
        feed.push({ replace: this.fetchNow(q).results, txns: [], versions: this.versions(), caughtUp: true })
        remove = this.fanout.add(q, feed)
      }
    } catch (e) {
      feed.end(StatecraftError.from(e))
    }
    return sub
  }

  // ---- Writing

  async mutate(txn: Txn, o: MutateOptions = {}): Promise<Versions> {
    this.checkOpen()
    checkTxn(txn)
    checkMutateOptions(o)
    for (const op of txn.values()) {
      if (!this.info.capabilities.opTypes.includes(op.type)) throw new StatecraftError('unsupported', `the IndexedDB store does not take ${op.type} ops`)
    }
    // Private copies now: the caller may change its objects while the write waits its turn.
    const own = cloneTxn(txn)
    const opts: MutateOptions = { ...o }
    if (o.baseVersions !== undefined) opts.baseVersions = { ...o.baseVersions }
    if (o.conflictKeys !== undefined) opts.conflictKeys = [...o.conflictKeys]
    if (o.meta !== undefined) opts.meta = freezeJson(cloneJson(o.meta as Json)) as Record<string, unknown>
    return this.serial.run(() => this.commit(own, opts))
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

  /** The ops planTxn will transform over, read from the log only when it will need them. */
  private async opsForPlan(txn: Txn, o: MutateOptions): Promise<Map<number, Map<Key, Op>> | undefined> {
    const base = o.baseVersions?.[this.uid]
    if (base === undefined || base >= this.version || base < this.historyStart) return undefined
    let need = false
    for (const [k, op] of txn) if (isOTOp(op) && this.keyVersion(k) > base) need = true
    if (!need) return undefined
    const out = new Map<number, Map<Key, Op>>()
    for (const [v, rec] of await this.readLog(base + 1, this.version)) out.set(v, new Map(rec.txn))
    return out
  }

  /** Plans and writes one txn, then updates memory and fans it out. Run under `serial`. */
  private async commit(txn: Txn, o: MutateOptions, clear = false): Promise<Versions> {
    const seen = this.seenSeq(o)
    if (seen !== undefined) return this.versions(seen)
    const ops = await this.opsForPlan(txn, o)
    const src: CommitSource = {
      uid: this.uid,
      version: this.version,
      historyStart: this.historyStart,
      keyVersion: k => this.keyVersion(k),
      opAt: (v, k) => ops?.get(v)?.get(k),
      value: k => this.docs.get(k),
    }
    const plan = planTxn(src, txn, o)
    const version = this.version + 1
    for (const op of plan.txn.values()) freezeOp(op)
    const meta = o.meta
    const historyStart = clear ? version : Math.max(this.historyStart, version - this.historyLimit)
    const seqs = this.seqUpdate(o)
    const stamp = this.stamp()

    await this.write(COMMIT_STORES, 'commit the txn', (tx, reqs) => {
      const docs = tx.objectStore('docs')
      const access = tx.objectStore('access')
      for (const [k, v] of plan.values) {
        reqs.push(docs.put(v === undefined ? { version } : { version, value: v }, k))
        reqs.push(v === undefined ? access.delete(k) : access.put(stamp, k))
      }
      const log = tx.objectStore('log')
      if (version > historyStart) {
        const rec: LogRecord = { txn: [...plan.txn], undo: [...plan.undo] }
        if (meta !== undefined) rec.meta = meta
        reqs.push(log.put(rec, version))
      }
      if (historyStart > this.historyStart) reqs.push(log.delete(IDBKeyRange.upperBound(historyStart)))
      if (clear) reqs.push(access.clear())
      const metaStore = tx.objectStore('meta')
      reqs.push(metaStore.put(version, 'version'))
      if (seqs !== undefined) {
        const seqStore = tx.objectStore('seqs')
        reqs.push(seqStore.put(version, [seqs.clientId, seqs.seq]))
        for (const s of seqs.drop) reqs.push(seqStore.delete([seqs.clientId, s]))
        if (seqs.floor !== undefined) reqs.push(metaStore.put(seqs.floor, ['floor', seqs.clientId]))
      }
    })

    // On disk: now memory follows, and subscribers hear of it.
    this.version = version
    this.historyStart = historyStart
    if (clear) {
      this.access.clear()
      this.dirtyAccess.clear()
    }
    for (const [k, v] of plan.values) {
      if (v === undefined) {
        if (this.docs.has(k)) this.sorted.remove(k)
        this.access.delete(k)
      } else {
        if (!this.docs.has(k)) this.sorted.add(k)
        this.access.set(k, stamp)
      }
      this.dirtyAccess.delete(k)
      this.setDoc(k, v)
      this.keyVersions.set(k, version)
    }
    if (seqs !== undefined) {
      let c = this.clients.get(seqs.clientId)
      if (c === undefined) this.clients.set(seqs.clientId, (c = { applied: new Map(), floor: -1 }))
      c.applied.set(seqs.seq, version)
      for (const s of seqs.drop) c.applied.delete(s)
      if (seqs.floor !== undefined) c.floor = seqs.floor
    }
    const rec: TxnRecord = meta === undefined ? { versions: this.versions(), txn: plan.txn } : { versions: this.versions(), txn: plan.txn, meta }
    this.fanout.publish(rec)
    return this.versions()
  }

  /** The seq bookkeeping a write with `{clientId, seq}` makes: the seq to add, the oldest to forget. */
  private seqUpdate(o: MutateOptions): { clientId: string; seq: number; drop: number[]; floor?: number } | undefined {
    if (o.clientId === undefined || o.seq === undefined) return undefined
    const c = this.clients.get(o.clientId)
    if ((c?.applied.size ?? 0) < this.seqsPerClient) return { clientId: o.clientId, seq: o.seq, drop: [] }
    const seqs = [...(c?.applied.keys() ?? []), o.seq].sort((a, b) => a - b)
    const drop = seqs.slice(0, Math.max(0, seqs.length - this.seqsPerClient))
    const oldest = drop[drop.length - 1]
    return oldest === undefined
      ? { clientId: o.clientId, seq: o.seq, drop }
      : { clientId: o.clientId, seq: o.seq, drop, floor: Math.max(c?.floor ?? -1, oldest) }
  }

  /** One readwrite IndexedDB transaction: all of `build`'s requests commit, or none do. */
  private async write<N extends StoreNames<StatecraftDB>>(
    names: readonly N[],
    what: string,
    build: (tx: IDBPTransaction<StatecraftDB, N[], 'readwrite'>, reqs: Promise<unknown>[]) => void,
  ): Promise<void> {
    const tx = this.db.transaction([...names], 'readwrite', { durability: this.durability })
    const reqs: Promise<unknown>[] = []
    try {
      build(tx, reqs)
    } catch (e) {
      // Requests already made would otherwise commit: a failed write must change nothing.
      for (const r of reqs) r.catch(() => {})
      try {
        tx.abort()
      } catch {
        // already aborted (a request failed): nothing was written
      }
      await tx.done.catch(() => {})
      throw idbError(e, `cannot ${what}`)
    }
    try {
      await Promise.all([...reqs, tx.done])
    } catch (e) {
      throw idbError(e, `cannot ${what}`)
    }
  }

  // ---- Cache metadata

  private stamp(): number {
    this.lastStamp = Math.max(Date.now(), this.lastStamp + 1)
    return this.lastStamp
  }

  touch(ks: Iterable<Key>): void {
    if (this.closed) return
    let stamp: number | undefined
    for (const k of ks) {
      if (!this.docs.has(k)) continue
      stamp ??= this.stamp()
      this.access.set(k, stamp)
      this.dirtyAccess.add(k)
    }
    if (this.dirtyAccess.size > 0 && this.flushTimer === undefined) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = undefined
        void this.serial.run(() => this.flushAccess()).catch(() => {})
      }, this.accessFlushMs)
    }
  }

  /** Writes the access stamps that changed since the last flush. Run under `serial`. */
  private async flushAccess(): Promise<void> {
    if (this.dirtyAccess.size === 0) return
    const ks = [...this.dirtyAccess].filter(k => this.docs.has(k))
    this.dirtyAccess.clear()
    if (ks.length === 0) return
    await this.write(['access'], 'record access times', (tx, reqs) => {
      for (const k of ks) reqs.push(tx.objectStore('access').put(this.access.get(k) ?? 0, k))
    })
  }

  cacheStats(): CacheStats {
    const docs: CacheDocInfo[] = []
    for (const [key, bytes] of this.sizes) docs.push({ key, bytes, lastAccess: this.access.get(key) ?? 0 })
    docs.sort((a, b) => a.lastAccess - b.lastAccess || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))
    return { totalBytes: this.totalBytes, docs, versions: this.versions() }
  }

  async clearCache(): Promise<Versions> {
    this.checkOpen()
    return this.serial.run(async () => {
      if (this.docs.size > 0) {
        const txn: Txn = new Map([...this.docs.keys()].map(k => [k, { type: 'del' } as Op]))
        return this.commit(txn, { meta: { cleared: true } }, true)
      }
      if (this.historyStart < this.version || this.access.size > 0) {
        const start = this.version
        await this.write(['log', 'access'], 'clear the cache', (tx, reqs) => {
          reqs.push(tx.objectStore('log').delete(IDBKeyRange.upperBound(start)), tx.objectStore('access').clear())
        })
        this.historyStart = start
        this.access.clear()
        this.dirtyAccess.clear()
      }
      return this.versions()
    })
  }

  async close(): Promise<void> {
    if (this.closing !== undefined) return this.closing
    this.closed = true
    this.fanout.endAll()
    if (this.flushTimer !== undefined) clearTimeout(this.flushTimer)
    this.flushTimer = undefined
    // Writes already queued finish first; then the last access stamps, then the connection and the lock.
    this.closing = this.serial.run(async () => {
      try {
        await this.flushAccess()
      } catch {
        // Access stamps are a hint for eviction; losing the last few is harmless.
      } finally {
        this.db.close()
        this.release()
      }
    })
    return this.closing
  }
}

/** A feed that holds updates back until `flush`, so a catch-up read from disk goes out first. */
function bufferedFeed(feed: Feed): { feed: Feed; flush(): void } {
  let buffer: Update[] | undefined = []
  return {
    feed: feedOf(
      u => {
        if (buffer !== undefined) buffer.push(u)
        else feed.push(u)
      },
      e => feed.end(e),
      () => feed.closed,
    ),
    flush() {
      const held = buffer ?? []
      buffer = undefined
      for (const u of held) feed.push(u)
    },
  }
}

function freezeOp(op: Op): void {
  if (op.type === 'set') {
    if (!isBinary(op.value)) freezeJson(op.value)
  } else if (op.type !== 'del') freezeJson(op.op as never)
  Object.freeze(op)
}
