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
  if (n > KEY_MAX) return keyOf(readString(n))
  let h = n
  const start = pos
  const stop = pos + n
  for (let i = start; i < stop; i++) {
    const b = src[i] as number
    if (b >= 0x80) return keyOf(readString(n))
    h = Math.imul(h ^ b, 0x01000193)
  }
  const slot = (h ^ (h >>> 15)) & (KEY_SLOTS - 1)
  const cached = keyBytes[slot]
  if (cached !== undefined && cached.length === n) {
    let i = 0
    while (i < n && cached[i] === src[start + i]) i++
    if (i === n) {
      pos = stop
      return keyStrings[slot] as string
    }
  }
  const s = asciiString(start, n)
  pos = stop
  if (s === '__proto__') throw bail
  keyBytes[slot] = src.slice(start, stop)
  keyStrings[slot] = s
  return s
}

function keyOf(s: string): string {
  if (s === '__proto__') throw bail
  return s
}

/** `n` bytes of ASCII at `start` as a string. */
function asciiString(start: number, n: number): string {
  const b = src
  switch (n) {
    case 0:
      return ''
    case 1:
      return fromCharCode(b[start] as number)
    case 2:
      return fromCharCode(b[start] as number, b[start + 1] as number)
    case 3:
      return fromCharCode(b[start] as number, b[start + 1] as number, b[start + 2] as number)
    case 4:
      return fromCharCode(b[start] as number, b[start + 1] as number, b[start + 2] as number, b[start + 3] as number)
    default:
      return fromCharCode.apply(null, b.subarray(start, start + n) as unknown as number[])
  }
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
