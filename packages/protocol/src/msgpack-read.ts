// A lean MessagePack reader for the frames the protocol sends: maps (string keys), arrays, strings,
// numbers, booleans and nil. It gives exactly what msgpackr (with the codec's options) gives for
// those; anything else (binary, extensions, 0xC1, float32, a non-string or `__proto__` key, a
// truncated or malformed frame, invalid UTF-8) makes it give up (`BAIL`) and the codec reads the
// frame with msgpackr, so results and errors stay msgpackr's.
//
// Why: msgpackr's native string extraction (used for frames of 140+ bytes, so for every update
// frame) hands out slices of one string, each key a new string that V8 must look up in its string
// table on every property store, and the slices then have to be copied out (`ownStrings`). Here
// keys come from a small cache of strings already used as keys, and every string is a flat string
// of its own (nothing retains the frame), so no copying walk follows.

import type { ServerMessage } from './server-messages.ts'
import { isJson, isJsonObject, isValue } from './wire-value.ts'

/** Returned when the frame holds something this reader leaves to msgpackr. */
export const BAIL: unique symbol = Symbol('bail') as never

class Bail extends Error {}
const bail = new Bail()

var src: Uint8Array = new Uint8Array(0)
var pos = 0
var end = 0

const f64 = new Float64Array(1)
const f64Bytes = new Uint8Array(f64.buffer)
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })
const fromCharCode = String.fromCharCode

// Keys: a direct-mapped cache of ASCII keys up to KEY_MAX bytes, compared byte for byte on a hit.
const KEY_SLOTS = 4096
const KEY_MAX = 64
const keyStrings: (string | undefined)[] = Array.from({ length: KEY_SLOTS }, () => undefined)
const keyBytes: (Uint8Array | undefined)[] = Array.from({ length: KEY_SLOTS }, () => undefined)

/** Reads the frame `bytes` as one MessagePack value, or returns BAIL (see above). Never throws. */
export function readMsgpack(bytes: Uint8Array): unknown {
  src = bytes
  pos = 0
  end = bytes.length
  try {
    const v = read()
    if (pos !== end) return BAIL
    return v
  } catch {
    // Bail, a stack overflow on deep nesting, anything: msgpackr decides (and words the error).
    return BAIL
  } finally {
    src = EMPTY
  }
}

const EMPTY = new Uint8Array(0)

function need(n: number): void {
  if (n > end - pos) throw bail
}

function u16(): number {
  need(2)
  const v = ((src[pos] as number) << 8) | (src[pos + 1] as number)
  pos += 2
  return v
}

function u32(): number {
  need(4)
  const v = (src[pos] as number) * 0x1000000 + (((src[pos + 1] as number) << 16) | ((src[pos + 2] as number) << 8) | (src[pos + 3] as number))
  pos += 4
  return v
}

function float64(): number {
  need(8)
  if (littleEndian) for (let i = 0; i < 8; i++) f64Bytes[i] = src[pos + 7 - i] as number
  else for (let i = 0; i < 8; i++) f64Bytes[i] = src[pos + i] as number
  pos += 8
  return f64[0] as number
}

function read(): unknown {
  if (pos >= end) throw bail
  const t = src[pos++] as number
  if (t < 0x80) return t
  if (t < 0x90) return readMap(t & 0x0f)
  if (t < 0xa0) return readArray(t & 0x0f)
  if (t < 0xc0) return readString(t & 0x1f)
  if (t >= 0xe0) return t - 0x100
  switch (t) {
    case 0xc0:
      return null
    case 0xc2:
      return false
    case 0xc3:
      return true
    case 0xcb:
      return float64()
    case 0xcc:
      need(1)
      return src[pos++]
    case 0xcd:
      return u16()
    case 0xce:
      return u32()
    case 0xcf: {
      // As msgpackr's int64AsType 'number'.
      const hi = u32()
      return hi * 0x100000000 + u32()
    }
    case 0xd0: {
      need(1)
      const v = src[pos++] as number
      return v < 0x80 ? v : v - 0x100
    }
    case 0xd1: {
      const v = u16()
      return v < 0x8000 ? v : v - 0x10000
    }
    case 0xd2:
      return u32() | 0
    case 0xd3: {
      const hi = u32() | 0
      return hi * 0x100000000 + u32()
    }
    case 0xd9:
      need(1)
      return readString(src[pos++] as number)
    case 0xda:
      return readString(u16())
    case 0xdb:
      return readString(u32())
    case 0xdc:
      return readArray(u16())
    case 0xdd:
      return readArray(u32())
    case 0xde:
      return readMap(u16())
    case 0xdf:
      return readMap(u32())
    default:
      // bin, ext, float32, 0xC1: msgpackr's
      throw bail
  }
}

function readArray(n: number): unknown[] {
  if (n > end - pos) throw bail
  const a: unknown[] = []
  for (let i = 0; i < n; i++) a.push(read())
  return a
}

function readMap(n: number): Record<string, unknown> {
  if (n * 2 > end - pos) throw bail
  const o: Record<string, unknown> = {}
  for (let i = 0; i < n; i++) {
    const k = readKey()
    o[k] = read()
  }
  return o
}

function readKey(): string {
  if (pos >= end) throw bail
  const t = src[pos++] as number
  let n: number
  if (t >= 0xa0 && t < 0xc0) n = t & 0x1f
  else if (t === 0xd9) {
    need(1)
    n = src[pos++] as number
  } else throw bail // a non-string key (msgpackr converts), or a long one
  need(n)
  if (n > KEY_MAX || n === 0) return keyOf(readString(n))
  const start = pos
  const stop = pos + n
  // A few bytes pick the slot; a hit is checked byte for byte (entries are ASCII: so is a match).
  const slot = (n * 0x9e5 + (src[start] as number) * 0x3b + (src[stop - 1] as number) * 0x1f1 + (src[start + (n >> 1)] as number) * 0x7) & (KEY_SLOTS - 1)
  const cached = keyBytes[slot]
  if (cached !== undefined && cached.length === n) {
    let i = 0
    while (i < n && cached[i] === src[start + i]) i++
    if (i === n) {
      pos = stop
      return keyStrings[slot] as string
    }
  }
  for (let i = start; i < stop; i++) if ((src[i] as number) >= 0x80) return keyOf(readString(n))
  const s = asciiString(start, n)
  pos = stop
  if (s === '__proto__') throw bail
  // A copy (a Node Buffer's slice would be a view of the frame).
  keyBytes[slot] = Uint8Array.prototype.slice.call(src, start, stop)
  keyStrings[slot] = s
  return s
}

function keyOf(s: string): string {
  if (s === '__proto__') throw bail
  return s
}

/** Arrays of each length up to KEY_MAX, to make strings of without a view per string. */
const units: number[][] = Array.from({ length: KEY_MAX + 1 }, (_, n) => Array.from({ length: n }, () => 0))

/** `n` (at most KEY_MAX) bytes of ASCII at `start` as a string. */
function asciiString(start: number, n: number): string {
  const a = units[n] as number[]
  for (let i = 0; i < n; i++) a[i] = src[start + i] as number
  return fromCharCode.apply(null, a)
}

function readString(n: number): string {
  need(n)
  const start = pos
  if (n <= 64) {
    const stop = start + n
    let i = start
    while (i < stop && (src[i] as number) < 0x80) i++
    if (i === stop) {
      pos = stop
      return asciiString(start, n)
    }
  }
  // Throws on invalid UTF-8 (a lone surrogate's bytes, say): msgpackr then reads it its way.
  const s = utf8.decode(src.subarray(start, start + n))
  pos = start + n
  return s
}

// ---- update messages, read in one pass (anything out of place gives up, as above: `bail`)

type Obj = Record<string, unknown>

const isId = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0

/** The count of a map header at `pos`. */
function mapHeader(): number {
  if (pos >= end) throw bail
  const t = src[pos++] as number
  if (t >= 0x80 && t < 0x90) return t & 0x0f
  if (t === 0xde) return u16()
  if (t === 0xdf) return u32()
  throw bail
}

function arrayHeader(): number {
  if (pos >= end) throw bail
  const t = src[pos++] as number
  if (t >= 0x90 && t < 0xa0) return t & 0x0f
  if (t === 0xdc) return u16()
  if (t === 0xdd) return u32()
  throw bail
}

function readId(): number {
  const v = read()
  if (!isId(v)) throw bail
  return v
}

/** An array (its header at `pos`) of what `item` reads. */
function readList<T>(item: () => T): T[] {
  const n = arrayHeader()
  if (n > end - pos) throw bail
  const out: T[] = []
  for (let i = 0; i < n; i++) out.push(item())
  return out
}

/** A [key, item] pair, the key through the key cache (txn and entry keys repeat from frame to frame). */
function readPair<T>(item: () => T): [string, T] {
  if (arrayHeader() !== 2) throw bail
  const k = readKey()
  return [k, item()]
}

function readVersions(): Obj {
  const n = mapHeader()
  if (n * 2 > end - pos) throw bail
  const o: Obj = {}
  for (let i = 0; i < n; i++) {
    const k = readKey()
    o[k] = readId()
  }
  return o
}

function readStoredValue(): unknown {
  const v = read()
  if (!isValue(v)) throw bail
  return v
}

/** An op: {type, value} (set), {type} (del) or {type, op}, `type` first, as a valid one is written. */
function readOp(): Obj {
  const n = mapHeader()
  if (n === 0 || readKey() !== 'type') throw bail
  // Op types, keys and the like repeat from frame to frame: read through the key cache (no new string).
  const type = readKey()
  if (type === 'del') {
    if (n !== 1) throw bail
    return { type }
  }
  if (n !== 2) throw bail
  if (type === 'set') {
    if (readKey() !== 'value') throw bail
    return { type, value: readStoredValue() }
  }
  if (readKey() !== 'op') throw bail
  const op = read()
  if (!isJson(op)) throw bail
  return { type, op }
}

const readTxnEntry = (): [string, Obj] => readPair(readOp)
const readEntry = (): [string, unknown] => readPair(readStoredValue)

function readRecord(): Obj {
  const m = mapHeader()
  let versions: Obj | undefined
  let txn: [string, Obj][] | undefined
  let meta: unknown
  for (let j = 0; j < m; j++) {
    switch (readKey()) {
      case 'versions':
        if (versions !== undefined) throw bail
        versions = readVersions()
        break
      case 'txn':
        if (txn !== undefined) throw bail
        txn = readList(readTxnEntry)
        break
      case 'meta':
        if (meta !== undefined) throw bail
        meta = read()
        if (!isJsonObject(meta)) throw bail
        break
      default:
        throw bail
    }
  }
  if (versions === undefined || txn === undefined) throw bail
  return meta === undefined ? { versions, txn } : { versions, txn, meta }
}

function readAck(): Obj {
  const m = mapHeader()
  let id: number | undefined
  let versions: Obj | undefined
  for (let j = 0; j < m; j++) {
    const k = readKey()
    if (k === 'id' && id === undefined) id = readId()
    else if (k === 'versions' && versions === undefined) versions = readVersions()
    else throw bail
  }
  if (id === undefined || versions === undefined) throw bail
  return { id, versions }
}

/**
 * The frame `bytes` as an `update` message, when it is one that the hand-written check
 * (fast-check.ts) would accept, read in one pass into the objects that check would return (no
 * general objects first, no second walk): the same fields and values. Undefined for anything else
 * (another message, a field out of place, binary, …): the frame then takes the general path.
 */
export function readUpdateMessage(bytes: Uint8Array): ServerMessage | undefined {
  src = bytes
  pos = 0
  end = bytes.length
  try {
    const n = mapHeader()
    if (n < 2 || readKey() !== 'type' || readKey() !== 'update' || readKey() !== 'id') return undefined
    const id = readId()
    let txns: Obj[] | undefined
    let versions: Obj | undefined
    let caughtUp: boolean | undefined
    let replace: [string, unknown][] | undefined
    let leave: string[] | undefined
    let enter: [string, unknown][] | undefined
    let mutated: Obj[] | undefined
    for (let i = 2; i < n; i++) {
      switch (readKey()) {
        case 'txns':
          if (txns !== undefined) return undefined
          txns = readList(readRecord)
          break
        case 'versions':
          if (versions !== undefined) return undefined
          versions = readVersions()
          break
        case 'caughtUp': {
          if (caughtUp !== undefined) return undefined
          const c = read()
          if (typeof c !== 'boolean') return undefined
          caughtUp = c
          break
        }
        case 'replace':
          if (replace !== undefined) return undefined
          replace = readList(readEntry)
          break
        case 'leave':
          if (leave !== undefined) return undefined
          leave = readList(readKey)
          break
        case 'enter':
          if (enter !== undefined) return undefined
          enter = readList(readEntry)
          break
        case 'mutated':
          if (mutated !== undefined) return undefined
          mutated = readList(readAck)
          break
        default:
          return undefined
      }
    }
    if (pos !== end || txns === undefined || versions === undefined || caughtUp === undefined) return undefined
    const m: Obj = { type: 'update', id, txns, versions, caughtUp }
    if (replace !== undefined) m.replace = replace
    if (leave !== undefined) m.leave = leave
    if (enter !== undefined) m.enter = enter
    if (mutated !== undefined) m.mutated = mutated
    return m as ServerMessage
  } catch {
    return undefined
  } finally {
    src = EMPTY
  }
}
