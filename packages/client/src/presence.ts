// Presence on a remote store: this client's ephemeral state in a room (a cursor, a name) and the
// states of the other peers in it, over the store's connection and never in the store. A room is
// joined again on every new connection, carrying the last state set; the others' states are
// cleared when the connection drops and refilled by the server's snapshot on the next one.
import { StatecraftError, closedError, type Json } from '@statecraft/core'
import {
  MAX_ROOM_LENGTH, isJson, type Limits, type PresenceSnapshotMessage, type PresenceUpdateMessage,
} from '@statecraft/protocol'

/** The other peers of a room that have a state: peer id → state. A new Map after every change. */
export type PresencePeers = ReadonlyMap<string, Json>

/** This client in one presence room (`remote.presence(room)`). */
export interface Presence {
  readonly room: string
  /** The other peers in the room with a state (not this client). Empty while disconnected. */
  readonly peers: PresencePeers
  /** This connection's peer id, as the others see it; undefined until joined. Changes with each connection. */
  readonly self: string | undefined
  /** The state this client last set (null: none; the others do not list it). */
  readonly state: Json | null
  /** The server's snapshot of the room arrived on the current connection. */
  readonly joined: boolean
  /** Why the room was closed, when the server refused the join (`forbidden`, `rate-limited`, …). */
  readonly error: StatecraftError | undefined
  /**
   * Sets this client's state (JSON; null clears it, and the others see this peer leave). Sent at
   * most once per the server's `presenceIntervalMs`, the latest state last; kept and sent again
   * after a reconnect. Throws `invalid` (not JSON), `too-large` (over `maxPresenceStateBytes`),
   * `closed` (after leave or a refused join).
   */
  set(state: Json | null): void
  /** Calls `cb` with the new `peers` after every change (not at once). Returns the unsubscribe. */
  subscribe(cb: (peers: PresencePeers) => void): () => void
  /** Resolves once joined on the current connection; rejects when the join is refused or the room left. */
  ready(): Promise<void>
  /** Leaves the room: the others see this peer go; `peers` empties. Idempotent. */
  leave(): void
}

/** What a room needs from its remote store. */
export interface PresenceLink {
  /** Sends a message on the current connection; false when there is none. */
  send(msg: object): boolean
  /** A request id unused in this store's lifetime. */
  nextId(): number
  /** The limits of the current (or last) connection. */
  limits(): Limits | undefined
  /** The room is closed: drop it. */
  forget(room: PresenceRoom): void
}

/** The longest a state may be when the server has not said: its default. */
const DEFAULT_MAX_STATE = 4096
const DEFAULT_INTERVAL_MS = 30

/** Checks a room name the way the server does, failing locally with `invalid`. */
export function checkRoom(room: unknown): asserts room is string {
  if (typeof room !== 'string' || room.length === 0 || room.length > MAX_ROOM_LENGTH) {
    throw new StatecraftError('invalid', `a presence room is a string of 1 to ${MAX_ROOM_LENGTH} characters`)
  }
}

/**
 * What both kinds of room keep for the app: the `subscribe` listeners of `peers` and the `ready()`
 * waiters. A listener that throws is reported asynchronously and does not stop the others.
 */
export class PeerListeners {
  private readonly listeners = new Set<(peers: PresencePeers) => void>()
  private waiters: { resolve: () => void; reject: (e: StatecraftError) => void }[] = []

  subscribe(cb: (peers: PresencePeers) => void): () => void {
    const listener = (p: PresencePeers): void => cb(p)
    this.listeners.add(listener)
    return () => {
      this.listeners.delete(listener)
    }
  }

  /** `Presence.ready()` of a room in this state. */
  ready(closed: boolean, joined: boolean, error: StatecraftError | undefined): Promise<void> {
    if (closed) return Promise.reject(error ?? closedError())
    if (joined) return Promise.resolve()
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }))
  }

  /** Joined: every `ready()` so far resolves. */
  resolveWaiters(): void {
    const ws = this.waiters
    this.waiters = []
    for (const w of ws) w.resolve()
  }

  /** Closed: every `ready()` so far rejects. */
  rejectWaiters(err: StatecraftError): void {
    const ws = this.waiters
    this.waiters = []
    for (const w of ws) w.reject(err)
  }

  emit(peers: PresencePeers): void {
    for (const cb of Array.from(this.listeners)) {
      try {
        cb(peers)
      } catch (e) {
        queueMicrotask(() => {
          throw e
        })
      }
    }
  }
}

export class PresenceRoom implements Presence {
  peers: PresencePeers = new Map()
  self: string | undefined
  state: Json | null = null
  joined = false
  error: StatecraftError | undefined
  /** The id of this room's join on the current connection, until its snapshot or error. */
  joinId: number | undefined
  private closed = false
  /** `state` has changed since it was last sent on this connection. */
  private dirty = false
  private lastSentAt = -Infinity
  private timer: ReturnType<typeof setTimeout> | undefined
  private readonly app = new PeerListeners()

  constructor(
    readonly room: string,
    private readonly link: PresenceLink,
  ) {}

  // ---- the app's side

  set(state: Json | null): void {
    if (this.closed) throw this.error ?? closedError()
    if (state !== null && !isJson(state)) throw new StatecraftError('invalid', 'a presence state must be a JSON value')
    const text = JSON.stringify(state)
    const max = this.link.limits()?.maxPresenceStateBytes ?? DEFAULT_MAX_STATE
    if (text.length > max) {
      throw new StatecraftError('too-large', `a presence state of ${text.length} bytes (JSON) is over the server's limit of ${max}`, { limit: max, room: this.room })
    }
    // A copy: the caller may change its object; this one is sent again after a reconnect.
    this.state = JSON.parse(text) as Json | null
    this.dirty = true
    if (this.joined) this.schedule()
  }

  subscribe(cb: (peers: PresencePeers) => void): () => void {
    return this.app.subscribe(cb)
  }

  ready(): Promise<void> {
    return this.app.ready(this.closed, this.joined, this.error)
  }

  leave(): void {
    if (this.closed) return
    if (this.joined || this.joinId !== undefined) this.link.send({ type: 'presence-leave', room: this.room })
    this.close(undefined)
  }

  // ---- the remote store's side

  /** A new connection is open: join (with the last state set). */
  connected(supported: boolean): void {
    if (this.closed) return
    if (!supported) {
      this.close(new StatecraftError('unsupported', 'this server has no presence'))
      return
    }
    const id = this.link.nextId()
    const msg = this.state === null ? { type: 'presence-join', id, room: this.room } : { type: 'presence-join', id, room: this.room, state: this.state }
    if (!this.link.send(msg)) return
    this.joinId = id
    this.dirty = false
    this.lastSentAt = Date.now()
  }

  /** The connection is gone: the others are unknown until the next snapshot. */
  disconnected(): void {
    this.joinId = undefined
    this.joined = false
    this.self = undefined
    this.dirty = true
    this.clearTimer()
    this.setPeers(new Map())
  }

  onSnapshot(m: PresenceSnapshotMessage): void {
    if (this.closed || m.id !== this.joinId) return
    this.joinId = undefined
    this.joined = true
    this.self = m.peer
    const peers = new Map<string, Json>()
    for (const p of m.peers) if (p.peer !== m.peer && p.state !== null) peers.set(p.peer, p.state)
    this.app.resolveWaiters()
    this.setPeers(peers)
    // Set while the join was on its way: send the latest now.
    if (this.dirty) this.schedule()
  }

  onUpdate(m: PresenceUpdateMessage): void {
    // Before the snapshot it is stale (from before a leave); the snapshot is the truth.
    if (this.closed || !this.joined || m.peer === this.self) return
    if (m.state === null && !this.peers.has(m.peer)) return
    const next = new Map(this.peers)
    if (m.state === null) next.delete(m.peer)
    else next.set(m.peer, m.state)
    this.setPeers(next)
  }

  /** The server answered this room's join with an error. */
  onJoinError(err: StatecraftError): void {
    this.joinId = undefined
    // `closed`: the server is going away (the next connection joins again), or we left before the
    // join finished (then this room is already closed). Not a refusal.
    if (err.code === 'closed') return
    this.close(err)
  }

  /** Ends the room: the app left it, the join was refused, or the store closed. */
  close(err: StatecraftError | undefined): void {
    if (this.closed) return
    this.closed = true
    this.error = err
    this.joined = false
    this.joinId = undefined
    this.self = undefined
    this.clearTimer()
    this.link.forget(this)
    this.app.rejectWaiters(err ?? closedError())
    this.setPeers(new Map())
  }

  // ---- sending, coalesced

  private schedule(): void {
    if (this.timer !== undefined) return
    const interval = this.link.limits()?.presenceIntervalMs ?? DEFAULT_INTERVAL_MS
    const wait = this.lastSentAt + interval - Date.now()
    if (wait <= 0) {
      this.sendState()
      return
    }
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.sendState()
    }, wait)
  }

  private sendState(): void {
    if (this.closed || !this.joined || !this.dirty) return
    if (!this.link.send({ type: 'presence-set', room: this.room, state: this.state })) return
    this.dirty = false
    this.lastSentAt = Date.now()
  }

  private clearTimer(): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
  }

  private setPeers(peers: Map<string, Json>): void {
    if (peers.size === 0 && this.peers.size === 0) return
    this.peers = peers
    this.app.emit(peers)
  }
}
