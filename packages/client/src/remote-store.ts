// The remote store: a Store whose every call goes to a Statecraft server over a Port. It reconnects
// with backoff, resubscribes each subscription from the last versions its reader saw, and re-sends
// unanswered requests; every write carries {clientId, seq}, so a re-sent one is applied once.
import {
  StatecraftError, checkMutateOptions, checkQuery, checkTxn, checkVersions, closedError, makeSubscription, randomId,
  type FetchOptions, type FetchResult, type Feed, type GetOpsOptions, type MutateOptions, type Query, type Store,
  type StoreInfo, type SubscribeOptions, type Subscription, type Txn, type TxnRecord, type Update, type Versions,
} from '@statecraft/core'
import {
  CAPABILITIES, PROTOCOL_VERSION, codecs, decodeServerFrame, fetchedFromWire, frameSize, recordFromWire, txnToWire,
  updateFromWire, type Codec, type Encoding, type Frame, type Limits, type Port, type ServerMessage, type UpdateMessage,
  type WelcomeMessage,
} from '@statecraft/protocol'
import { backoffDelay, type Backoff } from './backoff.ts'
import { PresenceRoom, checkRoom, type Presence, type PresenceLink } from './presence.ts'

/** Opens one connection to the server. Called again for every reconnect. */
export type Dial = () => Port | Promise<Port>

export interface RemoteStoreOptions {
  /** Called before each connection; its token goes in the hello. */
  auth?: () => string | Promise<string>
  /** Frame encoding: `msgpack` (default, faster) or `json` (readable, for debugging). */
  encoding?: Encoding
  /** Reconnect delays, or false to give up (failing every call with `closed`) when the connection drops. */
  reconnect?: Backoff | false
  /** How long to wait for the server's welcome. Default 10 s. */
  helloTimeoutMs?: number
  /** Where connection problems are reported. Default: console.warn. */
  log?: (message: string) => void
}

/** A Store on a server, with a view of its connection. */
export interface RemoteStore extends Store {
  /** The id this store's writes carry (with a seq each) for exactly-once. */
  readonly clientId: string
  readonly connected: boolean
  /** Resolves once a connection is open (at once when one is). Rejects with `closed` after close(). */
  whenConnected(): Promise<void>
  /** Drops the current connection; the store reconnects as after any network failure. */
  disconnect(): void
  /**
   * Resolves once the store has closed: with the error that ended it (with `reconnect: false`, a
   * lost connection ends it with `closed`), or undefined after `close()`. Never rejects.
   */
  whenClosed(): Promise<StatecraftError | undefined>
  /**
   * This client's presence in `room` (joined now, and again on every new connection), and the
   * other peers' states there. The same object until it is left. Throws `closed` after close().
   */
  presence(room: string): Presence
}

interface Pending {
  /** Encoded once, so the caller cannot change a write between sends. */
  frame: Frame
  resolve: (m: ServerMessage) => void
  reject: (e: StatecraftError) => void
  /** Sent on the current connection. */
  sent: boolean
}

interface RemoteSub {
  id: number
  query: Query
  feed: Feed
  /** The versions the reader has been given: where a resubscribe resumes. */
  last: Versions | undefined
  /** Something was pushed to the reader. */
  delivered: boolean
  /** Subscribed on the current connection. */
  active: boolean
  /** A source `last` had (a hint for `anySeen`: any value gives the same answer). */
  lastSource: string | undefined
  /** Resubscribes after a server drop (slow reader), for the backoff. */
  retries: number
  timer: ReturnType<typeof setTimeout> | undefined
}

interface Conn {
  port: Port
  limits: Limits
  inflight: number
  lastHeard: number
  watchdog: ReturnType<typeof setInterval> | undefined
}

/** Errors that another attempt with the same settings would only repeat. */
const FATAL = new Set(['unauthorized', 'forbidden', 'unsupported'])

/** Copies a query without undefined fields (MessagePack would send them as values). */
function cleanQuery(q: Query): Query {
  if (q.kind !== 'range') return q.kind === 'keys' ? { kind: 'keys', keys: q.keys } : { kind: 'native', backend: q.backend, query: q.query }
  return definedOnly({ kind: 'range', from: q.from, to: q.to, prefix: q.prefix, limit: q.limit, reverse: q.reverse }) as Query
}

function definedOnly<T extends object>(o: T): T {
  const out: Record<string, unknown> = {}
  for (const k of Object.keys(o)) {
    const v = (o as Record<string, unknown>)[k]
    if (v !== undefined) out[k] = v
  }
  return out as T
}

/** A txn record the reader has already seen: every version it carries is at or below `last`. */
function seen(rec: TxnRecord, last: Versions): boolean {
  const vs = rec.versions
  for (const src in vs) {
    const l = last[src]
    if (l === undefined || (vs[src] as number) > l) return false
  }
  return true
}

/**
 * Some record of `txns` is `seen` (a plain loop: this runs for every update). `src` is a source of
 * `last`: a record past it there is not seen, which settles the usual case without a walk.
 */
function anySeen(txns: TxnRecord[], last: Versions, src: string | undefined): boolean {
  for (const rec of txns) {
    if (src !== undefined) {
      const v = rec.versions[src]
      if (v !== undefined && v > (last[src] as number)) continue
    }
    if (seen(rec, last)) return true
  }
  return false
}

/** A source `vs` names (its first), or undefined. */
function firstSource(vs: Versions): string | undefined {
  for (const src in vs) return src
  return undefined
}

const isEmpty = (u: Update): boolean => u.replace === undefined && u.txns.length === 0 && (u.leave?.length ?? 0) === 0 && (u.enter?.size ?? 0) === 0

export class Remote implements RemoteStore {
  readonly clientId = randomId()
  private infoValue: StoreInfo | undefined
  private seq = 0
  private nextId = 1
  private conn: Conn | undefined
  private limits: Limits | undefined
  private readonly requests = new Map<number, Pending>()
  /** Ids of requests to send, in order (may hold ids already answered or sent: skipped). */
  private queue: number[] = []
  private qHead = 0
  private readonly subs = new Map<number, RemoteSub>()
  private isClosed = false
  private reconnecting = false
  private sleeping: { timer: ReturnType<typeof setTimeout>; wake: () => void } | undefined
  private waiters: { resolve: () => void; reject: (e: StatecraftError) => void }[] = []
  /** Set by closedPromise's executor just below (declared first, so that it is not reset after). */
  private onClosed: (e: StatecraftError | undefined) => void = () => {}
  /** Settles in shutdown: with the error the store ended with, or undefined after close(). */
  private readonly closedPromise = new Promise<StatecraftError | undefined>(r => (this.onClosed = r))
  /** Presence rooms by name. */
  private readonly rooms = new Map<string, PresenceRoom>()
  /** The server has presence (its welcome says so). */
  private hasPresence = false
  private readonly presenceLink: PresenceLink = {
    send: msg => {
      const c = this.conn
      if (c === undefined) return false
      c.port.send(this.codec.encode(msg))
      return true
    },
    nextId: () => this.nextId++,
    limits: () => this.limits,
    forget: room => {
      if (this.rooms.get(room.room) === room) this.rooms.delete(room.room)
    },
  }
  private readonly codec: Codec
  private readonly log: (message: string) => void

  constructor(
    private readonly dial: Dial,
    private readonly opts: RemoteStoreOptions = {},
  ) {
    this.codec = codecs[opts.encoding ?? 'msgpack']
    this.log = opts.log ?? (m => console.warn(`statecraft client: ${m}`))
  }

  get info(): StoreInfo {
    if (this.infoValue === undefined) throw new StatecraftError('closed', 'the remote store has not connected yet')
    return this.infoValue
  }

  get connected(): boolean {
    return this.conn !== undefined
  }

  /** Opens the first connection; rejects (closing the store) when it fails. */
  async start(): Promise<void> {
    try {
      await this.connectOnce()
    } catch (e) {
      const err = StatecraftError.from(e)
      this.fail(err)
      throw err
    }
  }

  whenClosed(): Promise<StatecraftError | undefined> {
    return this.closedPromise
  }

  whenConnected(): Promise<void> {
    if (this.isClosed) return Promise.reject(closedError())
    if (this.conn !== undefined) return Promise.resolve()
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }))
  }

  disconnect(): void {
    const c = this.conn
    if (c === undefined) return
    c.port.close(1000, 'disconnect')
    this.lost(c)
  }

  // ---- connection

  private async connectOnce(): Promise<void> {
    const port = await this.dial()
    if (this.isClosed) {
      port.close()
      throw closedError()
    }
    let token: string | undefined
    try {
      token = this.opts.auth === undefined ? undefined : await this.opts.auth()
    } catch (e) {
      port.close()
      throw new StatecraftError('unauthorized', `auth() failed: ${e instanceof Error ? e.message : String(e)}`)
    }
    await new Promise<void>((resolve, reject) => {
      const fail = (e: StatecraftError): void => {
        clearTimeout(timer)
        port.onframe = undefined
        port.onclose = undefined
        port.close()
        reject(e)
      }
      const timer = setTimeout(() => fail(new StatecraftError('closed', 'no welcome from the server in time')), this.opts.helloTimeoutMs ?? 10_000)
      port.onframe = f => {
        const p = decodeServerFrame(f)
        if (!p.ok) return fail(p.error)
        const m = p.msg
        if (m.type === 'error') return fail(StatecraftError.fromWire(m.error as Parameters<typeof StatecraftError.fromWire>[0]))
        if (m.type !== 'welcome') return
        clearTimeout(timer)
        if (this.isClosed) return fail(closedError())
        this.opened(port, m)
        resolve()
      }
      port.onclose = (code, reason) => {
        clearTimeout(timer)
        reject(new StatecraftError('closed', `the connection closed before the welcome (${code}${reason === '' ? '' : ' ' + reason})`))
      }
      // mutated-in-update: a write's reply may ride in the update that carries it (one frame, not two).
      const hello = {
        type: 'hello', protocol: PROTOCOL_VERSION, encoding: this.codec.encoding, capabilities: [CAPABILITIES.mutatedInUpdate], ...(token === undefined ? {} : { token }),
      }
      port.send(this.codec.encode(hello))
    })
  }

  private opened(port: Port, w: WelcomeMessage): void {
    const c: Conn = { port, limits: w.limits, inflight: 0, lastHeard: Date.now(), watchdog: undefined }
    this.conn = c
    this.limits = w.limits
    this.infoValue = w.info as StoreInfo
    port.onframe = f => this.onFrame(c, f)
    port.onclose = () => this.lost(c)
    if (w.heartbeatMs > 0) {
      // The server pings every heartbeatMs; hearing nothing for 2.5 of them means the link is dead.
      c.watchdog = setInterval(() => {
        if (Date.now() - c.lastHeard > 2.5 * w.heartbeatMs) {
          this.log('no frame from the server for 2.5 heartbeats; reconnecting')
          this.disconnect()
        }
      }, w.heartbeatMs)
    }
    this.hasPresence = w.capabilities.includes('presence')
    for (const s of this.subs.values()) this.sendSubscribe(c, s)
    for (const r of this.rooms.values()) r.connected(this.hasPresence)
    this.flush()
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w.resolve()
  }

  /** The connection `c` is gone: everything goes back to waiting for the next one. */
  private lost(c: Conn): void {
    if (this.conn !== c) return
    this.conn = undefined
    if (c.watchdog !== undefined) clearInterval(c.watchdog)
    c.port.onframe = undefined
    c.port.onclose = undefined
    for (const r of this.requests.values()) r.sent = false
    this.queue = [...this.requests.keys()]
    this.qHead = 0
    for (const s of this.subs.values()) {
      s.active = false
      if (s.timer !== undefined) clearTimeout(s.timer)
      s.timer = undefined
    }
    for (const r of this.rooms.values()) r.disconnected()
    if (!this.isClosed) void this.reconnect()
  }

  private async reconnect(): Promise<void> {
    if (this.reconnecting) return
    this.reconnecting = true
    try {
      for (let attempt = 0; !this.isClosed; attempt++) {
        if (this.opts.reconnect === false) {
          this.fail(new StatecraftError('closed', 'the connection to the server was lost'))
          return
        }
        await this.sleep(backoffDelay(attempt, this.opts.reconnect))
        if (this.isClosed) return
        try {
          await this.connectOnce()
        } catch (e) {
          const err = StatecraftError.from(e)
          if (FATAL.has(err.code)) {
            this.log(`reconnecting failed for good: ${err.code}: ${err.message}`)
            this.fail(err)
            return
          }
          continue
        }
        // Lost again before we got here: go round (its `lost` found us still reconnecting).
        if (this.conn !== undefined || this.isClosed) return
      }
    } finally {
      this.reconnecting = false
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise(resolve => {
      const wake = (): void => {
        this.sleeping = undefined
        resolve()
      }
      this.sleeping = { timer: setTimeout(wake, ms), wake }
    })
  }

  // ---- frames in

  private onFrame(c: Conn, f: Frame): void {
    if (this.conn !== c) return
    c.lastHeard = Date.now()
    const p = decodeServerFrame(f)
    if (!p.ok) {
      this.log(`dropped a bad frame from the server: ${p.error.message}`)
      return
    }
    const m = p.msg
    switch (m.type) {
      case 'fetched':
      case 'ops':
      case 'mutated':
        this.answer(c, m.id, m)
        return
      case 'update':
        this.onUpdate(m)
        // Replies to our writes that rode in it (mutated-in-update), after the update as the server means.
        if (m.mutated !== undefined) for (const a of m.mutated) this.answer(c, a.id, { type: 'mutated', id: a.id, versions: a.versions })
        return
      case 'presence':
        this.rooms.get(m.room)?.onSnapshot(m)
        return
      case 'presence-update':
        this.rooms.get(m.room)?.onUpdate(m)
        return
      case 'error':
        this.onError(c, m.id, StatecraftError.fromWire(m.error as Parameters<typeof StatecraftError.fromWire>[0]))
        return
      case 'ping':
        c.port.send(this.codec.encode(m.nonce === undefined ? { type: 'pong' } : { type: 'pong', nonce: m.nonce }))
        return
      case 'unsubscribed':
      case 'pong':
      case 'welcome':
        return
    }
  }

  private answer(c: Conn, id: number, m: ServerMessage): void {
    const r = this.requests.get(id)
    if (r === undefined || !r.sent) return
    this.requests.delete(id)
    c.inflight--
    r.resolve(m)
    this.flush()
  }

  private onError(c: Conn, id: number | undefined, err: StatecraftError): void {
    if (id === undefined) {
      this.log(`the server refused a frame: ${err.code}: ${err.message}`)
      return
    }
    const r = this.requests.get(id)
    if (r !== undefined) {
      if (!r.sent) return
      this.requests.delete(id)
      c.inflight--
      r.reject(err)
      this.flush()
      return
    }
    const s = this.subs.get(id)
    if (s !== undefined && s.active) {
      this.onSubError(c, s, err)
      return
    }
    for (const room of this.rooms.values()) {
      if (room.joinId === id) {
        room.onJoinError(err)
        return
      }
    }
  }

  private onUpdate(m: UpdateMessage): void {
    const s = this.subs.get(m.id)
    if (s === undefined || !s.active) return
    const u = updateFromWire(m)
    // After a resume, the server starts after `last`; drop anything at or below it all the same.
    const last = s.last
    if (last !== undefined && u.replace === undefined) {
      s.lastSource ??= firstSource(last)
      if (anySeen(u.txns, last, s.lastSource)) u.txns = u.txns.filter(rec => !seen(rec, last))
    }
    if (s.delivered && isEmpty(u)) {
      s.last = u.versions
      return
    }
    s.delivered = true
    s.retries = 0
    s.last = u.versions
    s.feed.push(u)
  }

  private onSubError(c: Conn, s: RemoteSub, err: StatecraftError): void {
    s.active = false
    if (err.code === 'rate-limited' && err.details?.reason === 'slow-reader') {
      // The server dropped it (we read too slowly): come back from where the reader is.
      s.timer = setTimeout(() => {
        s.timer = undefined
        if (this.conn === c && this.subs.get(s.id) === s) this.sendSubscribe(c, s)
      }, backoffDelay(s.retries++, { minDelayMs: 50, maxDelayMs: 5000 }))
      return
    }
    if (err.code === 'version-too-old' && s.delivered) {
      // Our resume point left the server's history: start over with the whole result set.
      s.last = undefined
      this.sendSubscribe(c, s)
      return
    }
    this.subs.delete(s.id)
    s.feed.end(err)
  }

  // ---- frames out

  private sendSubscribe(c: Conn, s: RemoteSub): void {
    const msg = { type: 'subscribe', id: s.id, query: s.query, ...(s.last === undefined ? {} : { fromVersion: s.last }) }
    s.active = true
    c.port.send(this.codec.encode(msg))
  }

  /** Sends queued requests, up to the server's in-flight limit. */
  private flush(): void {
    const c = this.conn
    if (c === undefined) return
    const max = Math.max(1, c.limits.maxInFlight)
    while (this.qHead < this.queue.length && c.inflight < max) {
      const id = this.queue[this.qHead++] as number
      const r = this.requests.get(id)
      if (r === undefined || r.sent) continue
      r.sent = true
      c.inflight++
      c.port.send(r.frame)
    }
    if (this.qHead > 1024 && this.qHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.qHead)
      this.qHead = 0
    }
  }

  private call(msg: (id: number) => object): Promise<ServerMessage> {
    if (this.isClosed) return Promise.reject(closedError())
    const id = this.nextId++
    const frame = this.codec.encode(msg(id))
    const max = this.limits?.maxFrameBytes
    if (max !== undefined && frameSize(frame) > max) {
      return Promise.reject(new StatecraftError('too-large', `the request is ${frameSize(frame)} bytes; the server takes at most ${max}`, { limit: max }))
    }
    return new Promise((resolve, reject) => {
      this.requests.set(id, { frame, resolve, reject, sent: false })
      this.queue.push(id)
      this.flush()
    })
  }

  private checkOpen(): void {
    if (this.isClosed) throw closedError()
  }

  // ---- Store

  async fetch(query: Query, o: FetchOptions = {}): Promise<FetchResult> {
    this.checkOpen()
    checkQuery(query)
    const m = await this.call(id => definedOnly({ type: 'fetch', id, query: cleanQuery(query), atVersion: o.atVersion, minVersion: o.minVersion }))
    if (m.type !== 'fetched') throw new StatecraftError('protocol', `expected fetched, got ${m.type}`)
    return fetchedFromWire(m)
  }

  async getOps(query: Query, from: Versions, to?: Versions, o: GetOpsOptions = {}): Promise<TxnRecord[]> {
    this.checkOpen()
    checkQuery(query)
    checkVersions(from, 'from')
    if (to !== undefined) checkVersions(to, 'to')
    const m = await this.call(id => definedOnly({ type: 'getOps', id, query: cleanQuery(query), from, to, limit: o.limit }))
    if (m.type !== 'ops') throw new StatecraftError('protocol', `expected ops, got ${m.type}`)
    return m.txns.map(recordFromWire)
  }

  async mutate(txn: Txn, o: MutateOptions = {}): Promise<Versions> {
    this.checkOpen()
    checkTxn(txn)
    checkMutateOptions(o)
    const opts: MutateOptions = definedOnly(o)
    if (opts.clientId === undefined && opts.seq === undefined) {
      opts.clientId = this.clientId
      opts.seq = ++this.seq
    }
    const m = await this.call(id => ({ type: 'mutate', id, txn: txnToWire(txn), ...opts }))
    if (m.type !== 'mutated') throw new StatecraftError('protocol', `expected mutated, got ${m.type}`)
    return m.versions
  }

  subscribe(query: Query, o: SubscribeOptions = {}): Subscription {
    const id = this.nextId++
    const { sub, feed } = makeSubscription(() => this.subClosed(id))
    try {
      this.checkOpen()
      checkQuery(query)
      if (o.fromVersion !== undefined) checkVersions(o.fromVersion, 'fromVersion')
    } catch (e) {
      feed.end(StatecraftError.from(e))
      return sub
    }
    const s: RemoteSub = { id, query: cleanQuery(query), feed, last: o.fromVersion, lastSource: undefined, delivered: false, active: false, retries: 0, timer: undefined }
    this.subs.set(id, s)
    if (this.conn !== undefined) this.sendSubscribe(this.conn, s)
    return sub
  }

  /** The reader closed subscription `id` (or we ended it, having removed it first). */
  private subClosed(id: number): void {
    const s = this.subs.get(id)
    if (s === undefined) return
    this.subs.delete(id)
    if (s.timer !== undefined) clearTimeout(s.timer)
    if (s.active && this.conn !== undefined) this.conn.port.send(this.codec.encode({ type: 'unsubscribe', id }))
  }

  // ---- presence

  presence(room: string): Presence {
    this.checkOpen()
    checkRoom(room)
    let r = this.rooms.get(room)
    if (r === undefined) {
      r = new PresenceRoom(room, this.presenceLink)
      this.rooms.set(room, r)
      if (this.conn !== undefined) r.connected(this.hasPresence)
    }
    return r
  }

  /** Ends everything with `err` and closes the store (a failure no reconnect will fix). */
  private fail(err: StatecraftError): void {
    if (this.isClosed) return
    this.shutdown(err)
  }

  async close(): Promise<void> {
    if (this.isClosed) return
    this.shutdown(undefined)
  }

  private shutdown(err: StatecraftError | undefined): void {
    this.isClosed = true
    if (this.sleeping !== undefined) {
      clearTimeout(this.sleeping.timer)
      this.sleeping.wake()
    }
    const c = this.conn
    this.conn = undefined
    if (c !== undefined) {
      if (c.watchdog !== undefined) clearInterval(c.watchdog)
      c.port.onframe = undefined
      c.port.onclose = undefined
      c.port.close(1000, 'client closed')
    }
    const requests = [...this.requests.values()]
    this.requests.clear()
    this.queue = []
    this.qHead = 0
    for (const r of requests) r.reject(err ?? closedError())
    const subs = [...this.subs.values()]
    this.subs.clear()
    for (const s of subs) {
      if (s.timer !== undefined) clearTimeout(s.timer)
      s.feed.end(err)
    }
    for (const r of this.rooms.values()) r.close(err)
    this.rooms.clear()
    const waiters = this.waiters
    this.waiters = []
    for (const w of waiters) w.reject(err ?? closedError())
    this.onClosed(err)
  }
}
