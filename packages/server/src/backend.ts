// The Backend: one per server. It holds the store, accepts connections (making an Agent for each),
// runs the heartbeat, and makes re-sent writes safe across connections.
import { keys, type MutateOptions, type Store, type Txn, type Update, type Versions } from '@statecraft/core'
import { CLOSE_CODES, encodeUpdateBody, pair, type Encoding, type LocalPort, type Port, type UpdateBody } from '@statecraft/protocol'
import { Agent } from './agent.ts'
import {
  consoleLog, resolveLimits, type Authenticate, type Log, type PresenceAllowed, type Rules, type ServerLimits, type ServerOptions,
} from './options.ts'
import { PresenceRooms } from './presence.ts'
import type { ServerContext } from './session.ts'

export type BackendOptions<C> = Pick<ServerOptions<C>, 'store' | 'authenticate' | 'rules' | 'presenceAllowed' | 'limits' | 'heartbeatMs' | 'log'>

export class Backend<C = unknown> implements ServerContext {
  readonly store: Store
  readonly limits: ServerLimits
  readonly heartbeatMs: number
  readonly log: Log
  private readonly authenticate: Authenticate<C> | undefined
  private readonly rules: Rules<C> | undefined
  private readonly presenceAllowed: PresenceAllowed<C> | undefined
  /** Presence rooms: in memory only, never in the store. */
  readonly presence: PresenceRooms
  private readonly agents = new Set<Agent<C>>()
  /** Writes with {clientId, seq} being applied now, by `${clientId}\n${seq}`. */
  private readonly applying = new Map<string, Promise<Versions>>()
  private readonly timer: ReturnType<typeof setInterval>
  private nextAgent = 1
  private closed = false
  /** The last shared update's encoded bodies: a publish hands it to every subscriber in one go. */
  private shared: { token: object; bodies: Partial<Record<Encoding, UpdateBody>> } | undefined

  constructor(opts: BackendOptions<C>) {
    this.store = opts.store
    this.limits = resolveLimits(opts.limits)
    this.heartbeatMs = opts.heartbeatMs ?? 15_000
    this.log = opts.log ?? consoleLog
    this.authenticate = opts.authenticate
    this.rules = opts.rules
    // With rules, a room is a key: a connection may join it when it may read that (existing) key.
    // The rules-wrapped store leaves unreadable keys out of a fetch, so this tells nothing more.
    this.presenceAllowed =
      opts.presenceAllowed ?? (opts.rules === undefined ? undefined : async (room, _claims, store) => (await store.fetch(keys(room))).results.has(room))
    this.presence = new PresenceRooms(() => this.limits.presenceIntervalMs)
    this.timer = setInterval(() => {
      for (const a of this.agents) a.tick()
    }, this.heartbeatMs)
    this.timer.unref?.()
  }

  /** The connections open now. */
  get connections(): number {
    return this.agents.size
  }

  /** Open connections, subscriptions and in-flight requests, summed over connections. */
  stats(): { connections: number; subscriptions: number; inFlight: number } {
    let subscriptions = 0
    let inFlight = 0
    for (const a of this.agents) {
      subscriptions += a.subscriptionCount
      inFlight += a.inFlightCount
    }
    return { connections: this.agents.size, subscriptions, inFlight }
  }

  /** Presence rooms with someone in them, and connections in rooms summed over rooms. */
  presenceStats(): { rooms: number; members: number } {
    return this.presence.stats()
  }

  /** Serves a connection on `port` until either end closes it. */
  accept(port: Port): Agent<C> {
    const agent = new Agent<C>(port, {
      id: `c${this.nextAgent++}`,
      server: this,
      store: this.store,
      authenticate: this.authenticate,
      rules: this.rules,
      presenceAllowed: this.presenceAllowed,
      onClose: a => this.agents.delete(a),
    })
    if (this.closed) agent.close(CLOSE_CODES.goingAway, 'server closed')
    else this.agents.add(agent)
    return agent
  }

  /** A connection with no socket: the client end of an in-process pair. */
  connectLocal(): LocalPort {
    const [client, server] = pair()
    this.accept(server)
    return client
  }

  async mutate(store: Store, txn: Txn, opts: MutateOptions): Promise<Versions> {
    if (opts.clientId === undefined || opts.seq === undefined) return store.mutate(txn, opts)
    // A client that reconnects re-sends its unacknowledged writes; the first copy may still be in
    // the store's hands on the old connection. Wait for it: the store then knows the seq.
    const key = `${opts.clientId}\n${opts.seq}`
    for (let running = this.applying.get(key); running !== undefined; running = this.applying.get(key)) {
      try {
        return await running
      } catch {
        // It failed (and so changed nothing): apply this copy, unless another got there first.
      }
    }
    const p = store.mutate(txn, opts)
    this.applying.set(key, p)
    try {
      return await p
    } finally {
      if (this.applying.get(key) === p) this.applying.delete(key)
    }
  }

  updateBody(shared: object, u: Update, encoding: Encoding): UpdateBody {
    let s = this.shared
    if (s?.token !== shared) {
      const fresh = { token: shared, bodies: {} }
      this.shared = s = fresh
      // Held for this turn only: later publishes bring new tokens, and a large value is not kept.
      queueMicrotask(() => {
        if (this.shared === fresh) this.shared = undefined
      })
    }
    return (s.bodies[encoding] ??= encodeUpdateBody(u, encoding))
  }

  /** Closes every connection (the store stays open: it is not the server's). */
  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    clearInterval(this.timer)
    for (const a of this.agents) a.close(CLOSE_CODES.goingAway, 'server closed')
    this.agents.clear()
  }
}
