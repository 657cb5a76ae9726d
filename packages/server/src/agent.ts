// The Agent: one per connection. It holds the connection's identity (claims), the store it sees
// (after rules), its subscriptions and in-flight requests, and enforces the per-connection limits.
// Every frame is untrusted: a bad one is answered with an error, logged once, and changes nothing.
import { StatecraftError, listen, randomId, type Json, type Store, type Subscription, type Update, type Versions, type WireError } from '@statecraft/core'
import {
  CAPABILITIES, CLOSE_CODES, PROTOCOL_VERSION, codecOf, codecs, decodeClientFrame, frameSize, presenceStateSize, updateFrame, updateToWire,
  type Encoding, type Frame, type Port, type ServerMessage, type WelcomeMessage,
} from '@statecraft/protocol'
import { dispatch } from './handlers.ts'
import type { Authenticate, PresenceAllowed, Rules } from './options.ts'
import type { PresenceMember } from './presence.ts'
import type { ServerContext, Session, SessionState } from './session.ts'

export interface AgentOptions<C> {
  id: string
  server: ServerContext
  store: Store
  authenticate: Authenticate<C> | undefined
  rules: Rules<C> | undefined
  /** Who may join which presence room; undefined: anyone, any room. */
  presenceAllowed: PresenceAllowed<C> | undefined
  onClose: (agent: Agent<C>) => void
}

/** Message types whose `id` does not name a new request: an error about a bad one must not carry it. */
const NOT_OPENING = new Set(['unsubscribe'])

const protocolError = (message: string): StatecraftError => new StatecraftError('protocol', message)

/** An update held until the end of the turn (see `deliver`), with the `mutated` replies it carries. */
interface Held {
  id: number
  sub: Subscription
  u: Update
  shared: object | undefined
  acks: { id: number; versions: Versions }[]
}

const sameVersions = (a: Versions, b: Versions): boolean => {
  let n = 0
  for (const k in a) {
    if (a[k] !== b[k]) return false
    n++
  }
  return n === Object.keys(b).length
}

/** This connection in a presence room: waiting for its permission check, or in. */
type Membership = { joined: false; id: number; state: Json | null } | { joined: true; member: PresenceMember }

export class Agent<C = unknown> implements Session {
  readonly id: string
  state: SessionState = 'hello'
  /** Claims from `authenticate` (undefined until welcome, or when the server has no authenticate). */
  claims: C | undefined
  private readonly server: ServerContext
  private readonly baseStore: Store
  private store: Store
  private readonly opts: AgentOptions<C>
  private encoding: Encoding = 'msgpack'
  private readonly subs = new Map<number, Subscription>()
  private readonly inflight = new Set<number>()
  /** A frame arrived since the last heartbeat tick. */
  private heard = true
  /** This connection's presence peer id: opaque and random (never the claims). */
  readonly peer = randomId()
  private readonly rooms = new Map<string, Membership>()
  /** Open presence-join ids → their rooms. */
  private readonly joining = new Map<number, string>()
  /** The client asked for `mutated-in-update` (its hello's capabilities). */
  private ackInUpdate = false
  /** This connection's mutates in flight. */
  private mutating = 0
  /** Updates held until the end of this turn, so that a `mutated` reply due in it can ride in one. */
  private held: Held[] = []
  private flushScheduled = false

  constructor(private readonly port: Port, opts: AgentOptions<C>) {
    this.id = opts.id
    this.server = opts.server
    this.baseStore = opts.store
    this.store = opts.store
    this.opts = opts
    port.onframe = f => this.onFrame(f)
    port.onclose = () => this.closed()
  }

  get subscriptionCount(): number {
    return this.subs.size
  }

  get inFlightCount(): number {
    return this.inflight.size
  }

  get presenceRoomCount(): number {
    return this.rooms.size
  }

  // ---- frames in

  private onFrame(frame: Frame): void {
    if (this.state === 'closed') return
    this.heard = true
    const limits = this.server.limits
    if (this.state === 'hello') this.encoding = codecOf(frame).encoding
    const size = frameSize(frame)
    if (size > limits.maxFrameBytes) {
      this.refuse(new StatecraftError('too-large', `a frame of ${size} bytes is over the limit of ${limits.maxFrameBytes}`, { limit: limits.maxFrameBytes }))
      return
    }
    const parsed = decodeClientFrame(frame)
    if (!parsed.ok) {
      // The error names the request when it can, so the sender's call fails instead of waiting.
      const id = parsed.id !== undefined && !NOT_OPENING.has(parsed.type ?? '') && !this.isOpen(parsed.id) ? parsed.id : undefined
      this.refuse(parsed.error, id)
      return
    }
    try {
      dispatch(this, parsed.msg, parsed.encoding)
    } catch (e) {
      // Handlers do not throw; if one does, the connection and the server go on.
      this.server.log({ level: 'error', message: `handler for ${parsed.msg.type} threw: ${String(e)}`, connection: this.id, code: 'internal' })
    }
  }

  private isOpen(id: number): boolean {
    return this.inflight.has(id) || this.subs.has(id) || this.joining.has(id)
  }

  /** Checks a new request id; refuses and returns false when it cannot be used. */
  private admit(id: number): boolean {
    if (this.state !== 'ready') {
      this.refuse(protocolError(this.state === 'hello' ? 'send hello first' : 'wait for welcome before sending requests'), id)
      return false
    }
    if (this.isOpen(id)) {
      // No id on the error: the open request with that id is still running.
      this.refuse(protocolError(`id ${id} is already in use by an open request or subscription`))
      return false
    }
    return true
  }

  // ---- Session

  open(protocol: number, token: string | undefined, encoding: Encoding, capabilities: readonly string[]): void {
    if (this.state !== 'hello') {
      this.refuse(protocolError('hello was already sent'))
      return
    }
    this.encoding = encoding
    this.ackInUpdate = capabilities.includes(CAPABILITIES.mutatedInUpdate)
    if (protocol !== PROTOCOL_VERSION) {
      this.refuse(new StatecraftError('unsupported', `this server speaks protocol version ${PROTOCOL_VERSION}, not ${protocol}`, { protocol: PROTOCOL_VERSION }))
      this.close(CLOSE_CODES.unsupportedVersion, 'unsupported protocol version')
      return
    }
    this.state = 'authenticating'
    void this.authenticate(token)
  }

  private async authenticate(token: string | undefined): Promise<void> {
    let claims: C | null | undefined
    try {
      claims = this.opts.authenticate === undefined ? undefined : await this.opts.authenticate(token)
      if (claims === null) throw new StatecraftError('unauthorized', 'the token was refused')
      if (this.state !== 'authenticating') return
      this.claims = claims
      this.store = this.opts.rules === undefined ? this.baseStore : this.opts.rules(this.baseStore, claims as C)
    } catch (e) {
      if (this.state !== 'authenticating') return
      const err = StatecraftError.from(e)
      const refused = err.code === 'unauthorized' || err.code === 'forbidden'
      this.refuse(refused ? err : new StatecraftError('internal', `authentication failed: ${err.message}`))
      this.close(CLOSE_CODES.unauthorized, 'unauthorized')
      return
    }
    this.state = 'ready'
    const l = this.server.limits
    const welcome: WelcomeMessage = {
      type: 'welcome',
      protocol: PROTOCOL_VERSION,
      encoding: this.encoding,
      connectionId: this.id,
      info: this.store.info,
      limits: {
        maxFrameBytes: l.maxFrameBytes, maxSubscriptions: l.maxSubscriptions, maxInFlight: l.maxInFlight,
        maxPresenceRooms: l.maxPresenceRooms, maxPresenceStateBytes: l.maxPresenceStateBytes, presenceIntervalMs: l.presenceIntervalMs,
      },
      heartbeatMs: this.server.heartbeatMs,
      capabilities: ['presence', CAPABILITIES.mutatedInUpdate],
    }
    this.send(welcome)
  }

  request(id: number, run: (store: Store, server: ServerContext) => Promise<ServerMessage>, mutate = false): void {
    if (!this.admit(id)) return
    if (this.inflight.size >= this.server.limits.maxInFlight) {
      this.refuse(new StatecraftError('rate-limited', `over ${this.server.limits.maxInFlight} requests in flight`, { limit: 'maxInFlight' }), id)
      return
    }
    this.inflight.add(id)
    if (mutate) this.mutating++
    let reply: Promise<ServerMessage>
    try {
      // Called synchronously, so one connection's requests reach the store in the order they came.
      reply = run(this.store, this.server)
    } catch (e) {
      reply = Promise.reject(e instanceof Error ? e : new Error(String(e)))
    }
    void reply.then(
      msg => {
        this.inflight.delete(id)
        if (mutate) this.mutating--
        if (msg.type === 'mutated' && this.attachReply(msg.id, msg.versions)) return
        this.send(msg)
      },
      (e: unknown) => {
        this.inflight.delete(id)
        if (mutate) this.mutating--
        this.sendError(id, e)
      },
    )
  }

  subscribe(id: number, open: (store: Store) => Subscription): void {
    if (!this.admit(id)) return
    if (this.subs.size >= this.server.limits.maxSubscriptions) {
      this.refuse(new StatecraftError('rate-limited', `over ${this.server.limits.maxSubscriptions} subscriptions`, { limit: 'maxSubscriptions' }), id)
      return
    }
    let sub: Subscription
    try {
      sub = open(this.store)
    } catch (e) {
      this.sendError(id, e)
      return
    }
    this.subs.set(id, sub)
    const pushed = listen(sub, {
      update: (u, shared) => this.deliver(id, sub, u, shared),
      end: err => this.subEnded(id, sub, err ?? new StatecraftError('closed', 'the store ended the subscription')),
    })
    if (!pushed) void this.pump(id, sub)
  }

  /** The store ended subscription `id` (not by our close): the client is told, once. */
  private subEnded(id: number, sub: Subscription, err: unknown): void {
    if (this.subs.get(id) !== sub) return
    this.subs.delete(id)
    this.sendError(id, err)
  }

  /** Reads a subscription that cannot push (a proxy's) with its async iterator. */
  private async pump(id: number, sub: Subscription): Promise<void> {
    try {
      for await (const u of sub) {
        if (this.subs.get(id) !== sub) return
        this.deliver(id, sub, u, undefined)
      }
      if (this.subs.get(id) === sub) {
        this.subs.delete(id)
        this.sendError(id, new StatecraftError('closed', 'the store ended the subscription'))
      }
    } catch (e) {
      if (this.subs.get(id) === sub) {
        this.subs.delete(id)
        this.sendError(id, e)
      }
    }
  }

  unsubscribe(id: number): void {
    if (this.state !== 'ready') {
      this.refuse(protocolError('send hello first'))
      return
    }
    const sub = this.subs.get(id)
    if (sub === undefined) {
      this.refuse(protocolError(`no subscription ${id} to unsubscribe`), id)
      return
    }
    this.subs.delete(id)
    sub.close()
    this.send({ type: 'unsubscribed', id })
  }

  // ---- presence

  /** A `too-large` error when `state` is over the limit. */
  private stateTooLarge(state: Json | null, room: string): StatecraftError | undefined {
    const max = this.server.limits.maxPresenceStateBytes
    const size = presenceStateSize(state)
    if (size <= max) return undefined
    return new StatecraftError('too-large', `a presence state of ${size} bytes (JSON) is over the limit of ${max}`, { limit: max, room })
  }

  presenceJoin(id: number, room: string, state: Json | null): void {
    if (!this.admit(id)) return
    if (this.rooms.has(room)) {
      this.refuse(protocolError(`already in presence room ${JSON.stringify(room)}`), id)
      return
    }
    const max = this.server.limits.maxPresenceRooms
    if (this.rooms.size >= max) {
      this.refuse(new StatecraftError('rate-limited', `over ${max} presence rooms`, { limit: 'maxPresenceRooms', room }), id)
      return
    }
    const big = this.stateTooLarge(state, room)
    if (big !== undefined) {
      this.refuse(big, id)
      return
    }
    const m: Membership = { joined: false, id, state }
    this.rooms.set(room, m)
    this.joining.set(id, room)
    const allowed = this.opts.presenceAllowed
    if (allowed === undefined) {
      this.joined(room, m, { ok: true })
      return
    }
    let check: Promise<boolean>
    try {
      check = Promise.resolve(allowed(room, this.claims as C, this.store))
    } catch (e) {
      check = Promise.reject(e instanceof Error ? e : new Error(String(e)))
    }
    void check.then(
      ok => this.joined(room, m, { ok: ok === true }),
      (e: unknown) => this.joined(room, m, { error: e }),
    )
  }

  /** The permission check of a join is done: `ok` lets it in; not ok or an error refuses it. */
  private joined(room: string, m: Membership & { joined: false }, check: { ok: boolean } | { error: unknown }): void {
    // Left (answered then) or closed meanwhile.
    if (this.state === 'closed' || this.rooms.get(room) !== m) return
    this.joining.delete(m.id)
    if (!('ok' in check) || !check.ok) {
      this.rooms.delete(room)
      this.sendError(m.id, 'ok' in check ? new StatecraftError('forbidden', `this connection may not join presence room ${JSON.stringify(room)}`, { room }) : check.error)
      return
    }
    const { member, peers } = this.server.presence.join(room, this.peer, m.state, msg => this.send(msg))
    this.rooms.set(room, { joined: true, member })
    this.send({ type: 'presence', id: m.id, room, peer: this.peer, peers })
  }

  /** False (and refused) before the welcome: presence-set and -leave have no id to admit. */
  private ready(): boolean {
    if (this.state === 'ready') return true
    this.refuse(protocolError(this.state === 'hello' ? 'send hello first' : 'wait for welcome before sending requests'))
    return false
  }

  presenceSet(room: string, state: Json | null): void {
    if (!this.ready()) return
    const m = this.rooms.get(room)
    if (m === undefined) {
      this.refuse(new StatecraftError('protocol', `not in presence room ${JSON.stringify(room)}: join it first`, { room }))
      return
    }
    const big = this.stateTooLarge(state, room)
    if (big !== undefined) {
      this.refuse(big)
      return
    }
    if (m.joined) this.server.presence.set(m.member, state)
    else m.state = state
  }

  presenceLeave(room: string): void {
    if (!this.ready()) return
    const m = this.rooms.get(room)
    if (m === undefined) return
    this.rooms.delete(room)
    if (m.joined) {
      this.server.presence.leave(m.member)
      return
    }
    // Its join is still being checked: answer it now (no snapshot will come).
    this.joining.delete(m.id)
    this.send({ type: 'error', id: m.id, error: wireOf(new StatecraftError('closed', `left presence room ${JSON.stringify(room)} before the join finished`, { room })) })
  }

  private leaveAllRooms(): void {
    for (const m of this.rooms.values()) if (m.joined) this.server.presence.leave(m.member)
    this.rooms.clear()
    this.joining.clear()
  }

  refuse(error: StatecraftError, id?: number): void {
    this.server.log({ level: 'warn', message: `refused a frame: ${error.message}`, connection: this.id, code: error.code })
    this.send(id === undefined ? { type: 'error', error: wireOf(error) } : { type: 'error', id, error: wireOf(error) })
  }

  private sendError(id: number, e: unknown): void {
    const err = StatecraftError.from(e)
    if (err.code === 'internal') this.server.log({ level: 'error', message: err.message, connection: this.id, code: 'internal' })
    this.send({ type: 'error', id, error: wireOf(err) })
  }

  // ---- frames out

  send(msg: ServerMessage): void {
    if (!this.mayWrite(msg.type === 'update')) return
    let frame: Frame
    try {
      frame = codecs[this.encoding].encode(msg)
    } catch (e) {
      this.server.log({ level: 'error', message: `could not encode a ${msg.type} message: ${String(e)}`, connection: this.id, code: 'internal' })
      return
    }
    this.port.send(frame)
  }

  /**
   * Sends update `u` of subscription `id` — or, while this connection (which asked for
   * `mutated-in-update`) has a mutate in flight, holds it and every later update until the end of
   * the turn: the update a write makes is published just before the write's reply is due, so the
   * reply then rides in it (`attachReply`), one frame instead of two, and the other connections'
   * copies of the update go out first.
   */
  private deliver(id: number, sub: Subscription, u: Update, shared: object | undefined): void {
    if (this.subs.get(id) !== sub) return
    if (this.held.length === 0 && !(this.ackInUpdate && this.mutating > 0)) {
      this.sendUpdate(id, u, shared)
      return
    }
    this.held.push({ id, sub, u, shared, acks: [] })
    if (this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(() => this.flushHeld())
  }

  /** Puts a `mutated` reply into a held update carrying the write (same versions); false when none does. */
  private attachReply(id: number, versions: Versions): boolean {
    for (let i = this.held.length - 1; i >= 0; i--) {
      const h = this.held[i] as Held
      if (h.u.txns.some(r => sameVersions(r.versions, versions))) {
        h.acks.push({ id, versions })
        return true
      }
    }
    return false
  }

  /** Sends the held updates in order; the replies of one that can no longer go are sent on their own. */
  private flushHeld(): void {
    this.flushScheduled = false
    const held = this.held
    this.held = []
    for (const h of held) {
      const open = this.subs.get(h.id) === h.sub
      if (h.acks.length === 0) {
        if (open) this.sendUpdate(h.id, h.u, h.shared)
        continue
      }
      if (open && this.mayWrite(true)) {
        let frame: Frame | undefined
        try {
          frame = codecs[this.encoding].encode({ ...updateToWire(h.id, h.u), mutated: h.acks })
        } catch (e) {
          this.server.log({ level: 'error', message: `could not encode an update message: ${String(e)}`, connection: this.id, code: 'internal' })
        }
        if (frame !== undefined) {
          this.port.send(frame)
          continue
        }
      }
      for (const a of h.acks) this.send({ type: 'mutated', id: a.id, versions: a.versions })
    }
  }

  /** Sends update `u` of subscription `id`; with `shared`, its body is encoded once for every connection (ServerContext.updateBody). */
  private sendUpdate(id: number, u: Update, shared: object | undefined): void {
    if (!this.mayWrite(true)) return
    let frame: Frame
    try {
      frame = shared === undefined ? codecs[this.encoding].encode(updateToWire(id, u)) : updateFrame(id, this.server.updateBody(shared, u, this.encoding))
    } catch (e) {
      this.server.log({ level: 'error', message: `could not encode an update message: ${String(e)}`, connection: this.id, code: 'internal' })
      return
    }
    this.port.send(frame)
  }

  /**
   * False when nothing may be sent: the connection is closed, or its reader is too slow (closed
   * past the hard limit; an update past the soft one drops its subscriptions instead).
   */
  private mayWrite(update: boolean): boolean {
    if (this.state === 'closed') return false
    // Checked before sending, so one big message (a catch-up, a large fetch) always goes out; a
    // reader that is really behind is over the limit when the next one comes.
    const l = this.server.limits
    const buffered = this.port.bufferedAmount
    if (buffered > l.hardMaxBufferedBytes) {
      this.server.log({ level: 'warn', message: `closed a connection with ${buffered} bytes unread`, connection: this.id, code: 'rate-limited' })
      this.close(CLOSE_CODES.slowReader, 'slow reader')
      return false
    }
    if (update && buffered > l.maxBufferedBytes) {
      this.dropSubscriptions(buffered)
      return false
    }
    return true
  }

  /** A slow reader: its send buffer is over the limit. Drop its subscriptions; it resubscribes when it has read. */
  private dropSubscriptions(buffered: number): void {
    if (this.subs.size === 0) return
    const dropped = [...this.subs]
    this.subs.clear()
    this.server.log({ level: 'warn', message: `dropped ${dropped.length} subscriptions of a slow reader (${buffered} bytes unread)`, connection: this.id, code: 'rate-limited' })
    const error = new StatecraftError('rate-limited', 'the connection reads too slowly; resubscribe from your last version', { reason: 'slow-reader' })
    for (const [id, sub] of dropped) {
      sub.close()
      this.send({ type: 'error', id, error: wireOf(error) })
    }
  }

  // ---- life

  /** Called by the Backend each heartbeat interval: a peer silent for a whole interval is dead. */
  tick(): void {
    if (this.state === 'closed') return
    if (!this.heard && this.state !== 'authenticating') {
      this.server.log({ level: 'info', message: 'closed a silent connection', connection: this.id })
      this.close(this.state === 'hello' ? CLOSE_CODES.helloTimeout : CLOSE_CODES.deadPeer, 'no frame for a heartbeat interval')
      return
    }
    this.heard = false
    if (this.state === 'ready') this.send({ type: 'ping' })
  }

  close(code = 1000, reason = ''): void {
    if (this.state === 'closed') return
    this.port.close(code, reason)
    this.closed()
  }

  private closed(): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    for (const sub of this.subs.values()) sub.close()
    this.subs.clear()
    this.held = []
    this.leaveAllRooms()
    this.opts.onClose(this)
  }
}

const wireOf = (e: StatecraftError): WireError => e.toWire()
