// createClient: the app-facing, offline-first client. It applies writes locally at once, keeps them
// in a persistent outbox (the cache), sends them when online — one batch in flight per key, later
// local edits composed while one is — and keeps every doc it has opened live with one subscription
// each, transforming pending ops over remote ones. See README.md ("The client SDK").
import { StatecraftError, hasCode, isOTOp, keys, listen, maxVersions, randomId, versionsAtLeast } from '@statecraft/core'
import type { Key, MutateOptions, Op, Query, Store, Subscription, Update, Value, Versions } from '@statecraft/core'
import type { Encoding } from '@statecraft/protocol'
import { backoffDelay, type Backoff } from './backoff.ts'
import { ClientPresence } from './client-presence.ts'
import { memoryCache, storeCache, isStore, isSyncCache, type CachedEntry, type ClientCache, type CacheWrite } from './client-cache.ts'
import { DocState, deferred, settle, type PendingEntry } from './doc-state.ts'
import { DocHandle, TextHandle, QueryHandle } from './handles.ts'
import { idbCache } from './idb-cache.ts'
import { checkRoom, type Presence } from './presence.ts'
import { Remote, type Dial } from './remote-store.ts'
import { runTransaction, type Transaction, type TransactionOptions } from './transaction.ts'
import { dialWebSocket, type WebSocketConstructor } from './websocket-port.ts'

export interface ClientOptions {
  /** The server's ws:// URL … */
  url?: string
  /** … or a Dial that opens a Port (e.g. `() => server.connectLocal()`). */
  dial?: Dial
  /**
   * Where docs and the outbox persist: `'memory'` (default; nothing survives the process),
   * `'indexeddb'` (browsers; see `cacheName`, `cacheMaxBytes`), a ClientCache, or any Store used as
   * a key-value store (e.g. `await openLevelStore(path)` in Node; the caller closes it).
   */
  cache?: 'memory' | 'indexeddb' | ClientCache | Store
  /** IndexedDB database name for `cache: 'indexeddb'`. Default `statecraft-cache`. */
  cacheName?: string
  /** Size cap of the IndexedDB cache (LRU eviction of clean docs). Default 50 MB. */
  cacheMaxBytes?: number
  /** The IDBFactory for `cache: 'indexeddb'` (tests: fake-indexeddb's). */
  indexedDB?: IDBFactory
  /** Called before each connection; its token goes in the hello. */
  auth?: () => string | Promise<string>
  /** The id this client's writes carry with their seqs (default: a new random id per client). */
  clientId?: string
  /**
   * Compose a write into the previous unsent one on the same key (default true): fewer, larger
   * batches. False keeps one outbox entry (and one server txn) per write.
   */
  compose?: boolean
  /** Start offline (call `goOnline()` later). */
  offline?: boolean
  encoding?: Encoding
  /** How long to wait for the server's welcome on each connection attempt. Default 10 s. */
  helloTimeoutMs?: number
  reconnect?: Backoff
  WebSocket?: WebSocketConstructor
  /** Failed writes and connection problems. Default: console.warn. */
  log?: (message: string) => void
  /** Every write the server refused (its promise rejects too). */
  onError?: (err: StatecraftError, key: Key) => void
}

export interface ClientStatus {
  online: boolean
  /** Outbox entries not yet part of the server state. */
  pending: number
  /** The highest versions seen from the server. */
  synced: Versions
  /** Where the cache lives (`memory`, `indexeddb:<name>`, …), once it is open. */
  cache: string | undefined
}

interface Session {
  remote: Remote
  alive: boolean
  /** Each live doc's current subscription. */
  subs: Map<Key, DocSub>
  ended: Promise<void>
}

/** A live doc's subscription in a session: closing it ends that round of the doc's loop (see docSubRound). */
interface DocSub {
  close(): void
}

const META_CLIENT = 'c'
const META_SEQ = 's'
/** Writes composed into one outbox entry at most: a long offline session becomes several entries. */
const MAX_ENTRY_WRITES = 4096
/** An entry that cannot be sent yet (offline, or one in flight before it) is persisted within this. */
const ENTRY_DELAY_MS = 50
/** A doc's server state is written to the cache at most this long after it changed … */
const DOC_DELAY_MS = 1000
/** … or once this many finished entries wait for it (they stay in the cache until then). */
const MAX_DEFERRED_REMOVALS = 64

/** `maxVersions(a, b)`, but `b` itself when it is at or above `a` everywhere (the usual case: no copy). */
function later(a: Versions, b: Versions): Versions {
  for (const k in a) if ((b[k] ?? -1) < (a[k] as number)) return maxVersions(a, b)
  return b
}

/** A timer that does not keep Node alive. */
function timer(ms: number, fn: () => void): ReturnType<typeof setTimeout> {
  const t = setTimeout(fn, ms)
  ;(t as { unref?: () => void }).unref?.()
  return t
}

export class StatecraftClient {
  readonly clientId: string
  readonly docs = new Map<Key, DocState>()
  /** Outbox entries in send order. */
  private entries: PendingEntry[] = []
  private nextOrder = 1
  private nextSeq = 1
  private cache: ClientCache | undefined
  private cacheKind: string | undefined
  readonly cacheReady: Promise<void>
  private session: Session | undefined
  private wantOnline: boolean
  private loop: Promise<void> | undefined
  private wake: (() => void) | undefined
  private isClosed = false
  private readonly dial: Dial
  private readonly log: (m: string) => void
  private synced: Versions = {}
  private readonly statusListeners = new Set<(key: Key | undefined) => void>()
  private syncWaiters: { resolve: () => void; reject: (e: unknown) => void }[] = []
  private readonly queries = new Set<QueryHandle>()
  /**
   * Live docs that may not be synced (subscription not caught up, an update waiting, a resync due):
   * every one that is not is in here, so `isSynced` looks at these only, not at every doc. A doc
   * leaves when `isSynced` finds it synced, and comes back by `behind` when that may change.
   */
  private readonly maybeBehind = new Set<DocState>()
  // cache writing (see flushLoop)
  /** Docs whose server state is newer than their cached snapshot: written lazily. */
  private dirtyDocs = new Set<Key>()
  private dirtyEntries = new Set<PendingEntry>()
  private removedOrders = new Set<number>()
  private seqDirty = false
  private flushing: Promise<void> | undefined
  /** The dirty docs are to be written by the next flush. */
  private docsDue = false
  private docTimer: ReturnType<typeof setTimeout> | undefined
  private entryTimer: ReturnType<typeof setTimeout> | undefined
  private deferredRemovals = 0
  /** A pump is due at the end of this turn. */
  private pumpQueued = false

  constructor(private readonly opts: ClientOptions) {
    const target = opts.dial ?? opts.url
    if (target === undefined) throw new StatecraftError('invalid', 'createClient needs a url or a dial')
    this.dial = typeof target === 'string' ? () => dialWebSocket(target, opts.WebSocket) : target
    this.clientId = opts.clientId ?? randomId()
    this.log = opts.log ?? (m => console.warn(`statecraft client: ${m}`))
    this.wantOnline = opts.offline !== true
    this.cacheReady = this.openCache()
    this.cacheReady.catch(() => {})
    if (this.wantOnline) this.startLoop()
  }

  // ---- cache

  private async openCache(): Promise<void> {
    const c = this.opts.cache ?? 'memory'
    let cache: ClientCache
    if (c === 'memory') cache = memoryCache()
    else if (c === 'indexeddb') {
      const name = this.opts.cacheName ?? 'statecraft-cache'
      try {
        cache = await idbCache(name, {
          ...(this.opts.cacheMaxBytes === undefined ? {} : { maxBytes: this.opts.cacheMaxBytes }),
          ...(this.opts.indexedDB === undefined ? {} : { indexedDB: this.opts.indexedDB }),
        })
      } catch (e) {
        if (!hasCode(e, 'conflict')) throw e
        // Another tab holds the cache (its Web Lock): run on memory, so the two never share an outbox.
        this.log(`the IndexedDB cache ${name} is open in another tab; this client keeps its data in memory only`)
        cache = memoryCache()
      }
    } else if (isStore(c)) cache = storeCache(c)
    else cache = c
    if (this.isClosed) {
      await cache.close()
      return
    }
    this.cache = cache
    this.cacheKind = cache.kind
    const loaded = await cache.load()
    this.nextSeq = Math.max(this.nextSeq, loaded.seqs.get(this.clientId) ?? 1)
    for (const e of loaded.entries) {
      this.nextOrder = Math.max(this.nextOrder, e.order + 1)
      if (e.clientId === this.clientId) this.nextSeq = Math.max(this.nextSeq, e.seq + 1)
    }
    // Entries made before the cache opened get their order and seq when first persisted (after these).
    for (const [key, d] of loaded.docs) {
      // Cached docs are held, not subscribed: a doc goes live when the app opens or writes it.
      const doc = this.docFor(key, false)
      if (doc.known) continue
      doc.server = d.value
      doc.versions = d.versions
      doc.fromCache = true
    }
    const restored: PendingEntry[] = loaded.entries.map(e => this.restoreEntry(e))
    this.entries = [...restored, ...this.entries]
    for (const key of new Set(restored.flatMap(e => [...e.txn.keys()]))) {
      const doc = this.docFor(key)
      doc.pending = [...restored.filter(e => e.txn.has(key)), ...doc.pending]
    }
    for (const doc of this.docs.values()) {
      doc.recompute()
      doc.notify(undefined)
    }
    if (this.entries.some(e => e.order === 0)) this.scheduleFlush()
    this.emitStatus()
    this.pump()
  }

  private restoreEntry(c: CachedEntry): PendingEntry {
    return {
      order: c.order, clientId: c.clientId, seq: c.seq, txn: c.txn,
      // It may have been sent before the reload: never compose into it, and wait for its fate.
      parts: [], writes: 1,
      sent: true, inflight: false, acked: undefined, maybeIn: undefined, folded: new Set(), stuckAt: c.stuckAt,
      userRev: 1, persistedRev: 1, deferred: undefined, settled: false,
    }
  }

  private scheduleFlush(): void {
    if (this.flushing !== undefined || this.isClosed) return
    this.flushing = this.flushLoop().finally(() => {
      this.flushing = undefined
      // Something may have been marked dirty after the loop's last check.
      if (this.isDirty() && this.cache !== undefined) this.scheduleFlush()
    })
  }

  /** Outbox entries to persist, but not needed at once (they cannot be sent yet): within ENTRY_DELAY_MS. */
  private flushSoon(): void {
    if (this.entryTimer !== undefined || this.isClosed) return
    this.entryTimer = timer(ENTRY_DELAY_MS, () => {
      this.entryTimer = undefined
      this.scheduleFlush()
    })
  }

  /** The server state of `doc` changed (`foreign`: not by its own ops coming back): cache it lazily. */
  private docChanged(doc: DocState, foreign: boolean): void {
    if (foreign) doc.cacheForeign = true
    this.dirtyDocs.add(doc.key)
    if (this.deferredRemovals > MAX_DEFERRED_REMOVALS) {
      this.docsDue = true
      this.scheduleFlush()
    } else if (this.docTimer === undefined && !this.isClosed) {
      this.docTimer = timer(DOC_DELAY_MS, () => {
        this.docTimer = undefined
        this.docsDue = true
        this.scheduleFlush()
      })
    }
  }

  private isDirty(): boolean {
    return this.dirtyEntries.size > 0 || this.removedOrders.size > 0 || this.seqDirty || (this.docsDue && this.dirtyDocs.size > 0)
  }

  private async flushLoop(): Promise<void> {
    try {
      await this.cacheReady
    } catch (e) {
      this.log(`the cache could not be opened: ${String(e)}`)
      return
    }
    const cache = this.cache
    if (cache === undefined) return
    // What is in the cache, per key, is always consistent: a doc's snapshot (value and the versions
    // it is at, taken together) and the outbox entries on it, whose ops apply to that snapshot in
    // order. Outbox entries are written promptly (an entry is sent only once durable); snapshots
    // lazily (DOC_DELAY_MS), except together with entries that would not fit the cached snapshot:
    //  - the doc's own ops coming back change the server state without changing later entries, and
    //    a finished entry stays in the cache until a snapshot holding its op is written (same
    //    commit). After a crash the client holds the older snapshot with that entry still pending
    //    (sent, fate unknown); the server's stream from the older version brings the op back with
    //    its {clientId, seq}, which folds the entry (a re-send is answered by the exactly-once
    //    check), so nothing is lost or applied twice;
    //  - a remote op or snapshot (`cacheForeign`) transforms the pending entries: those are written
    //    with a new snapshot in one commit, or not at all (the old pair stays consistent).
    while (this.isDirty()) {
      const w: CacheWrite = { docs: new Map(), entries: new Map(), seqs: new Map() }
      const docKeys = new Set<Key>()
      if (this.docsDue) for (const k of this.dirtyDocs) docKeys.add(k)
      this.docsDue = false
      for (const e of this.dirtyEntries) for (const k of e.txn.keys()) if (this.docs.get(k)?.cacheForeign === true) docKeys.add(k)
      const written: DocState[] = []
      for (const key of docKeys) {
        const d = this.docs.get(key)
        if (d === undefined) continue
        this.dirtyDocs.delete(key)
        if (d.versions !== undefined) w.docs.set(key, { value: d.server, versions: d.versions })
        d.cacheForeign = false
        for (const o of d.cacheRemovals) this.removedOrders.add(o)
        this.deferredRemovals -= d.cacheRemovals.length
        d.cacheRemovals = []
        written.push(d)
      }
      const revs = new Map<PendingEntry, number>()
      for (const e of this.dirtyEntries) {
        if (e.settled) continue
        settle(e)
        if (e.order === 0) {
          e.order = this.nextOrder++
          e.seq = this.nextSeq++
          this.seqDirty = true
        }
        const c: CachedEntry = { order: e.order, clientId: e.clientId, seq: e.seq, txn: new Map(e.txn) }
        if (e.stuckAt !== undefined) c.stuckAt = e.stuckAt
        w.entries.set(e.order, c)
        revs.set(e, e.userRev)
      }
      for (const o of this.removedOrders) if (!w.entries.has(o)) w.entries.set(o, null)
      if (this.seqDirty) w.seqs.set(this.clientId, this.nextSeq)
      this.dirtyEntries.clear()
      this.removedOrders.clear()
      this.seqDirty = false
      try {
        // A cache that commits synchronously (memory) is durable at once: no turn is waited for.
        if (isSyncCache(cache)) cache.commitNow(w)
        else await cache.commit(w)
      } catch (e) {
        // Nothing of this batch is durable: mark it all dirty again and retry shortly.
        this.log(`writing the cache failed: ${e instanceof Error ? e.message : String(e)}`)
        for (const d of written) {
          this.dirtyDocs.add(d.key)
          d.cacheForeign = true
        }
        this.docsDue = written.length > 0 || this.docsDue
        for (const e2 of revs.keys()) this.dirtyEntries.add(e2)
        for (const [o, v] of w.entries) if (v === null) this.removedOrders.add(o)
        this.seqDirty = true
        if (this.isClosed) return
        await new Promise(r => setTimeout(r, 200))
        continue
      }
      for (const [e, rev] of revs) e.persistedRev = Math.max(e.persistedRev, rev)
      // What this commit made durable may go now (not at the end of the turn: a write's latency).
      if (revs.size > 0) this.pumpNow()
      else this.pump()
      if (cache.afterCommit !== undefined) {
        try {
          await cache.afterCommit(k => this.isPinned(k))
        } catch (e) {
          this.log(`cache eviction failed: ${e instanceof Error ? e.message : String(e)}`)
        }
      }
    }
  }

  private isPinned(key: Key): boolean {
    const d = this.docs.get(key)
    return d !== undefined && (d.pending.length > 0 || d.listeners.size > 0 || d.cacheRemovals.length > 0)
  }

  /** Resolves once every local write made so far is durably in the cache (a reload or crash then loses nothing). */
  async whenPersisted(): Promise<void> {
    await this.cacheReady
    this.docsDue = true
    for (;;) {
      if (this.flushing !== undefined) await this.flushing
      else if (this.isDirty()) this.scheduleFlush()
      else return
    }
  }

  /** Removes cached docs that have no pending writes (e.g. on logout). The outbox stays. */
  async clearCache(): Promise<void> {
    await this.whenPersisted()
    await this.cache?.clear(k => (this.docs.get(k)?.pending.length ?? 0) > 0)
  }

  // ---- connection

  get online(): boolean {
    return this.wantOnline && this.session?.alive === true
  }

  goOffline(): void {
    this.wantOnline = false
    const s = this.session
    if (s !== undefined) void s.remote.close()
    this.emitStatus()
  }

  goOnline(): void {
    if (this.isClosed) return
    this.wantOnline = true
    this.wake?.()
    this.startLoop()
  }

  private startLoop(): void {
    if (this.loop !== undefined) return
    this.loop = this.connectionLoop().finally(() => {
      this.loop = undefined
      if (this.wantOnline && !this.isClosed) this.startLoop()
    })
  }

  private async connectionLoop(): Promise<void> {
    try {
      await this.cacheReady
    } catch (e) {
      this.log(`the cache could not be opened (${String(e)}); running without one`)
    }
    let attempt = 0
    while (this.wantOnline && !this.isClosed) {
      const remote = new Remote(this.dial, {
        reconnect: false,
        log: this.log,
        ...(this.opts.auth === undefined ? {} : { auth: this.opts.auth }),
        ...(this.opts.encoding === undefined ? {} : { encoding: this.opts.encoding }),
        ...(this.opts.helloTimeoutMs === undefined ? {} : { helloTimeoutMs: this.opts.helloTimeoutMs }),
      })
      try {
        await remote.start()
      } catch (e) {
        if (hasCode(e, 'unauthorized', 'forbidden', 'unsupported')) this.log(`cannot connect: ${e.code}: ${e.message}`)
        await this.sleep(backoffDelay(attempt++, this.opts.reconnect))
        continue
      }
      if (!this.wantOnline || this.isClosed) {
        await remote.close()
        return
      }
      attempt = 0
      await this.runSession(remote)
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise(resolve => {
      const t = setTimeout(done, ms)
      function done(): void {
        clearTimeout(t)
        resolve()
      }
      this.wake = done
    })
  }

  private async runSession(remote: Remote): Promise<void> {
    const s: Session = { remote, alive: true, subs: new Map(), ended: Promise.resolve() }
    this.session = s
    for (const doc of this.docs.values()) if (doc.live) this.startDocSub(s, doc)
    for (const q of this.queries) q.start(remote)
    this.pump()
    this.emitStatus()
    // The remote store ends exactly when its connection does (reconnect: false), or on close().
    await remote.whenClosed()
    s.alive = false
    this.session = undefined
    await remote.close()
    for (const e of this.entries) e.inflight = false
    for (const doc of this.docs.values()) this.behind(doc).caughtUp = false
    for (const q of this.queries) q.stop()
    this.emitStatus()
  }

  private startDocSub(s: Session, doc: DocState): void {
    if (s.subs.has(doc.key)) return
    void this.docSubLoop(s, doc)
  }

  private async docSubLoop(s: Session, doc: DocState): Promise<void> {
    let from = doc.resync ? undefined : (doc.versions ?? this.fromZero(s, doc))
    while (s.alive && !this.isClosed) {
      doc.resync = false
      this.behind(doc).caughtUp = false
      try {
        await this.docSubRound(s, doc, s.remote.subscribe(keys(doc.key), from === undefined ? {} : { fromVersion: from }))
        if (doc.resync && s.alive) {
          from = undefined
          continue
        }
        break
      } catch (e) {
        if (hasCode(e, 'version-too-old') && s.alive) {
          from = undefined
          continue
        }
        if (s.alive && !hasCode(e, 'closed')) this.log(`subscription to ${JSON.stringify(doc.key)} failed: ${String(e)}`)
        break
      }
    }
    this.behind(doc).caughtUp = false
    if (s.subs.get(doc.key) !== undefined) s.subs.delete(doc.key)
  }

  /**
   * One subscription of `doc`, its updates processed in order as they come: pushed synchronously
   * (core's `listen`: no promise per update) when the subscription can, else read from its
   * iterator. Resolves when it ends plainly, is closed (`requestResync`) or is left (stale, or a
   * processing error: `doc.resync`); rejects with the error it ended with.
   */
  private docSubRound(s: Session, doc: DocState, sub: Subscription): Promise<void> {
    return new Promise((resolve, reject) => {
      let over = false
      const end = (err: unknown): void => {
        if (over) return
        over = true
        if (err === undefined) resolve()
        else reject(err)
      }
      // Closing it ends the round at once (a listened subscription does not report its consumer's close).
      const handle: DocSub = {
        close: () => {
          sub.close()
          end(undefined)
        },
      }
      s.subs.set(doc.key, handle)
      const pushed = listen(sub, {
        update: u => {
          if (!over && !this.docUpdate(s, doc, handle, u)) handle.close()
        },
        end,
      })
      if (pushed) return
      void (async () => {
        try {
          for await (const u of sub) if (over || !this.docUpdate(s, doc, handle, u)) break
          end(undefined)
        } catch (e) {
          end(e)
        }
      })()
    })
  }

  /** An update of `doc`'s subscription `handle`: false when the subscription is to be left. */
  private docUpdate(s: Session, doc: DocState, handle: DocSub, u: Update): boolean {
    // Updates queued before this connection or subscription ended are stale: a newer one resumes.
    if (!s.alive || s.subs.get(doc.key) !== handle) return false
    doc.inbox.push(u)
    try {
      this.processInbox(doc)
    } catch (e) {
      // The server state we hold no longer takes the server's ops (a bug, or a corrupt cache):
      // start over from a snapshot rather than show a wrong value.
      this.log(`resyncing ${JSON.stringify(doc.key)}: ${e instanceof Error ? e.message : String(e)}`)
      doc.inbox = []
      this.behind(doc).resync = true
      return false
    }
    return true
  }

  /**
   * For a doc never known that has writes whose fate is unknown (sent before a reload): resume from
   * version 0, when every key is absent, so those writes show up in the stream by their seq rather
   * than hidden inside a snapshot.
   */
  private fromZero(s: Session, doc: DocState): Versions | undefined {
    const sources = s.remote.info.sources
    if (sources.length !== 1 || !doc.pending.some(e => e.sent && e.acked === undefined)) return undefined
    return { [sources[0] as string]: 0 }
  }

  private requestResync(doc: DocState): void {
    this.behind(doc).resync = true
    const s = this.session
    const sub = s?.subs.get(doc.key)
    if (sub !== undefined) sub.close()
  }

  // ---- incoming

  private processInbox(doc: DocState): void {
    // Called again while at it (a listener of the doc made the transport deliver at once): the
    // loop below takes what was added, after the update it is on.
    if (doc.processing) {
      this.behind(doc)
      return
    }
    let changed = false
    doc.processing = true
    try {
      while (doc.inbox.length > 0) {
        const u = doc.inbox[0] as Update
        // A snapshot's relation to a sent, unacknowledged write is unknown until the server answers it.
        if (u.replace !== undefined && doc.pending.some(e => e.inflight)) break
        doc.inbox.shift()
        this.applyUpdate(doc, u)
        changed = true
      }
    } finally {
      doc.processing = false
    }
    // A snapshot waits for the answer to a write in flight.
    if (doc.inbox.length > 0) this.behind(doc)
    if (changed) {
      this.docChanged(doc, false)
      this.pump()
      this.emitStatus(doc.key)
    }
  }

  private applyUpdate(doc: DocState, u: Update): void {
    const key = doc.key
    if (u.replace !== undefined) {
      // Acknowledged writes at or below the snapshot's versions are inside it.
      const inside = doc.pending.filter(e => e.acked !== undefined && versionsAtLeast(u.versions, e.acked))
      doc.pending = doc.pending.filter(e => !inside.includes(e))
      for (const e of inside) this.folded(e, key, e.acked ?? u.versions)
      // Writes sent on an earlier connection and not answered yet may or may not be inside the
      // snapshot; their acknowledgement tells (see onAck).
      for (const e of doc.pending) if (e.sent && e.acked === undefined) e.maybeIn = u.versions
      doc.replace(u.replace.get(key), u.versions)
      doc.cacheForeign = true
      for (const e of doc.pending) this.dirtyEntries.add(e)
      doc.notify(undefined)
    }
    for (const rec of u.txns) {
      const op = rec.txn.get(key)
      if (op === undefined) continue
      // Already part of the server state (a resumed subscription may repeat what we hold).
      if (u.replace === undefined && doc.versions !== undefined && versionsAtLeast(doc.versions, rec.versions)) continue
      const mine = this.ownEntry(doc, rec.meta)
      if (mine !== undefined) {
        doc.fold(mine, op, rec.versions)
        this.folded(mine, key, rec.versions)
        doc.notify(undefined)
      } else {
        const applied = doc.applyRemote(op, rec.versions)
        doc.cacheForeign = true
        for (const e of doc.pending) this.dirtyEntries.add(e)
        doc.notify(applied)
      }
    }
    doc.versions = doc.versions === undefined ? u.versions : later(doc.versions, u.versions)
    this.synced = later(this.synced, u.versions)
    if (u.caughtUp) doc.caughtUp = true
    if (doc.fromCache) {
      doc.fromCache = false
      doc.notify(undefined)
    }
  }

  private ownEntry(doc: DocState, meta: Record<string, unknown> | undefined): PendingEntry | undefined {
    if (meta === undefined || doc.pending.length === 0) return undefined
    const c = meta[META_CLIENT]
    const s = meta[META_SEQ]
    if (typeof c !== 'string' || typeof s !== 'number') return undefined
    return doc.pending.find(e => e.clientId === c && e.seq === s)
  }

  /** The op of `e` on `key` is part of the server state now. */
  private folded(e: PendingEntry, key: Key, versions: Versions): void {
    e.folded.add(key)
    for (const k of e.txn.keys()) if (!e.folded.has(k)) return
    this.finish(e, versions)
  }

  /** An entry is done (applied, or failed): resolve or reject its writes, drop it from the outbox. */
  private finish(e: PendingEntry, versions: Versions | undefined, err?: unknown): void {
    if (e.settled) return
    e.settled = true
    const i = this.entries[0] === e ? 0 : this.entries.indexOf(e)
    if (i >= 0) this.entries.splice(i, 1)
    this.dirtyEntries.delete(e)
    if (err !== undefined) e.deferred?.reject(err)
    else e.deferred?.resolve(e.acked ?? versions ?? {})
    if (e.order === 0) return
    // A failed entry's op is in no server state: it goes now (with the entries transformed over its
    // undo). A finished one's op is in the server state: it goes with the next snapshot of its doc
    // (entries are single-key: `write` makes them so).
    const doc = err === undefined ? this.docs.get(e.txn.keys().next().value as Key) : undefined
    if (doc === undefined) {
      this.removedOrders.add(e.order)
      this.scheduleFlush()
      return
    }
    doc.cacheRemovals.push(e.order)
    this.deferredRemovals++
    this.docChanged(doc, false)
  }

  // ---- outgoing

  /**
   * Sends every outbox entry that may go, at the end of this turn: the acks and updates of a burst
   * of writes (each of which may unblock the next entry on its key) walk the outbox once, not once
   * each.
   */
  pump(): void {
    if (this.pumpQueued || this.entries.length === 0) return
    this.pumpQueued = true
    queueMicrotask(() => {
      this.pumpQueued = false
      this.pumpNow()
    })
  }

  /** Sends every outbox entry that may go: durable, and no earlier entry on any of its keys unfinished. */
  private pumpNow(): void {
    const s = this.session
    if (s === undefined || !s.alive || this.entries.length === 0) return
    const busy = new Set<Key>()
    let unpersisted = false
    for (const e of this.entries) {
      if (e.settled) continue
      let blocked = false
      let resync = false
      for (const k of e.txn.keys()) {
        if (e.folded.has(k)) continue
        if (busy.has(k)) blocked = true
        else busy.add(k)
        if (this.docs.get(k)?.resync === true) resync = true
      }
      if (blocked || e.inflight || e.acked !== undefined || resync) continue
      if (e.persistedRev < e.userRev || e.order === 0) {
        unpersisted = true
        continue
      }
      this.send(s, e, [...e.txn.keys()].filter(k => !e.folded.has(k)))
    }
    // An entry could go but is not durable yet: persist it now.
    if (unpersisted) this.scheduleFlush()
  }

  private send(s: Session, e: PendingEntry, ks: Key[]): void {
    e.inflight = true
    e.sent = true
    settle(e)
    const txn = new Map<Key, Op>()
    for (const k of ks) txn.set(k, e.txn.get(k) as Op)
    const o: MutateOptions = { clientId: e.clientId, seq: e.seq, meta: { [META_CLIENT]: e.clientId, [META_SEQ]: e.seq } }
    const doc = ks.length === 1 ? this.docs.get(ks[0] as Key) : undefined
    let base = e.stuckAt ?? doc?.versions
    const sources = s.remote.info.sources
    if (base !== undefined && Object.keys(base).length === 0) base = sources.length === 1 ? { [sources[0] as string]: 0 } : undefined
    if (base === undefined && sources.length === 1 && [...txn.values()].some(isOTOp)) {
      // An edit of a doc never read is an edit of the empty doc: based on version 0, the server
      // transforms it over everything since (or says version-too-old, and it is rebased on a snapshot).
      base = { [sources[0] as string]: 0 }
    }
    if (base !== undefined) o.baseVersions = base
    s.remote.mutate(txn, o).then(
      v => this.onAck(e, v),
      (err: unknown) => this.onSendError(s, e, err),
    )
  }

  private onAck(e: PendingEntry, v: Versions): void {
    e.inflight = false
    if (e.settled) return
    e.acked = v
    if (e.maybeIn !== undefined && versionsAtLeast(e.maybeIn, v)) {
      // It was applied before a snapshot we rebased over: it is inside the server state already.
      for (const k of e.txn.keys()) {
        const doc = this.docs.get(k)
        if (doc === undefined) continue
        const i = doc.pending.indexOf(e)
        if (i >= 0) doc.pending.splice(i, 1)
        doc.recompute()
        doc.notify(undefined)
        this.folded(e, k, v)
      }
    }
    e.maybeIn = undefined
    e.deferred?.resolve(v)
    for (const k of e.txn.keys()) {
      const doc = this.docs.get(k)
      if (doc !== undefined) this.processInbox(doc)
    }
    this.pump()
    this.emitStatus()
  }

  private onSendError(s: Session, e: PendingEntry, err: unknown): void {
    e.inflight = false
    if (e.settled) return
    if (!s.alive || hasCode(err, 'closed')) return // sent again on the next connection, with the same seq
    if (hasCode(err, 'rate-limited')) {
      setTimeout(() => this.pump(), 100)
      return
    }
    if (hasCode(err, 'version-too-old') && e.stuckAt === undefined) {
      // Not applied (a refused write never is): rebase over a fresh snapshot, then send again.
      e.sent = false
      for (const k of e.txn.keys()) {
        const doc = this.docs.get(k)
        if (doc !== undefined) this.requestResync(doc)
      }
      return
    }
    const se = hasCode(err, 'version-too-old')
      ? new StatecraftError('conflict', `the doc changed under a write that could not be rebased: ${err.message}`)
      : StatecraftError.from(err)
    this.fail(e, se)
  }

  /** The server refused `e`: it is removed, the local state rolls back, its promise rejects. */
  private fail(e: PendingEntry, err: StatecraftError): void {
    for (const k of e.txn.keys()) {
      const doc = this.docs.get(k)
      if (doc === undefined) continue
      doc.drop(e)
      for (const p of doc.pending) this.dirtyEntries.add(p)
      doc.notify(undefined)
      this.opts.onError?.(err, k)
      if (this.opts.onError === undefined) this.log(`a write to ${JSON.stringify(k)} was refused: ${err.code}: ${err.message}`)
    }
    this.finish(e, undefined, err)
    for (const k of e.txn.keys()) {
      const doc = this.docs.get(k)
      if (doc !== undefined) this.processInbox(doc)
    }
    this.pump()
    this.emitStatus()
  }

  // ---- writes

  /** The state of `key`; `live` (default) keeps it subscribed from now on. */
  docFor(key: Key, live = true): DocState {
    let d = this.docs.get(key)
    if (d === undefined) {
      d = new DocState(key)
      this.docs.set(key, d)
    }
    if (live) this.cache?.touch?.([key])
    if (live && !d.live) {
      this.behind(d).live = true
      const s = this.session
      if (s !== undefined && s.alive) this.startDocSub(s, d)
    }
    return d
  }

  /**
   * @internal A live query saw `key` at `versions` (undefined value = deleted): keep it as the doc's
   * server state and in the cache, so the query's rows show after a reload while offline. A doc
   * with its own subscription or pending writes is left alone: its own stream is authoritative.
   */
  learnFromQuery(key: Key, value: Value | undefined, versions: Versions): void {
    const d = this.docFor(key, false)
    if (d.live || d.pending.length > 0) return
    const source = Object.keys(versions)[0]
    if (source === undefined) return
    const have = d.versions?.[source]
    const got = versions[source] as number
    if (have !== undefined && have >= got) return
    d.server = value
    d.versions = versions
    d.fromCache = false
    d.recompute()
    if (this.cache !== undefined) this.docChanged(d, true)
  }

  /**
   * A local write: applies at once (subscribers see it, pending), then waits in the outbox. Resolves
   * with the versions the server applied it at; rejects (rolled back) when the server refuses it.
   */
  write(key: Key, op: Op): Promise<Versions> {
    if (this.isClosed) return Promise.reject(new StatecraftError('closed', 'the client is closed'))
    let doc = this.docs.get(key)
    if (doc === undefined || !doc.live) doc = this.docFor(key)
    try {
      doc.applyLocal(op)
    } catch (e) {
      return Promise.reject(e)
    }
    const last = doc.pending[doc.pending.length - 1]
    let e = last !== undefined && this.composeInto(last, key, op) ? last : undefined
    if (e === undefined) {
      e = {
        order: 0, clientId: this.clientId, seq: 0, txn: new Map<Key, Op>().set(key, op), parts: [], writes: 1,
        sent: false, inflight: false, acked: undefined, maybeIn: undefined, folded: new Set(), stuckAt: undefined,
        userRev: 1, persistedRev: 0, deferred: undefined, settled: false,
      }
      this.entries.push(e)
      doc.pending.push(e)
    }
    this.dirtyEntries.add(e)
    // Persisted at once when it can be sent at once; else soon (the ack of the one ahead sends it).
    if (doc.pending[0] === e && this.session?.alive === true) this.scheduleFlush()
    else this.flushSoon()
    doc.notify(op)
    // A new entry changes the status (pending); one joining an entry does not, and only the live
    // queries that match the key show it (their rows lay pending writes over the server's).
    if (e !== last) this.emitStatus(key)
    else for (const q of this.queries) q.localWrite(key)
    // Every write composed into one entry shares its promise: they are acknowledged together.
    return (e.deferred ??= deferred()).promise
  }

  /** Adds `op` to `e` when `e` is unsent and may take it (same OT type, or a set/del); false if not. */
  private composeInto(e: PendingEntry, key: Key, op: Op): boolean {
    if (this.opts.compose === false || e.sent || e.inflight || e.txn.size !== 1 || e.stuckAt !== undefined || e.writes >= MAX_ENTRY_WRITES) return false
    const head = e.txn.get(key)
    if (head === undefined) return false
    const replaces = head.type === 'set' || head.type === 'del'
    if (op.type === 'set' || op.type === 'del') {
      e.txn.set(key, op)
      e.parts = []
    } else if (head.type === op.type || (replaces && (e.parts[0] ?? op).type === op.type)) {
      // Composed lazily (settle); after a set/del the parts compose into a set of the new value.
      e.parts.push(op)
    } else return false
    e.writes++
    e.userRev++
    return true
  }

  /** The current local value of a key (server state + pending writes). */
  valueOf(key: Key): Value | undefined {
    return this.docs.get(key)?.local
  }

  /** Resolves once the doc is known (from the cache or the server), or at once when offline. */
  async whenKnown(key: Key): Promise<DocState> {
    const doc = this.docFor(key)
    await this.cacheReady.catch(() => {})
    if (doc.known && (doc.caughtUp || !this.online)) return doc
    if (!this.wantOnline) return doc
    await new Promise<void>(resolve => {
      const check = (): void => {
        if (doc.caughtUp || this.isClosed || !this.wantOnline) {
          doc.listeners.delete(check)
          this.statusListeners.delete(check)
          resolve()
        }
      }
      doc.listeners.add(check)
      this.statusListeners.add(check)
      check()
    })
    return doc
  }

  // ---- handles

  doc<T = Value>(key: Key): DocHandle<T> {
    return new DocHandle<T>(this, key)
  }

  text(key: Key): TextHandle {
    return new TextHandle(this, key)
  }

  query(query: Query): QueryHandle {
    return new QueryHandle(this, query)
  }

  /** @internal */
  addQuery(q: QueryHandle): void {
    this.queries.add(q)
    const s = this.session
    if (s !== undefined && s.alive) q.start(s.remote)
  }

  /** @internal */
  removeQuery(q: QueryHandle): void {
    this.queries.delete(q)
    q.stop()
  }

  /** The connected remote store, waiting for a connection (and going online) if need be. */
  async remote(): Promise<Remote> {
    for (;;) {
      if (this.isClosed) throw new StatecraftError('closed', 'the client is closed')
      const s = this.session
      if (s !== undefined && s.alive) return s.remote
      await new Promise<void>(resolve => {
        const l = (): void => {
          if (this.online || this.isClosed) {
            this.statusListeners.delete(l)
            resolve()
          }
        }
        this.statusListeners.add(l)
      })
    }
  }

  // ---- presence

  private readonly rooms = new Map<string, ClientPresence>()

  /**
   * This client's presence in `room` (see the remote store's `presence`), kept across connections:
   * joined on each new one with the last state set. The same object until it is left.
   */
  presence(room: string): Presence {
    if (this.isClosed) throw new StatecraftError('closed', 'the client is closed')
    checkRoom(room)
    let r = this.rooms.get(room)
    if (r === undefined) {
      r = new ClientPresence(room, {
        currentRemote: () => (this.session?.alive === true ? this.session.remote : undefined),
        statusListen: fn => this.statusListen(fn),
        forgetRoom: p => {
          if (this.rooms.get(p.room) === p) this.rooms.delete(p.room)
        },
      })
      this.rooms.set(room, r)
    }
    return r
  }

  /** Allocates a seq for a write sent outside the outbox (transactions). */
  async allocSeq(): Promise<number> {
    await this.cacheReady.catch(() => {})
    const s = this.nextSeq++
    this.seqDirty = true
    this.scheduleFlush()
    return s
  }

  transaction<T>(fn: (tx: Transaction) => Promise<T> | T, opts: TransactionOptions = {}): Promise<T> {
    return runTransaction(this, fn, opts)
  }

  // ---- status

  /** @internal Calls `fn` on every status change (writes, updates, connection), with the key of the one doc it came from, if so. */
  statusListen(fn: (key: Key | undefined) => void): () => void {
    this.statusListeners.add(fn)
    return () => {
      this.statusListeners.delete(fn)
    }
  }

  get status(): ClientStatus & { subscribe(fn: (s: ClientStatus) => void): () => void } {
    const s = this.statusNow()
    return {
      ...s,
      subscribe: (fn: (s: ClientStatus) => void) => {
        const l = (): void => fn(this.statusNow())
        this.statusListeners.add(l)
        l()
        return () => {
          this.statusListeners.delete(l)
        }
      },
    }
  }

  private statusNow(): ClientStatus {
    return { online: this.online, pending: this.entries.length, synced: { ...this.synced }, cache: this.cacheKind }
  }

  /** `doc` may stop being synced (see `maybeBehind`): returns it. */
  private behind(doc: DocState): DocState {
    this.maybeBehind.add(doc)
    return doc
  }

  /** Amortized O(1) in the docs (each leaves `maybeBehind` once per time it came in), O(live queries). */
  private isSynced(): boolean {
    if (!this.online || this.entries.length > 0) return false
    for (const d of this.maybeBehind) {
      if (d.live && (!d.caughtUp || d.inbox.length > 0 || d.resync)) return false
      this.maybeBehind.delete(d)
    }
    for (const q of this.queries) if (!q.caughtUp) return false
    return true
  }

  /**
   * @internal The status changed. `key`: by a change of that doc alone (an update received, a
   * write); listeners that follow docs (live queries' rows) may look at it only.
   */
  emitStatus(key?: Key): void {
    for (const l of this.statusListeners) l(key)
    if (this.syncWaiters.length > 0 && this.isSynced()) {
      const ws = this.syncWaiters
      this.syncWaiters = []
      for (const w of ws) w.resolve()
    }
  }

  /** Resolves when the outbox is empty and every subscription has caught up (going online is up to you). */
  whenSynced(): Promise<void> {
    if (this.isClosed) return Promise.reject(new StatecraftError('closed', 'the client is closed'))
    if (this.isSynced()) return Promise.resolve()
    return new Promise((resolve, reject) => this.syncWaiters.push({ resolve, reject }))
  }

  async close(): Promise<void> {
    if (this.isClosed) return
    this.wantOnline = false
    const s = this.session
    if (s !== undefined) await s.remote.close()
    this.wake?.()
    await this.loop
    await this.cacheReady.catch(() => {})
    // A clean shutdown writes the docs' snapshots too (after a crash, the older ones do: see flushLoop).
    if (this.docTimer !== undefined) clearTimeout(this.docTimer)
    if (this.entryTimer !== undefined) clearTimeout(this.entryTimer)
    this.docTimer = this.entryTimer = undefined
    this.docsDue = true
    if (this.isDirty() && this.cache !== undefined) this.scheduleFlush()
    while (this.flushing !== undefined) await this.flushing
    this.isClosed = true
    for (const r of this.rooms.values()) r.close() // each removes itself: Map iteration allows it
    for (const e of this.entries) {
      // Durable ones stay in the cache for the next client; their promises end here (an acknowledged one's stays resolved).
      e.deferred?.reject(new StatecraftError('closed', 'the client closed before the server acknowledged this write'))
    }
    for (const w of this.syncWaiters) w.reject(new StatecraftError('closed', 'the client is closed'))
    this.syncWaiters = []
    await this.cache?.close()
  }
}

/** Creates a client. Synchronous: it opens its cache and connects in the background, and works offline from the start. */
export function createClient(opts: ClientOptions): StatecraftClient {
  return new StatecraftClient(opts)
}
