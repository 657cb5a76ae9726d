// Every message a server sends, as a zod schema; clients parse frames with these.
import * as z from 'zod'
import { entriesSchema, idSchema, keySchema, storeInfoSchema, txnRecordSchema, versionsSchema, wireErrorSchema } from './schemas.ts'

export const limitsSchema = z.object({
  /** Frames larger than this are refused with `too-large`. */
  maxFrameBytes: z.int().min(0),
  /** Open subscriptions per connection. */
  maxSubscriptions: z.int().min(0),
  /** Unanswered fetch, getOps and mutate requests per connection. */
  maxInFlight: z.int().min(0),
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
])

export type Limits = z.infer<typeof limitsSchema>
export type WelcomeMessage = z.infer<typeof welcomeSchema>
export type FetchedMessage = z.infer<typeof fetchedSchema>
export type OpsMessage = z.infer<typeof opsSchema>
export type MutatedMessage = z.infer<typeof mutatedSchema>
export type UpdateMessage = z.infer<typeof updateSchema>
export type UnsubscribedMessage = z.infer<typeof unsubscribedSchema>
export type ErrorMessage = z.infer<typeof errorSchema>
export type ServerMessage = z.infer<typeof serverMessageSchema>
export type ServerMessageType = ServerMessage['type']
