// Every message a client sends, as a zod schema; the server parses each untrusted frame with these.
import * as z from 'zod'
import { idSchema, jsonObjectSchema, keySchema, querySchema, txnSchema, versionsSchema } from './schemas.ts'

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

export const clientMessageSchema = z.discriminatedUnion('type', [
  helloSchema,
  fetchSchema,
  getOpsSchema,
  mutateSchema,
  subscribeSchema,
  unsubscribeSchema,
  pingSchema,
  pongSchema,
])

export type HelloMessage = z.infer<typeof helloSchema>
export type FetchMessage = z.infer<typeof fetchSchema>
export type GetOpsMessage = z.infer<typeof getOpsSchema>
export type MutateMessage = z.infer<typeof mutateSchema>
export type SubscribeMessage = z.infer<typeof subscribeSchema>
export type UnsubscribeMessage = z.infer<typeof unsubscribeSchema>
export type PingMessage = z.infer<typeof pingSchema>
export type PongMessage = z.infer<typeof pongSchema>
export type ClientMessage = z.infer<typeof clientMessageSchema>
export type ClientMessageType = ClientMessage['type']
export const CLIENT_MESSAGE_TYPES: readonly ClientMessageType[] = ['hello', 'fetch', 'getOps', 'mutate', 'subscribe', 'unsubscribe', 'ping', 'pong']
/** Client messages that are requests: they carry an `id` and get exactly one reply (or, for subscribe, a stream). */
export type RequestMessage = FetchMessage | GetOpsMessage | MutateMessage | SubscribeMessage
