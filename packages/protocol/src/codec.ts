// Frame codecs. Binary frames are MessagePack (standard maps, no msgpackr extensions); text frames
// are JSON, with binary values as {"$b": base64}. A receiver picks the codec by frame type.
import { Packr, Unpackr } from 'msgpackr'
import { ownString } from '@statecraft/core'
import { fromBase64, toBase64 } from './base64.ts'
import { BAIL, readMsgpack } from './msgpack-read.ts'
import { writeMsgpack } from './msgpack-write.ts'
import type { Encoding } from './version.ts'

/** One WebSocket message: text (JSON) or binary (MessagePack). */
export type Frame = string | Uint8Array

export interface Codec {
  readonly encoding: Encoding
  encode(msg: object): Frame
  /** The decoded, unvalidated message. Throws on a malformed frame. */
  decode(frame: Frame): unknown
}

const DOLLAR = 36

/** The only key of `o`, when it has exactly one and it starts with `$`. */
function soleDollarKey(o: object): string | undefined {
  let only: string | undefined
  for (const k in o) {
    if (only !== undefined) return undefined
    only = k
  }
  return only !== undefined && only.charCodeAt(0) === DOLLAR ? only : undefined
}

// JSON escaping, applied to every object in a message: a Uint8Array becomes {"$b": base64}; an
// object whose only key starts with `$` gets one more `$` in front of it, so {"$b": …} written by
// a user never reads back as binary. Decoding undoes both.
function jsonReplacer(_k: string, v: unknown): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v
  if (v instanceof Uint8Array) return { $b: toBase64(v) }
  const k = soleDollarKey(v)
  return k === undefined ? v : { ['$' + k]: (v as Record<string, unknown>)[k] }
}

function jsonReviver(_k: string, v: unknown): unknown {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return v
  const k = soleDollarKey(v)
  if (k === undefined) return v
  const inner = (v as Record<string, unknown>)[k]
  if (k === '$b') {
    if (typeof inner !== 'string') throw new Error('{"$b": …} must hold a base64 string')
    return fromBase64(inner)
  }
  if (k.charCodeAt(1) === DOLLAR) return { [k.slice(1)]: inner }
  return v
}

const decoder = new TextDecoder('utf-8', { fatal: true })

export const jsonCodec: Codec = {
  encoding: 'json',
  encode: msg => JSON.stringify(msg, jsonReplacer),
  decode(frame) {
    const text = typeof frame === 'string' ? frame : decoder.decode(frame)
    // Only a frame with a `"$` in it can hold an escaped object: the rest skip the (slow) reviver.
    const escaped = text.includes('"$') || text.includes('\\u0024')
    return (escaped ? JSON.parse(text, jsonReviver) : JSON.parse(text)) as unknown
  },
}

const msgpackOptions = {
  useRecords: false,
  mapsAsObjects: true,
  moreTypes: false,
  structuredClone: false,
  int64AsType: 'number',
} as const
const packr = new Packr(msgpackOptions)
const unpackr = new Unpackr(msgpackOptions)

/** True when the bytes hold U+FFFD (EF BF BD), which is what UTF-8 encoding makes of a lone surrogate. */
function hasReplacementChar(b: Uint8Array): boolean {
  for (let i = b.indexOf(0xef); i !== -1 && i + 2 < b.length; i = b.indexOf(0xef, i + 1)) {
    if (b[i + 1] === 0xbf && b[i + 2] === 0xbd) return true
  }
  return false
}

/** "__proto__" as a MessagePack fixstr: msgpackr reads such a key back as "__proto_" (to keep prototypes safe). */
const PROTO = [0xa9, ...Array.from('__proto__', c => c.charCodeAt(0))]

function hasProtoString(b: Uint8Array): boolean {
  for (let i = b.indexOf(0xa9); i !== -1 && i + PROTO.length <= b.length; i = b.indexOf(0xa9, i + 1)) {
    let j = 1
    while (j < PROTO.length && b[i + j] === PROTO[j]) j++
    if (j === PROTO.length) return true
  }
  return false
}

const isWellFormed: (s: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === 'function'
    ? s => (s as string & { isWellFormed(): boolean }).isWellFormed()
    : s => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s)

/** True when every string and key in `v` is well-formed UTF-16 (so UTF-8 carries it unchanged). */
function allWellFormed(v: unknown): boolean {
  if (typeof v === 'string') return isWellFormed(v)
  if (typeof v !== 'object' || v === null || v instanceof Uint8Array) return true
  if (Array.isArray(v)) return v.every(allWellFormed)
  for (const k in v) if (!isWellFormed(k) || !allWellFormed((v as Record<string, unknown>)[k])) return false
  return true
}

export const msgpackCodec: Codec = {
  encoding: 'msgpack',
  encode(msg) {
    // The common messages take the lean writer (the same bytes, less code to run); the rest msgpackr.
    let bytes = writeMsgpack(msg)
    if (bytes === BAIL) bytes = packr.pack(msg)
    // MessagePack strings are UTF-8, which cannot hold a lone surrogate; JSON escapes it as \uXXXX.
    // And msgpackr renames a "__proto__" key. Such a message goes as a JSON text frame instead
    // (receivers pick the codec by frame type, so either may come at any time).
    if ((hasReplacementChar(bytes) && !allWellFormed(msg)) || hasProtoString(bytes)) return jsonCodec.encode(msg)
    return bytes
  },
  decode(frame) {
    if (typeof frame === 'string') throw new Error('a MessagePack frame must be binary')
    // A plain Uint8Array in gives plain Uint8Array values out (a Node Buffer would give Buffers).
    const bytes = frame.constructor === Uint8Array ? frame : new Uint8Array(frame.buffer, frame.byteOffset, frame.byteLength)
    // The common frames (no binary or extensions) take the lean reader, whose strings are their own;
    // the rest take msgpackr, whose strings may be slices of the frame's (see ownStrings).
    const v = readMsgpack(bytes)
    return v !== BAIL ? v : ownStrings(unpackr.unpack(bytes))
  },
}

/**
 * `v` with every string of 13+ units replaced by a copy, in place. msgpackr's native extractor
 * decodes a frame's strings as one string and hands out slices of it, and V8 keeps a sliced
 * string's parent alive as long as the slice: a 20-character title in a store's hot doc, or an
 * insert in its op log, would hold its whole frame's text (seen as the LevelDB store's memory
 * after a trace replay: op-log inserts holding ~2–4 KB frame strings each). See core's `ownString`.
 */
function ownStrings(v: unknown): unknown {
  if (typeof v === 'string') return ownString(v)
  if (typeof v !== 'object' || v === null || ArrayBuffer.isView(v)) return v
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = ownStrings(v[i])
    return v
  }
  const o = v as Record<string, unknown>
  for (const k in o) o[k] = ownStrings(o[k])
  return o
}

export const codecs: Record<Encoding, Codec> = { json: jsonCodec, msgpack: msgpackCodec }

/** The codec a received frame is read with: text frames are JSON, binary frames MessagePack. */
export const codecOf = (frame: Frame): Codec => (typeof frame === 'string' ? jsonCodec : msgpackCodec)

/** Encodes a message as a frame of `encoding` (default msgpack). */
export const encode = (msg: object, encoding: Encoding = 'msgpack'): Frame => codecs[encoding].encode(msg)

/** Decodes a frame by its type, without validating it. Throws on malformed input. */
export const decode = (frame: Frame): unknown => codecOf(frame).decode(frame)

/** The size a frame counts as against `maxFrameBytes`: bytes, or UTF-16 code units of a string. */
export const frameSize = (frame: Frame): number => (typeof frame === 'string' ? frame.length : frame.byteLength)
