// Every message a client sends, as a zod schema; the server parses each untrusted frame with these.
import * as z from 'zod'
import { idSchema, jsonObjectSchema, jsonSchema, keySchema, querySchema, txnSchema, versionsSchema } from './schemas.ts'

/** The first message on a connection. Nothing else may be sent before the server's `welcome`. */
export const helloSchema = z.object({
  type: z.literal('hello'),
  /** The protocol version the client speaks (PROTOCOL_VERSION). */
  protocol: z.int(),
  /** Handed to the server's `authenticate`. */
  token: z.string().exactOptional(),
  /** The encoding the server should answer in; default: the encoding of the hello frame. */
  encoding: z.enum(['msgpack', 'json']).exactOptional(),
  /** Optional features the client understands (none are defined in version 1; unknown ones are ignored). */
  capabilities: z.array(z.string()).exactOptional(),
})

export const fetchSchema = z.object({
  type: z.literal('fetch'),
  id: idSchema,
  query: querySchema,
  atVersion: versionsSchema.exactOptional(),
  minVersion: versionsSchema.exactOptional(),
})

export const getOpsSchema = z.object({
  type: z.literal('getOps'),
  id: idSchema,
  query: querySchema,
  from: versionsSchema,
  to: versionsSchema.exactOptional(),
  limit: z.int().min(0).exactOptional(),
})

export const mutateSchema = z.object({
  type: z.literal('mutate'),
  id: idSchema,
  txn: txnSchema,
  baseVersions: versionsSchema.exactOptional(),
  conflictKeys: z.array(keySchema).exactOptional(),
  clientId: z.string().exactOptional(),
  seq: z.int().min(0).exactOptional(),
  meta: jsonObjectSchema.exactOptional(),
})

/** Opens a subscription named by `id` until `unsubscribe` or an `error` for that id. */
export const subscribeSchema = z.object({
  type: z.literal('subscribe'),
  id: idSchema,
  query: querySchema,
  fromVersion: versionsSchema.exactOptional(),
})

export const unsubscribeSchema = z.object({ type: z.literal('unsubscribe'), id: idSchema })

export const pingSchema = z.object({ type: z.literal('ping'), nonce: z.int().exactOptional() })
export const pongSchema = z.object({ type: z.literal('pong'), nonce: z.int().exactOptional() })

/** The longest room name (UTF-16 code units). */
export const MAX_ROOM_LENGTH = 1024

/** The size a presence state counts as against `maxPresenceStateBytes`: the length of its JSON text (UTF-16 code units). */
export const presenceStateSize = (state: unknown): number => JSON.stringify(state)?.length ?? 0

/** A presence room: a non-empty key-like string (with rules, the key whose readers may join it). */
export const roomSchema = z.string().min(1).max(MAX_ROOM_LENGTH)

/**
 * Joins presence room `room`: answered by `presence` with this id (the snapshot), or `error` with it.
 * `state`: this peer's first state (null or absent: none yet; others see the peer once it has one).
 */
export const presenceJoinSchema = z.object({
  type: z.literal('presence-join'),
  id: idSchema,
  room: roomSchema,
  state: jsonSchema.exactOptional(),
})

/** Sets this peer's state in a room it joined (null clears it: others see the peer leave). No reply. */
export const presenceSetSchema = z.object({ type: z.literal('presence-set'), room: roomSchema, state: jsonSchema })

/** Leaves a room (a no-op when not in it). No reply. */
export const presenceLeaveSchema = z.object({ type: z.literal('presence-leave'), room: roomSchema })

export const clientMessageSchema = z.discriminatedUnion('type', [
  helloSchema,
  fetchSchema,
  getOpsSchema,
  mutateSchema,
  subscribeSchema,
  unsubscribeSchema,
  pingSchema,
  pongSchema,
  presenceJoinSchema,
  presenceSetSchema,
  presenceLeaveSchema,
])

export type HelloMessage = z.infer<typeof helloSchema>
export type FetchMessage = z.infer<typeof fetchSchema>
export type GetOpsMessage = z.infer<typeof getOpsSchema>
export type MutateMessage = z.infer<typeof mutateSchema>
export type SubscribeMessage = z.infer<typeof subscribeSchema>
export type UnsubscribeMessage = z.infer<typeof unsubscribeSchema>
export type PingMessage = z.infer<typeof pingSchema>
export type PongMessage = z.infer<typeof pongSchema>
export type PresenceJoinMessage = z.infer<typeof presenceJoinSchema>
export type PresenceSetMessage = z.infer<typeof presenceSetSchema>
export type PresenceLeaveMessage = z.infer<typeof presenceLeaveSchema>
export type ClientMessage = z.infer<typeof clientMessageSchema>
export type ClientMessageType = ClientMessage['type']
export const CLIENT_MESSAGE_TYPES: readonly ClientMessageType[] = [
  'hello', 'fetch', 'getOps', 'mutate', 'subscribe', 'unsubscribe', 'ping', 'pong', 'presence-join', 'presence-set', 'presence-leave',
]
/** Client messages that are requests: they carry an `id` and get exactly one reply (or, for subscribe, a stream). */
export type RequestMessage = FetchMessage | GetOpsMessage | MutateMessage | SubscribeMessage
