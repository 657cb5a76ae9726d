// Update frames encoded once for many subscriptions. An `update` differs from one subscriber to the
// next only by its `id` when they get the same content (a txn fanned out to everyone watching the
// key), so the rest of the message — the body — is encoded once and each frame is the body with
// `type` and `id` put in front. The frame is byte for byte a frame `encode(updateToWire(id, u))`
// could have made (the same fields, in another order), so receivers see no difference.
import type { Update } from '@statecraft/core'
import { jsonCodec, msgpackCodec, type Frame } from './codec.ts'
import type { Encoding } from './version.ts'
import { updateToWire } from './wire.ts'

/** An update's frame without `type` and `id`: MessagePack bytes, or JSON text. */
export type UpdateBody = { readonly kind: 'msgpack'; readonly bytes: Uint8Array; readonly head: number; readonly count: number } | { readonly kind: 'json'; readonly text: string }

/**
 * Encodes the body of `u` for frames of `encoding`. A MessagePack body that must go as JSON (a lone
 * surrogate, a `__proto__` key: see the codec) is JSON text, as the codec would send it.
 */
export function encodeUpdateBody(u: Update, encoding: Encoding): UpdateBody {
  const { type: _t, id: _i, ...body } = updateToWire(0, u)
  const f = (encoding === 'msgpack' ? msgpackCodec : jsonCodec).encode(body)
  if (typeof f === 'string') return { kind: 'json', text: f }
  // A map header (msgpackr writes map16 for plain objects; fixmap and map32 are read too).
  const b0 = f[0] as number
  if ((b0 & 0xf0) === 0x80) return { kind: 'msgpack', bytes: f, head: 1, count: b0 & 0x0f }
  if (b0 === 0xde) return { kind: 'msgpack', bytes: f, head: 3, count: ((f[1] as number) << 8) | (f[2] as number) }
  if (b0 === 0xdf) return { kind: 'msgpack', bytes: f, head: 5, count: new DataView(f.buffer, f.byteOffset, 5).getUint32(1) }
  throw new Error(`an update body encoded to a MessagePack ${b0.toString(16)} instead of a map`)
}

// "type", "update", "id" as MessagePack fixstrs.
const TYPE_UPDATE_ID = Uint8Array.from([0xa4, ...ascii('type'), 0xa6, ...ascii('update'), 0xa2, ...ascii('id')])

function ascii(s: string): number[] {
  return Array.from(s, c => c.charCodeAt(0))
}

/** The MessagePack encoding of a request id (a non-negative safe integer). */
function packId(id: number): number[] {
  if (id < 0x80) return [id]
  if (id <= 0xff) return [0xcc, id]
  if (id <= 0xffff) return [0xcd, id >>> 8, id & 0xff]
  if (id <= 0xffffffff) return [0xce, id >>> 24, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff]
  const out = new Uint8Array(9)
  out[0] = 0xcb
  new DataView(out.buffer).setFloat64(1, id)
  return Array.from(out)
}

/** The frame of `update` `id` with this body. */
export function updateFrame(id: number, body: UpdateBody): Frame {
  if (body.kind === 'json') return `{"type":"update","id":${id},${body.text.slice(1)}`
  const idBytes = packId(id)
  const count = body.count + 2
  const rest = body.bytes.length - body.head
  const out = new Uint8Array(5 + TYPE_UPDATE_ID.length + idBytes.length + rest)
  let p = 0
  if (count <= 0xffff) {
    out[p++] = 0xde
    out[p++] = count >>> 8
    out[p++] = count & 0xff
  } else {
    out[p++] = 0xdf
    new DataView(out.buffer).setUint32(p, count)
    p += 4
  }
  out.set(TYPE_UPDATE_ID, p)
  p += TYPE_UPDATE_ID.length
  for (const b of idBytes) out[p++] = b
  out.set(body.bytes.subarray(body.head), p)
  p += rest
  return out.subarray(0, p)
}
