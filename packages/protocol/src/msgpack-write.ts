// A lean MessagePack writer for the messages the protocol sends: plain objects, arrays, strings,
// numbers, booleans and null. It writes the very bytes msgpackr (with the codec's options) writes
// for them (maps as map16, numbers and strings with the same headers, U+FFFD for a lone
// surrogate), so the codec's checks on the bytes decide as before; for anything else (binary,
// undefined, class instances, a map of 65,536+ keys) it gives up (`BAIL`) and the codec packs the
// message with msgpackr.
//
// Why: a client writes one small message now and then, and msgpackr's packer is a large function
// that is rarely hot there; this one runs a handful of small loops.

import { BAIL } from './msgpack-read.ts'

class Bail extends Error {}
const bail = new Bail()

// Messages are written one after another into a pool and handed out as views of it (as msgpackr
// does): no copy per message. A message that does not fit starts a new pool.
const POOL = 16384
let buf = new Uint8Array(POOL)
/** Where the message being written starts in `buf`. */
let start = 0
let pos = 0

const f64 = new Float64Array(1)
const f64Bytes = new Uint8Array(f64.buffer)
const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1
const utf8 = new TextEncoder()

/** `msg` as MessagePack bytes (a view no later message overwrites), or BAIL (see above). Never throws. */
export function writeMsgpack(msg: unknown): Uint8Array | typeof BAIL {
  pos = start
  try {
    write(msg)
  } catch {
    // Bail, or a stack overflow on deep nesting: msgpackr decides.
    return BAIL
  }
  const out = buf.subarray(start, pos)
  // The next message starts 8-aligned; a pool made big for one huge message is not kept.
  start = (pos + 7) & ~7
  if (start > buf.length - 64 || buf.length > POOL * 64) {
    buf = new Uint8Array(POOL)
    start = 0
  }
  return out
}

function room(n: number): void {
  if (pos + n <= buf.length) return
  const b = new Uint8Array(Math.max(POOL, (pos - start + n) * 2))
  b.set(buf.subarray(start, pos))
  pos -= start
  start = 0
  buf = b
}

function write(v: unknown): void {
  switch (typeof v) {
    case 'string':
      writeString(v)
      return
    case 'number':
      writeNumber(v)
      return
    case 'boolean':
      room(1)
      buf[pos++] = v ? 0xc3 : 0xc2
      return
    case 'object':
      if (v === null) {
        room(1)
        buf[pos++] = 0xc0
        return
      }
      if (v.constructor === Object) writeMap(v as Record<string, unknown>)
      else if (v.constructor === Array) writeArray(v as unknown[])
      else throw bail
      return
    default:
      throw bail
  }
}

function writeNumber(v: number): void {
  room(9)
  if (v >>> 0 === v) {
    if (v < 0x80) buf[pos++] = v
    else if (v < 0x100) {
      buf[pos++] = 0xcc
      buf[pos++] = v
    } else if (v < 0x10000) {
      buf[pos++] = 0xcd
      buf[pos++] = v >> 8
      buf[pos++] = v & 0xff
    } else {
      buf[pos++] = 0xce
      buf[pos++] = v >>> 24
      buf[pos++] = (v >> 16) & 0xff
      buf[pos++] = (v >> 8) & 0xff
      buf[pos++] = v & 0xff
    }
  } else if (v >> 0 === v) {
    if (v >= -0x20) buf[pos++] = 0x100 + v
    else if (v >= -0x80) {
      buf[pos++] = 0xd0
      buf[pos++] = v + 0x100
    } else if (v >= -0x8000) {
      buf[pos++] = 0xd1
      buf[pos++] = (v >> 8) & 0xff
      buf[pos++] = v & 0xff
    } else {
      buf[pos++] = 0xd2
      buf[pos++] = (v >> 24) & 0xff
      buf[pos++] = (v >> 16) & 0xff
      buf[pos++] = (v >> 8) & 0xff
      buf[pos++] = v & 0xff
    }
  } else {
    buf[pos++] = 0xcb
    f64[0] = v
    if (littleEndian) for (let i = 7; i >= 0; i--) buf[pos++] = f64Bytes[i] as number
    else for (let i = 0; i < 8; i++) buf[pos++] = f64Bytes[i] as number
  }
}

function writeString(s: string): void {
  const n = s.length
  // The header is sized for the UTF-16 length first (a lower bound of the UTF-8 length) and moved on if need be, as msgpackr does.
  const head = n < 0x20 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : 5
  room(head + n * 3)
  let len: number
  if (n < 0x40) {
    let p = pos + head
    for (let i = 0; i < n; i++) {
      let c = s.charCodeAt(i)
      if (c < 0x80) buf[p++] = c
      else if (c < 0x800) {
        buf[p++] = (c >> 6) | 0xc0
        buf[p++] = (c & 0x3f) | 0x80
      } else if ((c & 0xfc00) === 0xd800 && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        c = 0x10000 + ((c & 0x03ff) << 10) + (s.charCodeAt(i + 1) & 0x03ff)
        i++
        buf[p++] = (c >> 18) | 0xf0
        buf[p++] = ((c >> 12) & 0x3f) | 0x80
        buf[p++] = ((c >> 6) & 0x3f) | 0x80
        buf[p++] = (c & 0x3f) | 0x80
      } else if ((c & 0xf800) === 0xd800) {
        // A lone surrogate: U+FFFD, as TextEncoder (and msgpackr) write it.
        buf[p++] = 0xef
        buf[p++] = 0xbf
        buf[p++] = 0xbd
      } else {
        buf[p++] = (c >> 12) | 0xe0
        buf[p++] = ((c >> 6) & 0x3f) | 0x80
        buf[p++] = (c & 0x3f) | 0x80
      }
    }
    len = p - pos - head
  } else {
    len = utf8.encodeInto(s, buf.subarray(pos + head)).written
  }
  if (len < 0x20) {
    buf[pos++] = 0xa0 | len
  } else if (len < 0x100) {
    if (head < 2) buf.copyWithin(pos + 2, pos + 1, pos + 1 + len)
    buf[pos++] = 0xd9
    buf[pos++] = len
  } else if (len < 0x10000) {
    if (head < 3) buf.copyWithin(pos + 3, pos + head, pos + head + len)
    buf[pos++] = 0xda
    buf[pos++] = len >> 8
    buf[pos++] = len & 0xff
  } else {
    if (head < 5) buf.copyWithin(pos + 5, pos + head, pos + head + len)
    buf[pos++] = 0xdb
    buf[pos++] = len >>> 24
    buf[pos++] = (len >> 16) & 0xff
    buf[pos++] = (len >> 8) & 0xff
    buf[pos++] = len & 0xff
  }
  pos += len
}

function writeArray(a: unknown[]): void {
  const n = a.length
  room(5)
  if (n < 0x10) buf[pos++] = 0x90 | n
  else if (n < 0x10000) {
    buf[pos++] = 0xdc
    buf[pos++] = n >> 8
    buf[pos++] = n & 0xff
  } else {
    buf[pos++] = 0xdd
    buf[pos++] = n >>> 24
    buf[pos++] = (n >> 16) & 0xff
    buf[pos++] = (n >> 8) & 0xff
    buf[pos++] = n & 0xff
  }
  for (let i = 0; i < n; i++) write(a[i])
}

function writeMap(o: Record<string, unknown>): void {
  // Always map16, its size filled in after the keys (msgpackr writes plain objects so).
  room(3)
  buf[pos] = 0xde
  // From the message's start: the pool may be replaced while the values are written.
  const at = pos + 1 - start
  pos += 3
  let size = 0
  for (const k in o) {
    if (typeof o.hasOwnProperty !== 'function' || Object.prototype.hasOwnProperty.call(o, k)) {
      writeString(k)
      write(o[k])
      size++
    }
  }
  if (size > 0xffff) throw bail
  buf[start + at] = size >> 8
  buf[start + at + 1] = size & 0xff
}
