// Record values. JSON text for JSON (V8's JSON is fast and round-trips exactly what the store
// accepts, `__proto__` keys and lone surrogates included), raw bytes for binary values, and a
// small container (JSON header + binary blobs) for records that may hold both.
import { StatecraftError, freezeJson } from '@statecraft/core'
import type { Json, Key, Op, Txn, Value } from '@statecraft/core'
import { readU64, writeU64 } from './keys.ts'

const TAG_JSON = 1
const TAG_BINARY = 2

const corrupt = (what: string): StatecraftError => new StatecraftError('internal', `corrupt ${what} record in the LevelDB store`)

/** A doc snapshot: [tag][u64 version of the snapshot][JSON text | bytes]. */
export function encodeDoc(version: number, value: Value): Buffer {
  if (value instanceof Uint8Array) {
    const buf = Buffer.allocUnsafe(9 + value.byteLength)
    buf[0] = TAG_BINARY
    writeU64(buf, 1, version)
    buf.set(value, 9)
    return buf
  }
  const text = JSON.stringify(value)
  const len = Buffer.byteLength(text, 'utf8')
  const buf = Buffer.allocUnsafe(9 + len)
  buf[0] = TAG_JSON
  writeU64(buf, 1, version)
  buf.write(text, 9, 'utf8')
  return buf
}

export function decodeDoc(buf: Buffer): { version: number; value: Value } {
  const version = readU64(buf, 1)
  if (buf[0] === TAG_BINARY) return { version, value: copyBytes(buf, 9, buf.length) }
  if (buf[0] !== TAG_JSON) throw corrupt('doc')
  return { version, value: freezeJson(JSON.parse(buf.toString('utf8', 9)) as Json) }
}

/** A fresh Uint8Array (not a Buffer view of LevelDB's memory). */
function copyBytes(buf: Buffer, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start)
  out.set(buf.subarray(start, end))
  return out
}

/** Ops inside JSON headers: [0, json] set, [1, blob] binary set, [2] del, [3, type, op] OT. */
type EncodedOp = [0, Json] | [1, number] | [2] | [3, string, Json]

function encodeOp(op: Op, blobs: Uint8Array[]): EncodedOp {
  switch (op.type) {
    case 'set':
      if (op.value instanceof Uint8Array) {
        blobs.push(op.value)
        return [1, blobs.length - 1]
      }
      return [0, op.value]
    case 'del':
      return [2]
    default:
      return [3, op.type, op.op as Json]
  }
}

function decodeOp(e: EncodedOp, blobs: Uint8Array[]): Op {
  switch (e[0]) {
    case 0:
      return { type: 'set', value: e[1] }
    case 1: {
      const b = blobs[e[1]]
      if (b === undefined) throw corrupt('log')
      return { type: 'set', value: b }
    }
    case 2:
      return { type: 'del' }
    case 3:
      return { type: e[1], op: e[2] } as Op
    default:
      throw corrupt('op')
  }
}

/** An OT op record (after a snapshot): JSON of the encoded op. OT ops never hold binary. */
export function encodeOpRecord(op: Op): Buffer {
  return Buffer.from(JSON.stringify(encodeOp(op, [])), 'utf8')
}

export function decodeOpRecord(buf: Buffer): Op {
  return decodeOp(JSON.parse(buf.toString('utf8')) as EncodedOp, [])
}

export interface LogRecord {
  txn: Txn
  /** Per key, the op that takes the value after the txn back to the value before it. */
  undo: Map<Key, Op>
  meta: Record<string, unknown> | undefined
  /** ms since the epoch when the txn was committed. */
  ts: number
}

interface LogHeader {
  t: [Key, EncodedOp][]
  u: [Key, EncodedOp][]
  m?: Record<string, unknown>
  b?: number[]
}

/** [f64 ts][u32 header length][header JSON][blobs…] */
export function encodeLog(r: LogRecord): Buffer {
  const blobs: Uint8Array[] = []
  const header: LogHeader = { t: [], u: [] }
  for (const [k, op] of r.txn) header.t.push([k, encodeOp(op, blobs)])
  for (const [k, op] of r.undo) header.u.push([k, encodeOp(op, blobs)])
  if (r.meta !== undefined) header.m = r.meta
  if (blobs.length > 0) header.b = blobs.map(b => b.byteLength)
  const text = JSON.stringify(header)
  const hlen = Buffer.byteLength(text, 'utf8')
  let total = 12 + hlen
  for (const b of blobs) total += b.byteLength
  const buf = Buffer.allocUnsafe(total)
  buf.writeDoubleBE(r.ts, 0)
  buf.writeUInt32BE(hlen, 8)
  buf.write(text, 12, 'utf8')
  let off = 12 + hlen
  for (const b of blobs) {
    buf.set(b, off)
    off += b.byteLength
  }
  return buf
}

export const logTimestamp = (buf: Buffer): number => buf.readDoubleBE(0)

/** Decodes a log record; ops and meta come back deeply frozen. */
export function decodeLog(buf: Buffer): LogRecord {
  const ts = buf.readDoubleBE(0)
  const hlen = buf.readUInt32BE(8)
  const header = JSON.parse(buf.toString('utf8', 12, 12 + hlen)) as LogHeader
  const blobs: Uint8Array[] = []
  let off = 12 + hlen
  for (const n of header.b ?? []) {
    blobs.push(copyBytes(buf, off, off + n))
    off += n
  }
  const txn: Txn = new Map()
  for (const [k, e] of header.t) txn.set(k, freezeOp(decodeOp(e, blobs)))
  const undo = new Map<Key, Op>()
  for (const [k, e] of header.u) undo.set(k, freezeOp(decodeOp(e, blobs)))
  const meta = header.m === undefined ? undefined : (freezeJson(header.m as Json) as Record<string, unknown>)
  return { txn, undo, meta, ts }
}

export function freezeOp(op: Op): Op {
  if (op.type === 'set') {
    if (!(op.value instanceof Uint8Array)) freezeJson(op.value)
  } else if (op.type !== 'del') freezeJson(op.op as Json)
  return Object.freeze(op)
}

export const encodeU64 = (n: number): Buffer => {
  const b = Buffer.allocUnsafe(8)
  writeU64(b, 0, n)
  return b
}
export const decodeU64 = (b: Buffer): number => readU64(b, 0)

export const encodeJson = (v: Json): Buffer => Buffer.from(JSON.stringify(v), 'utf8')
export const decodeJson = (b: Buffer): Json => JSON.parse(b.toString('utf8')) as Json
