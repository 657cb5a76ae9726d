// Checks that a decoded value is one a store can hold: JSON (plain objects, arrays, finite numbers,
// strings, booleans, null) or a Uint8Array at the top. Everything a frame carries is untrusted.
import type { Json, Value } from '@statecraft/core'

/** Deeper than this is refused (matches core's value check). */
export const MAX_DEPTH = 1000

/** True when `v` is a JSON value (no Uint8Array inside). */
export function isJson(v: unknown, depth = 0): v is Json {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(v)
    case 'object': {
      if (v === null) return true
      if (depth >= MAX_DEPTH) return false
      if (Array.isArray(v)) {
        for (const x of v) if (!isJson(x, depth + 1)) return false
        return true
      }
      const proto: unknown = Object.getPrototypeOf(v)
      if (proto !== Object.prototype && proto !== null) return false
      for (const k in v) if (!isJson((v as Record<string, unknown>)[k], depth + 1)) return false
      return true
    }
    default:
      return false
  }
}

/** True when `v` is a storable value: JSON, or a Uint8Array. */
export const isValue = (v: unknown): v is Value => v instanceof Uint8Array || isJson(v)

/** True when `v` is a plain JSON object. */
export const isJsonObject = (v: unknown): v is { [k: string]: Json } =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array) && isJson(v)
