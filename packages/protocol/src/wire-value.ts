// Checks that a decoded value is one a store can hold: JSON (plain objects, arrays, finite numbers,
// strings, booleans, null) or a Uint8Array at the top. Everything a frame carries is untrusted.
import { isJson, type Json, type Value } from '@statecraft/core'

// The JSON check and its depth limit are core's, so that what a client or store takes is exactly
// what the wire takes.
export { isJson, MAX_DEPTH } from '@statecraft/core'

/** True when `v` is a storable value: JSON, or a Uint8Array. */
export const isValue = (v: unknown): v is Value => v instanceof Uint8Array || isJson(v)

/** True when `v` is a plain JSON object. */
export const isJsonObject = (v: unknown): v is { [k: string]: Json } =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && isJson(v)
