// LevelDB key layout. Statecraft keys are ordered by UTF-16 code unit; LevelDB orders bytes. Keys
// are written in an order-preserving encoding: each UTF-16 code unit on its own, as UTF-8 would
// write that code point (so lone surrogates survive, and a supplementary character, stored as two
// surrogate units 0xD800–0xDFFF, sorts below U+E000–U+FFFF exactly as in UTF-16), except that the
// units 0x00 and 0x01 are escaped as 01 01 and 01 02. Encoded keys never hold a 0x00 byte, so 0x00
// can end a key inside a longer record key. For keys without surrogates or U+0000/U+0001 the
// encoding is plain UTF-8.

/** Record namespaces: the first byte of every LevelDB key. */
export const NS = {
  meta: 0x4d, // 'M' + name → JSON
  doc: 0x44, // 'D' + key → snapshot of an existing doc (see codec.ts)
  op: 0x50, // 'P' + key + 00 + version → an OT op applied after the snapshot
  tomb: 0x58, // 'X' + key → version of the txn that deleted the key
  tombByVersion: 0x59, // 'Y' + version + key → '' (finds old tombstones to purge)
  log: 0x4c, // 'L' + version → txn record
  seq: 0x53, // 'S' + clientId + 00 + seq → version
  seqFloor: 0x46, // 'F' + clientId → seqs at or below this are forgotten
} as const

// oxlint-disable-next-line no-control-regex -- U+0000 and U+0001 are exactly what needs escaping
const NEEDS_SLOW = /[\u0000\u0001\uD800-\uDFFF]/

/** Bytes of the ordered encoding of `k`. */
export function encodedLength(k: string): number {
  if (!NEEDS_SLOW.test(k)) return Buffer.byteLength(k, 'utf8')
  let n = 0
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i)
    n += c < 0x02 ? 2 : c < 0x80 ? 1 : c < 0x800 ? 2 : 3
  }
  return n
}

/** Writes the ordered encoding of `k` into `buf` at `off`; returns the offset after it. */
export function writeKey(buf: Buffer, off: number, k: string): number {
  if (!NEEDS_SLOW.test(k)) return off + buf.write(k, off, 'utf8')
  for (let i = 0; i < k.length; i++) {
    const c = k.charCodeAt(i)
    if (c < 0x02) {
      buf[off++] = 0x01
      buf[off++] = c + 1
    } else if (c < 0x80) buf[off++] = c
    else if (c < 0x800) {
      buf[off++] = 0xc0 | (c >> 6)
      buf[off++] = 0x80 | (c & 0x3f)
    } else {
      buf[off++] = 0xe0 | (c >> 12)
      buf[off++] = 0x80 | ((c >> 6) & 0x3f)
      buf[off++] = 0x80 | (c & 0x3f)
    }
  }
  return off
}

/** Reads a key written by `writeKey` from buf[start, end). */
export function readKey(buf: Buffer, start: number, end: number): string {
  let plain = true
  for (let i = start; i < end; i++) {
    const b = buf[i] as number
    if (b === 0x01 || b === 0xed) {
      plain = false
      break
    }
  }
  if (plain) return buf.toString('utf8', start, end)
  let out = ''
  let i = start
  while (i < end) {
    const b = buf[i] as number
    let c: number
    if (b === 0x01) {
      c = (buf[i + 1] as number) - 1
      i += 2
    } else if (b < 0x80) {
      c = b
      i += 1
    } else if (b < 0xe0) {
      c = ((b & 0x1f) << 6) | ((buf[i + 1] as number) & 0x3f)
      i += 2
    } else {
      c = ((b & 0x0f) << 12) | (((buf[i + 1] as number) & 0x3f) << 6) | ((buf[i + 2] as number) & 0x3f)
      i += 3
    }
    out += String.fromCharCode(c)
  }
  return out
}

export function writeU64(buf: Buffer, off: number, n: number): number {
  buf.writeUInt32BE(Math.floor(n / 0x1_0000_0000), off)
  buf.writeUInt32BE(n >>> 0, off + 4)
  return off + 8
}

export function readU64(buf: Buffer, off: number): number {
  return buf.readUInt32BE(off) * 0x1_0000_0000 + buf.readUInt32BE(off + 4)
}

/** ns + key */
export function keyed(ns: number, k: string): Buffer {
  const buf = Buffer.allocUnsafe(1 + encodedLength(k))
  buf[0] = ns
  writeKey(buf, 1, k)
  return buf
}

/** ns + key + 00 + n (n = 8 bytes, big-endian) */
export function keyedNumber(ns: number, k: string, n: number): Buffer {
  const len = encodedLength(k)
  const buf = Buffer.allocUnsafe(1 + len + 9)
  buf[0] = ns
  writeKey(buf, 1, k)
  buf[1 + len] = 0
  writeU64(buf, 2 + len, n)
  return buf
}

/** The bounds [gte, lt) of every `keyedNumber(ns, k, *)`. */
export function keyedNumberRange(ns: number, k: string): { gte: Buffer; lt: Buffer } {
  const gte = keyed(ns, k)
  const withZero = Buffer.concat([gte, Buffer.of(0)])
  const lt = Buffer.concat([gte, Buffer.of(1)])
  return { gte: withZero, lt }
}

/** ns + n */
export function numbered(ns: number, n: number): Buffer {
  const buf = Buffer.allocUnsafe(9)
  buf[0] = ns
  writeU64(buf, 1, n)
  return buf
}

/** ns + n + key */
export function numberedKey(ns: number, n: number, k: string): Buffer {
  const buf = Buffer.allocUnsafe(9 + encodedLength(k))
  buf[0] = ns
  writeU64(buf, 1, n)
  writeKey(buf, 9, k)
  return buf
}

export const metaKey = (name: string): Buffer => Buffer.concat([Buffer.of(NS.meta), Buffer.from(name, 'latin1')])

/** The first byte string after every key of namespace `ns`. */
export const nsStart = (ns: number): Buffer => Buffer.of(ns)
export const nsEnd = (ns: number): Buffer => Buffer.of(ns + 1)

export const docKey = (k: string): Buffer => keyed(NS.doc, k)
export const tombKey = (k: string): Buffer => keyed(NS.tomb, k)
export const tombByVersionKey = (v: number, k: string): Buffer => numberedKey(NS.tombByVersion, v, k)
export const opKey = (k: string, v: number): Buffer => keyedNumber(NS.op, k, v)
export const logKey = (v: number): Buffer => numbered(NS.log, v)
export const seqKey = (client: string, seq: number): Buffer => keyedNumber(NS.seq, client, seq)
export const seqFloorKey = (client: string): Buffer => keyed(NS.seqFloor, client)

/** The doc key range for Statecraft keys in [lo, hi). */
export function docRange(lo: string, hi: string | undefined): { gte: Buffer; lt: Buffer } {
  return { gte: keyed(NS.doc, lo), lt: hi === undefined ? nsEnd(NS.doc) : keyed(NS.doc, hi) }
}

/** The key of an op record `P key 00 version`. */
export const opRecordKey = (buf: Buffer): string => readKey(buf, 1, buf.length - 9)
export const opRecordVersion = (buf: Buffer): number => readU64(buf, buf.length - 8)
