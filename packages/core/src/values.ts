// Values: validation (JSON or binary), freezing so stored values cannot be changed from outside,
// and byte-exact copies of binary values.
import { StatecraftError } from './errors.ts'
import type { Json, Value } from './types.ts'

export const isBinary = (v: unknown): v is Uint8Array => v instanceof Uint8Array

/** Throws `invalid`, naming the path, unless `v` is a JSON value or a Uint8Array. */
export function checkValue(v: unknown, where = 'value'): asserts v is Value {
  if (isBinary(v)) return
  checkJson(v, where, 0)
}

function checkJson(v: unknown, path: string, depth: number): void {
  if (depth > 1000) throw new StatecraftError('invalid', `${path} is nested too deeply (over 1000 levels)`)
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return
    case 'number':
      if (!Number.isFinite(v)) throw new StatecraftError('invalid', `${path} is ${v}, which JSON cannot hold`)
      return
    case 'object': {
      if (v === null) return
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) checkJson(v[i], `${path}[${i}]`, depth + 1)
        return
      }
      const proto = Object.getPrototypeOf(v)
      if (proto !== Object.prototype && proto !== null) {
        const name = (v as object).constructor?.name ?? 'object'
        throw new StatecraftError('invalid', `${path} is a ${name}; values are JSON or a Uint8Array`)
      }
      for (const k of Object.keys(v)) checkJson((v as Record<string, unknown>)[k], `${path}.${k}`, depth + 1)
      return
    }
    default:
      throw new StatecraftError('invalid', `${path} is ${typeof v}; values are JSON or a Uint8Array`)
  }
}

/** Deep-freezes JSON (stopping at already-frozen parts, so re-freezing an edited doc is cheap). */
export function freezeJson<T extends Json>(v: T): T {
  if (typeof v !== 'object' || v === null || Object.isFrozen(v)) return v
  Object.freeze(v)
  if (Array.isArray(v)) for (const x of v) freezeJson(x)
  else for (const x of Object.values(v)) freezeJson(x)
  return v
}

/**
 * The form a store keeps: frozen JSON, or a private copy of binary data. JSON is frozen in place;
 * callers hand over ownership of the objects they pass.
 */
export function ownValue(v: Value): Value {
  return isBinary(v) ? v.slice() : freezeJson(v)
}

/** What a store hands out: frozen JSON as is, binary as a fresh copy. */
export function shareValue(v: Value): Value {
  return isBinary(v) ? v.slice() : v
}

export function valuesEqual(a: Value | undefined, b: Value | undefined): boolean {
  if (a === b) return true
  if (a === undefined || b === undefined) return false
  if (isBinary(a) || isBinary(b)) {
    if (!isBinary(a) || !isBinary(b) || a.length !== b.length) return false
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
    return true
  }
  return jsonEqual(a, b)
}

function jsonEqual(a: Json, b: Json): boolean {
  if (a === b) return true
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false
    return a.every((x, i) => jsonEqual(x, b[i] as Json))
  }
  if (Array.isArray(b)) return false
  const ka = Object.keys(a)
  if (ka.length !== Object.keys(b).length) return false
  return ka.every(k => k in b && jsonEqual(a[k] as Json, b[k] as Json))
}
