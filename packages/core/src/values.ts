// Values: validation (JSON or binary), freezing so stored values cannot be changed from outside,
// and byte-exact copies of binary values.
import { StatecraftError } from './errors.ts'
import type { Json, Value } from './types.ts'

export const isBinary = (v: unknown): v is Uint8Array => v instanceof Uint8Array

/** A name for error messages, built only when one is thrown. */
export type Where = string | (() => string)

export const whereOf = (where: Where): string => (typeof where === 'string' ? where : where())

/**
 * Throws `invalid`, naming the path, unless `v` is a JSON value or a Uint8Array. The path strings
 * are built only for a value that fails (a first pass just judges it).
 */
export function checkValue(v: unknown, where: Where = 'value'): asserts v is Value {
  if (isBinary(v) || isJsonValue(v, 0)) return
  checkJson(v, whereOf(where), 0)
  // checkJson throws for everything isJsonValue refuses; if the two ever disagree, say so.
  throw new StatecraftError('internal', `${whereOf(where)} was refused without a reason`)
}

/**
 * How deep arrays and objects may nest: a value is refused when an array or object sits this many
 * levels down (the top value is level 0), so at most 1000 levels of containers. One limit for the
 * stores, the client and the wire (protocol's frame checks use `isJson`).
 */
export const MAX_DEPTH = 1000

/** True when `v` is a JSON value a store can hold (no Uint8Array inside; see MAX_DEPTH). */
export const isJson = (v: unknown): v is Json => isJsonValue(v, 0)

/** checkJson's judgement, without the paths. (for…in: a plain or null-prototype object has only its own keys to visit, and no array of them is made.) */
function isJsonValue(v: unknown, depth: number): boolean {
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
        for (let i = 0; i < v.length; i++) if (!isJsonValue(v[i], depth + 1)) return false
        return true
      }
      const proto = Object.getPrototypeOf(v)
      if (proto !== Object.prototype && proto !== null) return false
      for (const k in v) if (!isJsonValue((v as Record<string, unknown>)[k], depth + 1)) return false
      return true
    }
    default:
      return false
  }
}

function checkJson(v: unknown, path: string, depth: number): void {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return
    case 'number':
      if (!Number.isFinite(v)) throw new StatecraftError('invalid', `${path} is ${v}, which JSON cannot hold`)
      return
    case 'object': {
      if (v === null) return
      if (depth >= MAX_DEPTH) throw new StatecraftError('invalid', `${path} is nested too deeply (over ${MAX_DEPTH} levels)`)
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++) checkJson(v[i], `${path}[${i}]`, depth + 1)
        return
      }
      const proto = Object.getPrototypeOf(v)
      if (proto !== Object.prototype && proto !== null) {
        const name = (v as object).constructor?.name ?? 'object'
        throw new StatecraftError('invalid', `${path} is a ${name}; values are JSON or a Uint8Array`)
      }
      for (const k in v) checkJson((v as Record<string, unknown>)[k], `${path}.${k}`, depth + 1)
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
  if (Array.isArray(v)) {
    for (const x of v) freezeJson(x)
    return v
  }
  // for…in, not Object.values (no array per object): JSON objects have only own, enumerable keys.
  const o = v as Record<string, Json>
  for (const k in o) freezeJson(o[k] as Json)
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
