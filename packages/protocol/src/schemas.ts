// The zod schemas of the pieces messages are built from: ids, keys, versions, queries, values, ops,
// txns (arrays of [key, op] pairs), results, txn records, errors and store info.
import * as z from 'zod'
import { ERROR_CODES } from '@statecraft/core'
import type { Json, Value } from '@statecraft/core'
import { isJson, isJsonObject, isValue } from './wire-value.ts'

/** A request id: chosen by the client, unique among its open requests and subscriptions. */
export const idSchema = z.int().min(0)
export const keySchema = z.string()
export const versionsSchema = z.record(z.string(), z.int().min(0))

export const jsonSchema = z.custom<Json>(v => isJson(v), { message: 'expected a JSON value' })
export const valueSchema = z.custom<Value>(v => isValue(v), { message: 'expected a JSON value or binary (Uint8Array)' })
/** A JSON object (meta, error details), typed as core types it. */
export const jsonObjectSchema = z.custom<Record<string, unknown>>(v => isJsonObject(v), { message: 'expected a JSON object' })

export const keysQuerySchema = z.object({ kind: z.literal('keys'), keys: z.array(keySchema) })
export const rangeQuerySchema = z.object({
  kind: z.literal('range'),
  from: keySchema.exactOptional(),
  to: keySchema.exactOptional(),
  prefix: keySchema.exactOptional(),
  limit: z.int().min(0).exactOptional(),
  reverse: z.boolean().exactOptional(),
})
export const nativeQuerySchema = z.object({ kind: z.literal('native'), backend: z.string(), query: jsonSchema })
export const querySchema = z.discriminatedUnion('kind', [keysQuerySchema, rangeQuerySchema, nativeQuerySchema])

export const setOpSchema = z.object({ type: z.literal('set'), value: valueSchema })
export const delOpSchema = z.object({ type: z.literal('del') })
/** An OT op: `type` names a registered OT type (json1, text); `op` is its JSON payload. */
export const otOpSchema = z.object({
  type: z.string().refine(t => t !== 'set' && t !== 'del', { message: 'an OT op type other than set or del' }),
  op: jsonSchema,
})
export const opSchema = z.union([setOpSchema, delOpSchema, otOpSchema])

/** A txn on the wire: [key, op] pairs, each key once. */
export const txnSchema = z.array(z.tuple([keySchema, opSchema]))
/** A key → value map on the wire: [key, value] pairs. */
export const entriesSchema = z.array(z.tuple([keySchema, valueSchema]))

export const txnRecordSchema = z.object({ versions: versionsSchema, txn: txnSchema, meta: jsonObjectSchema.exactOptional() })

/** An error as data. Receivers map codes they do not know to `internal`. */
export const wireErrorSchema = z.object({
  code: z.string(),
  message: z.string(),
  details: jsonObjectSchema.exactOptional(),
})
export const errorCodeSchema = z.enum(ERROR_CODES)

export const storeInfoSchema = z.object({
  uid: z.string(),
  sources: z.array(z.string()),
  capabilities: z.object({
    queries: z.array(z.enum(['keys', 'range', 'native'])),
    opTypes: z.array(z.string()),
    mutable: z.boolean(),
    history: z.boolean(),
  }),
})

export type WireOp = z.infer<typeof opSchema>
export type WireTxn = z.infer<typeof txnSchema>
export type WireEntries = z.infer<typeof entriesSchema>
export type WireTxnRecord = z.infer<typeof txnRecordSchema>
export type WireQuery = z.infer<typeof querySchema>
