// Every message a server sends, as a zod schema; clients parse frames with these.
import * as z from 'zod'
import { entriesSchema, idSchema, jsonSchema, keySchema, storeInfoSchema, txnRecordSchema, versionsSchema, wireErrorSchema } from './schemas.ts'

export const limitsSchema = z.object({
  /** Frames larger than this are refused with `too-large`. */
  maxFrameBytes: z.int().min(0),
  /** Open subscriptions per connection. */
  maxSubscriptions: z.int().min(0),
  /** Unanswered fetch, getOps and mutate requests per connection. */
  maxInFlight: z.int().min(0),
  /** Presence rooms (joined or joining) per connection. Absent from servers without presence. */
  maxPresenceRooms: z.int().min(0).exactOptional(),
  /** The largest presence state, as the length of its JSON text (UTF-16 code units). */
  maxPresenceStateBytes: z.int().min(0).exactOptional(),
  /** A peer's state goes to the others at most once per this interval (later sets are coalesced). */
  presenceIntervalMs: z.int().min(0).exactOptional(),
})

/** The answer to `hello`: the store the connection speaks to and the rules of the connection. */
export const welcomeSchema = z.object({
  type: z.literal('welcome'),
  protocol: z.int(),
  /** The encoding the server sends in from now on. */
  encoding: z.enum(['msgpack', 'json']),
  connectionId: z.string(),
  info: storeInfoSchema,
  limits: limitsSchema,
  /** The server pings at this interval and closes a connection silent for two of them. */
  heartbeatMs: z.int().min(0),
  capabilities: z.array(z.string()),
})

export const fetchedSchema = z.object({
  type: z.literal('fetched'),
  id: idSchema,
  results: entriesSchema,
  versions: versionsSchema,
  more: z.boolean().exactOptional(),
})

export const opsSchema = z.object({ type: z.literal('ops'), id: idSchema, txns: z.array(txnRecordSchema) })

export const mutatedSchema = z.object({ type: z.literal('mutated'), id: idSchema, versions: versionsSchema })

/** One step of subscription `id` (a core `Update`, with maps as [key, value] pairs). */
export const updateSchema = z.object({
  type: z.literal('update'),
  id: idSchema,
  replace: entriesSchema.exactOptional(),
  txns: z.array(txnRecordSchema),
  leave: z.array(keySchema).exactOptional(),
  enter: entriesSchema.exactOptional(),
  versions: versionsSchema,
  caughtUp: z.boolean(),
  /**
   * Replies to this connection's `mutate`s, each as its own `mutated` message would have been:
   * only to a client that asked for `mutated-in-update`, and applied after the update.
   */
  mutated: z.array(z.object({ id: idSchema, versions: versionsSchema })).exactOptional(),
})

/** Subscription `id` is closed; no update for it follows. */
export const unsubscribedSchema = z.object({ type: z.literal('unsubscribed'), id: idSchema })

/**
 * With `id`: request `id` failed, or subscription `id` ended. Without: a frame could not be tied to
 * an open request (malformed, unknown type, reused id) and was dropped.
 */
export const errorSchema = z.object({ type: z.literal('error'), id: idSchema.exactOptional(), error: wireErrorSchema })

export const serverPingSchema = z.object({ type: z.literal('ping'), nonce: z.int().exactOptional() })
export const serverPongSchema = z.object({ type: z.literal('pong'), nonce: z.int().exactOptional() })

/** A peer id: opaque, random, one per connection (the same in every room the connection joins). */
export const peerSchema = z.string()

/** A peer's state in a room: any JSON value but null (null is no state: the peer is not shown). */
export const presencePeerSchema = z.object({ peer: peerSchema, state: jsonSchema })

/**
 * The answer to `presence-join` `id`: the connection is now in `room`. `peer`: its own peer id.
 * `peers`: the other peers in the room that have a state, in no particular order.
 */
export const presenceSnapshotSchema = z.object({
  type: z.literal('presence'),
  id: idSchema,
  room: z.string(),
  peer: peerSchema,
  peers: z.array(presencePeerSchema),
})

/** Peer `peer` of `room` has a new state; null: it left (or cleared its state). */
export const presenceUpdateSchema = z.object({
  type: z.literal('presence-update'),
  room: z.string(),
  peer: peerSchema,
  state: jsonSchema,
})

export const serverMessageSchema = z.discriminatedUnion('type', [
  welcomeSchema,
  fetchedSchema,
  opsSchema,
  mutatedSchema,
  updateSchema,
  unsubscribedSchema,
  errorSchema,
  serverPingSchema,
  serverPongSchema,
  presenceSnapshotSchema,
  presenceUpdateSchema,
])

export type Limits = z.infer<typeof limitsSchema>
export type WelcomeMessage = z.infer<typeof welcomeSchema>
export type FetchedMessage = z.infer<typeof fetchedSchema>
export type OpsMessage = z.infer<typeof opsSchema>
export type MutatedMessage = z.infer<typeof mutatedSchema>
export type UpdateMessage = z.infer<typeof updateSchema>
export type UnsubscribedMessage = z.infer<typeof unsubscribedSchema>
export type ErrorMessage = z.infer<typeof errorSchema>
export type PresencePeer = z.infer<typeof presencePeerSchema>
export type PresenceSnapshotMessage = z.infer<typeof presenceSnapshotSchema>
export type PresenceUpdateMessage = z.infer<typeof presenceUpdateSchema>
export type ServerMessage = z.infer<typeof serverMessageSchema>
export type ServerMessageType = ServerMessage['type']
