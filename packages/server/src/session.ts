// What a message handler sees of a connection (the Agent) and of the server (the Backend), so the
// handler table depends on neither class.
import type { Json, MutateOptions, StatecraftError, Store, Subscription, Txn, Update, Versions } from '@statecraft/core'
import type { Encoding, ServerMessage, UpdateBody } from '@statecraft/protocol'
import type { Log, ServerLimits } from './options.ts'
import type { PresenceRooms } from './presence.ts'

export interface ServerContext {
  readonly limits: ServerLimits
  readonly heartbeatMs: number
  readonly log: Log
  /** store.mutate, with concurrent re-sends of one {clientId, seq} (from two connections) run once. */
  mutate(store: Store, txn: Txn, options: MutateOptions): Promise<Versions>
  /** The presence rooms of every connection (in memory, never in the store). */
  readonly presence: PresenceRooms
  /**
   * The encoded body of update `u`, pushed with `shared` (core's `Feed.push`): every connection
   * that gets the same `shared` gets the same content, so it is encoded once per encoding.
   */
  updateBody(shared: object, u: Update, encoding: Encoding): UpdateBody
}

export type SessionState = 'hello' | 'authenticating' | 'ready' | 'closed'

export interface Session {
  readonly id: string
  readonly state: SessionState
  /** Answers a hello: checks the version, authenticates the token, then sends `welcome`. */
  open(protocol: number, token: string | undefined, encoding: Encoding, capabilities: readonly string[]): void
  /** Runs a request (fetch, getOps, mutate: `mutate` true) against the connection's store and sends its reply. */
  request(id: number, run: (store: Store, server: ServerContext) => Promise<ServerMessage>, mutate?: boolean): void
  /** Opens subscription `id` and streams its updates. */
  subscribe(id: number, open: (store: Store) => Subscription): void
  unsubscribe(id: number): void
  /** Joins presence room `room` (answered by `presence` with `id`, or an error with it). */
  presenceJoin(id: number, room: string, state: Json | null): void
  /** Sets this connection's state in a room it is in (or joining). */
  presenceSet(room: string, state: Json | null): void
  /** Leaves a room; a no-op when not in it. */
  presenceLeave(room: string): void
  send(msg: ServerMessage): void
  /** Answers a message that cannot be acted on with an error (naming `id` when given), and logs it once. */
  refuse(error: StatecraftError, id?: number): void
}
