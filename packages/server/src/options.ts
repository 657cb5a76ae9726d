// Server options, the limits with their defaults, and the log hook.
import type { Server as HttpServer } from 'node:http'
import type { ErrorCode, Store } from '@statecraft/core'

export interface ServerLimits {
  /** Frames larger than this get a `too-large` error and are dropped. Default 1 MiB. */
  maxFrameBytes: number
  /** Frames larger than this close the connection (1009): the socket must buffer a whole frame first. Default 4 × maxFrameBytes. */
  hardMaxFrameBytes: number
  /** Open subscriptions per connection; more get `rate-limited`. Default 1,000. */
  maxSubscriptions: number
  /** Unanswered fetch, getOps and mutate requests per connection; more get `rate-limited`. Default 256. */
  maxInFlight: number
  /**
   * A slow reader: when an update is due while a connection's send buffer holds more than this,
   * its subscriptions are dropped with `rate-limited` (the client resubscribes from its last
   * version). Checked before each send, so one message larger than this still goes out. Default 4 MiB.
   */
  maxBufferedBytes: number
  /** A message due while the buffer holds more than this closes the connection: it reads nothing, not even replies. Default 4 × maxBufferedBytes. */
  hardMaxBufferedBytes: number
  /** Presence rooms a connection may be in (or joining) at once; another join gets `rate-limited`. Default 100. */
  maxPresenceRooms: number
  /** The largest presence state, as the length of its JSON text; a larger one gets `too-large`. Default 4,096. */
  maxPresenceStateBytes: number
  /**
   * A peer's state is sent to the others of a room at most once per this interval: sets that come
   * faster are coalesced, and the latest goes out when the interval is over. Default 30 ms.
   */
  presenceIntervalMs: number
}

export const DEFAULT_LIMITS: Readonly<ServerLimits> = {
  maxFrameBytes: 1 << 20,
  hardMaxFrameBytes: 4 << 20,
  maxSubscriptions: 1000,
  maxInFlight: 256,
  maxBufferedBytes: 4 << 20,
  hardMaxBufferedBytes: 16 << 20,
  maxPresenceRooms: 100,
  maxPresenceStateBytes: 4096,
  presenceIntervalMs: 30,
}

export function resolveLimits(l: Partial<ServerLimits> = {}): ServerLimits {
  const maxFrameBytes = l.maxFrameBytes ?? DEFAULT_LIMITS.maxFrameBytes
  const maxBufferedBytes = l.maxBufferedBytes ?? DEFAULT_LIMITS.maxBufferedBytes
  return {
    maxFrameBytes,
    hardMaxFrameBytes: Math.max(l.hardMaxFrameBytes ?? 4 * maxFrameBytes, maxFrameBytes),
    maxSubscriptions: l.maxSubscriptions ?? DEFAULT_LIMITS.maxSubscriptions,
    maxInFlight: l.maxInFlight ?? DEFAULT_LIMITS.maxInFlight,
    maxBufferedBytes,
    hardMaxBufferedBytes: Math.max(l.hardMaxBufferedBytes ?? 4 * maxBufferedBytes, maxBufferedBytes),
    maxPresenceRooms: l.maxPresenceRooms ?? DEFAULT_LIMITS.maxPresenceRooms,
    maxPresenceStateBytes: l.maxPresenceStateBytes ?? DEFAULT_LIMITS.maxPresenceStateBytes,
    presenceIntervalMs: l.presenceIntervalMs ?? DEFAULT_LIMITS.presenceIntervalMs,
  }
}

/**
 * Who a token belongs to: the claims, or null to refuse the connection. May also throw a
 * StatecraftError `unauthorized`. `token` is undefined when the hello carried none.
 */
export type Authenticate<C> = (token: string | undefined) => C | null | Promise<C | null>

/** The store a connection sees, given its claims: the hook access rules plug into. */
export type Rules<C> = (store: Store, claims: C) => Store

/**
 * Whether a connection may join presence room `room`. `store` is the store the connection sees
 * (after `rules`). Return false (or throw `forbidden`) to refuse the join with `forbidden`.
 */
export type PresenceAllowed<C> = (room: string, claims: C, store: Store) => boolean | Promise<boolean>

export interface LogEvent {
  level: 'info' | 'warn' | 'error'
  message: string
  /** The connection it concerns. */
  connection?: string
  code?: ErrorCode
}

export type Log = (e: LogEvent) => void

export const consoleLog: Log = e => {
  const where = e.connection === undefined ? '' : ` [${e.connection}]`
  const line = `statecraft${where}: ${e.code === undefined ? '' : e.code + ': '}${e.message}`
  if (e.level === 'error') console.error(line)
  else if (e.level === 'warn') console.warn(line)
  else console.info(line)
}

export interface ServerOptions<C = unknown> {
  /** The store the server exposes. The server never closes it. */
  store: Store
  /** Interface to listen on when the server makes its own HTTP server. Default 127.0.0.1. */
  host?: string
  /** Port to listen on (0 picks a free one). Default 0. Ignored when `server` is given. */
  port?: number
  /** An HTTP server to attach to instead of making one (it is not closed by `close()`). */
  server?: HttpServer
  /** The WebSocket path. Default `/`. */
  path?: string
  /** Default: every connection is let in, with `undefined` claims. */
  authenticate?: Authenticate<C>
  /** Default: every connection sees the store itself. */
  rules?: Rules<C>
  /**
   * Who may join which presence room. Default: with `rules`, a room is a key and a connection may
   * join it when the key exists and its rules let it read it (`store.fetch(keys(room))` returns it);
   * without `rules`, anyone may join any room.
   */
  presenceAllowed?: PresenceAllowed<C>
  limits?: Partial<ServerLimits>
  /** Interval of the heartbeat ping; a connection silent for two is closed. Default 15,000. */
  heartbeatMs?: number
  /** Serve the files under this directory over the same HTTP server (only one the server makes). */
  static?: string
  /** Where the server reports refused frames, dead peers and failures. Default: the console. */
  log?: Log
}
