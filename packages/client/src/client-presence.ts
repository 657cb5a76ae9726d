// Presence for createClient: a room that outlives the client's connections. The client opens a new
// remote store per connection, and a remote store's room ends with it; this one joins the room on
// each new remote (with the last state set) and forwards its peers, so the app holds one object.
import { StatecraftError, closedError, type Json } from '@statecraft/core'
import { PeerListeners, type Presence, type PresencePeers } from './presence.ts'
import type { Remote } from './remote-store.ts'

/** What a client room needs of the client. */
export interface PresenceHost {
  /** The remote of the current connection, if any. */
  currentRemote(): Remote | undefined
  /** Calls `fn` after every status change (connection up or down among them). */
  statusListen(fn: () => void): () => void
  /** The room was left: drop it. */
  forgetRoom(room: ClientPresence): void
}

const EMPTY: PresencePeers = new Map()

export class ClientPresence implements Presence {
  peers: PresencePeers = EMPTY
  state: Json | null = null
  error: StatecraftError | undefined
  private remote: Remote | undefined
  private inner: Presence | undefined
  private stopInner: (() => void) | undefined
  private readonly stopStatus: () => void
  private closed = false
  private readonly app = new PeerListeners()

  constructor(
    readonly room: string,
    private readonly host: PresenceHost,
  ) {
    this.stopStatus = host.statusListen(() => this.follow())
    this.follow()
  }

  get self(): string | undefined {
    return this.inner?.self
  }

  get joined(): boolean {
    return this.inner?.joined === true
  }

  set(state: Json | null): void {
    if (this.closed) throw this.error ?? closedError()
    // The inner room checks size and shape; without one (offline) check JSON-ness the same way.
    if (this.inner !== undefined && this.inner.error === undefined) this.inner.set(state)
    else if (state !== null) JSON.stringify(state)
    this.state = state === null ? null : (JSON.parse(JSON.stringify(state)) as Json)
  }

  subscribe(cb: (peers: PresencePeers) => void): () => void {
    return this.app.subscribe(cb)
  }

  ready(): Promise<void> {
    return this.app.ready(this.closed, this.joined, this.error)
  }

  leave(): void {
    if (this.closed) return
    this.closed = true
    this.stopStatus()
    this.detach()
    this.host.forgetRoom(this)
    this.app.rejectWaiters(closedError())
    this.setPeers(EMPTY)
  }

  /** The client is closing: like leave, with `closed` as the reason. */
  close(): void {
    this.error ??= new StatecraftError('closed', 'the client is closed')
    this.leave()
  }

  /** On every status change: join on a new connection, drop the old one's room. */
  private follow(): void {
    if (this.closed) return
    const r = this.host.currentRemote()
    // Same connection: nothing to do, unless its join was refused (the room's key may exist now).
    if (r === this.remote && (r === undefined || this.inner?.error === undefined)) return
    this.detach()
    this.remote = r
    if (r === undefined) return
    let inner: Presence
    try {
      inner = r.presence(this.room)
    } catch {
      return // that connection is closing; the next one joins
    }
    this.inner = inner
    this.stopInner = inner.subscribe(p => {
      if (this.inner === inner) this.setPeers(p)
    })
    if (this.state !== null) {
      try {
        inner.set(this.state)
      } catch (e) {
        this.error = StatecraftError.from(e)
      }
    }
    inner.ready().then(
      () => {
        if (this.inner !== inner) return
        this.error = undefined
        this.app.resolveWaiters()
      },
      (e: unknown) => {
        // Refused (e.g. `forbidden` while the room's key does not exist yet): the next connection tries again.
        if (this.inner !== inner) return
        const err = StatecraftError.from(e)
        if (err.code !== 'closed') this.error = err
      },
    )
  }

  private detach(): void {
    this.stopInner?.()
    this.stopInner = undefined
    // The old connection's room ends with its remote store; leaving is for a live one.
    if (this.inner !== undefined && this.remote?.connected === true) this.inner.leave()
    this.inner = undefined
    this.remote = undefined
    this.setPeers(EMPTY)
  }

  private setPeers(peers: PresencePeers): void {
    if (peers.size === 0 && this.peers.size === 0) return
    this.peers = peers
    this.app.emit(peers)
  }
}
